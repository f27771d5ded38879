/**
 * Honest progress for a registration waiting for its CREATE: how many registrations are ahead of it
 * in the one queue every workshop shares (they share the engine), the step its job is at, and an
 * estimate only when recent CREATE jobs give enough samples to make one. The status page and the
 * status API both show `queueProgress`; nothing is ever refused for the queue.
 */
import { median } from '../capacity/capacity.js';
import { type CreateQueueFacts, createQueueFacts } from '../jobs/queries.js';
import type { Translator } from '../i18n/i18n.js';
import type { Db } from '../store/db.js';

/** Below this many finished CREATE jobs there is no estimate: "about X s" from one or two runs would be a guess. */
export const MIN_SAMPLES = 3;
/** How many of the latest finished CREATE jobs the median is taken over. */
export const SAMPLES = 20;

export interface QueueProgress {
  /** the CREATE job waits (queued) or runs (running) */
  state: 'queued' | 'running';
  /** CREATE jobs queued or running that were created before this one */
  ahead: number;
  /** the step running now, null while queued or between steps */
  step: string | null;
  /** the same step as a participant reads it ("starting your JupyterLab") */
  stepLabel: string | null;
  /** seconds until ready, about; null when there are too few samples or the lifecycle is paused */
  estimateSeconds: number | null;
  /** how many finished CREATE jobs the estimate comes from */
  samples: number;
  /** the lifecycle is paused (lifecycle.paused): jobs wait until an operator resumes it */
  paused: boolean;
}

/** A step of a CREATE (../lifecycle/create.ts) as a participant reads it (`portal.queue.step.<step>`); an unknown one by its name. */
const stepLabel = (step: string, tr: Translator) => (tr.has(`portal.queue.step.${step}`) ? tr.t(`portal.queue.step.${step}`) : step);

/**
 * Seconds until a CREATE is done, about, from the median of recent CREATE durations: a queued job
 * starts once the `ahead` before it have gone through `concurrency` slots, then takes one median; a
 * running one has the rest of its median left (at least a second: it is not done yet). Null below
 * `minSamples` durations.
 */
export function estimateSeconds(
  facts: Pick<CreateQueueFacts, 'state' | 'ahead' | 'startedAt' | 'recentSeconds'>,
  concurrency: number,
  now: number,
  minSamples = MIN_SAMPLES,
): number | null {
  if (facts.recentSeconds.length < minSamples) return null;
  const m = median(facts.recentSeconds)!;
  if (facts.state === 'running') {
    const elapsed = facts.startedAt ? (now - Date.parse(facts.startedAt)) / 1000 : 0;
    return Math.max(1, Math.round(m - elapsed));
  }
  return Math.max(1, Math.round(m * (facts.ahead / Math.max(1, concurrency) + 1)));
}

/** The progress of a registration's CREATE, null when it has none queued or running. */
export function queueProgress(db: Db, registrationId: number, lifecycle: { concurrency: number; paused: boolean }, tr: Translator, now = Date.now()): QueueProgress | null {
  const facts = createQueueFacts(db, registrationId, SAMPLES);
  if (!facts) return null;
  return {
    state: facts.state,
    ahead: facts.ahead,
    step: facts.step,
    stepLabel: facts.step === null ? null : stepLabel(facts.step, tr),
    estimateSeconds: lifecycle.paused ? null : estimateSeconds(facts, lifecycle.concurrency, now),
    samples: facts.recentSeconds.length,
    paused: lifecycle.paused,
  };
}

/**
 * The sentence the status page shows, in its language: "2 registrations ahead of you; ready in about
 * 12 s." A known step is said in that language (`portal.queue.step.<step>`), an unknown one by its name.
 */
export function describeQueue(p: QueueProgress, t: Translator['t']): string {
  const parts: string[] = [];
  const step = p.stepLabel;
  if (p.state === 'running') parts.push(step ? t('portal.queue.preparingStep', { step }) : t('portal.queue.preparing'));
  else if (p.ahead === 0) parts.push(t('portal.queue.next'));
  else parts.push(t('portal.queue.ahead', { count: p.ahead }));
  if (p.paused) parts.push(t('portal.queue.paused'));
  else if (p.estimateSeconds !== null) {
    const s = p.estimateSeconds;
    parts.push(s < 90 ? t('portal.queue.readyInSeconds', { seconds: s }) : t('portal.queue.readyInMinutes', { minutes: Math.round(s / 60) }));
  }
  return t('portal.queue.sentence', { parts: parts.join(t('portal.queue.separator')) });
}
