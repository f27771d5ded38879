/**
 * The workshop clock, pure: how the time left reads in the top bar, how urgent it looks, and which
 * warning is due. The numbers match the service's reminder (one hour) and its last call.
 */
import { english, type Trans } from './trans';

/** Below this many seconds the clock turns amber. */
export const WARNING_SECONDS = 60 * 60;
/** Below this many seconds the clock turns red and the student is told to save. */
export const CRITICAL_SECONDS = 10 * 60;

export type Urgency = 'calm' | 'warning' | 'critical' | 'over';
export type Alert = 'ten-minutes' | 'ended';

/** `1:05:09` with hours, `9:59` without; never negative. */
export function formatRemaining(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** The same time in words, for screen readers and the tooltip: "1 hour 5 minutes left". */
export function describeRemaining(seconds: number, trans: Trans = english): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s === 0) return trans.__('time is up');
  if (s < 60) return trans.__('less than a minute left');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [h ? trans._n('%1 hour', '%1 hours', h) : '', m ? trans._n('%1 minute', '%1 minutes', m) : ''].filter(Boolean);
  return trans.__('%1 left', parts.join(' '));
}

export function urgency(seconds: number): Urgency {
  if (seconds <= 0) return 'over';
  if (seconds <= CRITICAL_SECONDS) return 'critical';
  if (seconds <= WARNING_SECONDS) return 'warning';
  return 'calm';
}

/**
 * The warning to show now, if any: the end once time is up or the service says the workshop is over
 * (it may end early), else the ten-minute call inside the last ten minutes; each at most once
 * (`shown` holds those already given).
 */
export function dueAlert(seconds: number, ended: boolean, shown: ReadonlySet<Alert>): Alert | null {
  if (ended || seconds <= 0) return shown.has('ended') ? null : 'ended';
  if (seconds <= CRITICAL_SECONDS && !shown.has('ten-minutes')) return 'ten-minutes';
  return null;
}

/**
 * Warnings given that are due again: the ten-minute call once more time came (the participant's
 * extension or an admin's moved the deadline back out of the last ten minutes).
 */
export function staleAlerts(seconds: number, shown: ReadonlySet<Alert>): Alert[] {
  return seconds > CRITICAL_SECONDS && shown.has('ten-minutes') ? ['ten-minutes'] : [];
}

/** How often to ask the service in the last minute, so that a late extension is known before zero. */
export const LAST_MINUTE_ASK_MS = 10_000;

/**
 * Whether to ask the service now, beyond its regular poll: in the last minute (an admin may extend
 * the workshop), every LAST_MINUTE_ASK_MS.
 */
export function askNow(seconds: number, msSinceAsked: number): boolean {
  return seconds > 0 && seconds <= 60 && msSinceAsked >= LAST_MINUTE_ASK_MS;
}

/**
 * Milliseconds from the service's clock to the deadline, as it answered: the page counts down from
 * this with its own elapsed time, so a student's wrong clock does not matter.
 */
export function msUntil(deadlineAt: string, serviceNow: string): number {
  return Math.max(0, Date.parse(deadlineAt) - Date.parse(serviceNow));
}

/** Whole seconds to show for `ms` left: rounded up, so 0:00 shows only when time is up. */
export function secondsShown(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}
