/**
 * The four verbs for the job engine, each a plan of its own with its failure path:
 * create.ts, cleanup.ts, reset.ts, purge.ts; what they share is in steps.ts.
 */
import type { Plan, RetryPolicy } from '../jobs/engine.js';
import type { Job, Verb } from '../jobs/store.js';
import { cleanupPlan } from './cleanup.js';
import { createPlan } from './create.js';
import { purgePlan } from './purge.js';
import { resetPlan } from './reset.js';
import { type LifecycleDeps, lifecycleKit, type VerbPlan } from './steps.js';

export { isTransient, offsetIp, type Credentials, type LifecycleDeps, type Messenger } from './steps.js';

export interface Lifecycle {
  plans: Record<Verb, Plan>;
  /** each verb's attempts and backoff */
  retryPolicy(verb: Verb): RetryPolicy;
  /** the engine gave up on a job: its verb decides what follows */
  gaveUp(job: Job, error: Error): void;
}

export function lifecycle(deps: LifecycleDeps): Lifecycle {
  const kit = lifecycleKit(deps);
  const verbs: Record<Verb, VerbPlan> = { CREATE: createPlan(kit), CLEANUP: cleanupPlan(kit), RESET: resetPlan(kit), PURGE: purgePlan(kit) };
  return {
    plans: { CREATE: verbs.CREATE.steps, CLEANUP: verbs.CLEANUP.steps, RESET: verbs.RESET.steps, PURGE: verbs.PURGE.steps },
    retryPolicy: (verb) => verbs[verb].retry,
    gaveUp: (job, error) => verbs[job.verb].gaveUp(job, error),
  };
}
