/**
 * More time, asked by the participant (from the lab's clock or the status page). Granted when the
 * workshop's wod.yml has `extend`, the clock runs, the participant has not used up `times`, little
 * time is left, and the seat is not needed by someone waiting; refused otherwise, with the reason
 * in words. "Little time left" is the reminder window (timers.reminderMinutes): asked earlier, an
 * extension would only hoard time. "Someone waiting": the workshop has no free seat (as the catalog
 * counts them) and people are arriving for it: a warm event of it runs now (a class expected), or a
 * registration of it waits for its deployment. The grant is the admins' extension
 * (Registrations.extend: the deadline move and its audit entry), as the participant, counted.
 */
import type { Actor } from '../audit/audit.js';
import { getWorkshop } from '../catalog/catalog.js';
import type { Db } from '../store/db.js';
import type { RegistrationView, Registrations } from './registrations.js';
import { CLOCK_RUNNING, DEPLOYING, type RegistrationState, sqlList } from './states.js';

export const EXTENSION_REFUSALS = ['not-allowed', 'not-running', 'already-extended', 'too-early', 'seat-needed'] as const;
export type ExtensionRefusal = (typeof EXTENSION_REFUSALS)[number];

/** What the rule looks at, read by `extensionFacts`. */
export interface ExtensionFacts {
  /** wod.yml `extend`; null: the workshop allows none */
  extend: { minutes: number; times: number } | null;
  state: RegistrationState;
  deadlineAt: string | null;
  /** extensions the participant already took */
  used: number;
  /** seats a registration could take now */
  freeSeats: number;
  /** warm-event seats running now plus registrations waiting for their deployment */
  arriving: number;
}

export type ExtensionAnswer = { allowed: true; minutes: number } | { allowed: false; code: ExtensionRefusal; reason: string; minutes: number | null };

const times = (n: number) => (n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`);

/** The rule, pure. `windowMinutes`: extensions are asked in the last so many minutes (the reminder's). */
export function extensionRule(f: ExtensionFacts, windowMinutes: number, now: number): ExtensionAnswer {
  const refuse = (code: ExtensionRefusal, reason: string): ExtensionAnswer => ({ allowed: false, code, reason, minutes: f.extend?.minutes ?? null });
  if (!f.extend) return refuse('not-allowed', 'this workshop does not allow more time');
  if (!(CLOCK_RUNNING as readonly string[]).includes(f.state) || !f.deadlineAt) return refuse('not-running', `your workshop's clock is not running (${f.state})`);
  if (f.used >= f.extend.times) {
    return refuse('already-extended', `you already had more time ${times(f.used)}; this workshop allows it ${times(f.extend.times)}`);
  }
  if (Date.parse(f.deadlineAt) - now > windowMinutes * 60_000) return refuse('too-early', `too early: ask in the last ${windowMinutes} minutes`);
  if (f.freeSeats === 0 && f.arriving > 0) return refuse('seat-needed', 'the seat is needed: people are waiting for this workshop');
  return { allowed: true, minutes: f.extend.minutes };
}

export function extensionFacts(db: Db, registrationId: number, now = Date.now()): ExtensionFacts | null {
  const r = db
    .prepare(
      `SELECT r.state, r.deadline_at AS deadlineAt, r.extensions_used AS used, r.workshop_id AS workshopId, w.folder FROM registrations r
         JOIN workshops w ON w.id = r.workshop_id WHERE r.id = ?`,
    )
    .get(registrationId) as { state: RegistrationState; deadlineAt: string | null; used: number; workshopId: number; folder: string } | undefined;
  const w = r && getWorkshop(db, r.folder);
  if (!r || !w) return null;
  const { n: arriving } = db
    .prepare(
      `SELECT (SELECT COALESCE(SUM(seats), 0) FROM warm_events WHERE workshop_id = @w AND starts_at <= @now AND ends_at > @now)
            + (SELECT COUNT(*) FROM registrations WHERE workshop_id = @w AND state IN (${sqlList(DEPLOYING)})) AS n`,
    )
    .get({ w: r.workshopId, now: new Date(now).toISOString() }) as { n: number };
  // Workshops imported before `extend` existed have none in their stored spec.
  return { extend: w.spec.extend ?? null, state: r.state, deadlineAt: r.deadlineAt, used: r.used, freeSeats: w.seats, arriving };
}

/** Whether an extension asked now would be granted, and why not (what /me and the status page show). */
export function extensionNow(db: Db, registrationId: number, windowMinutes: number, now = Date.now()): ExtensionAnswer | null {
  const facts = extensionFacts(db, registrationId, now);
  return facts && extensionRule(facts, windowMinutes, now);
}

export class ExtensionError extends Error {
  readonly status = 409;
  constructor(
    readonly code: ExtensionRefusal,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The participant asks: the rule and the grant in one transaction, so two asks at once cannot both
 * pass `times`, and the seat count cannot change in between. Refused: ExtensionError, nothing changed.
 */
export function askExtension(db: Db, registrations: Registrations, registrationId: number, actor: Actor, windowMinutes: number, now = Date.now()): RegistrationView {
  return db
    .transaction(() => {
      const answer = extensionNow(db, registrationId, windowMinutes, now);
      if (!answer) throw new Error(`there is no registration ${registrationId}`);
      if (!answer.allowed) throw new ExtensionError(answer.code, answer.reason);
      db.prepare('UPDATE registrations SET extensions_used = extensions_used + 1 WHERE id = ?').run(registrationId);
      return registrations.extend(registrationId, answer.minutes, actor);
    })
    .immediate();
}
