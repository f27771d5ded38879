/**
 * PURGE, the failure path of the others: server, processes, limits, lock (the directory's password too,
 * with `ldap: true`: a failed CREATE may have set it), home, release, with no hooks (then reported to
 * the api-db that ordered it). The registration, if still open, fails.
 *
 * Retried: a passing failure (the hub down or busy) up to twice lifecycle.maxAttempts, from 2 s doubling
 * to a minute; anything else fails at once. Gives up: the student is shown stuck, with the error, until an
 * admin retries (pool/pool.ts).
 */
import { directoryLockStep } from './directory.js';
import { limitsRemovedStep } from './limits.js';
import type { Kit, VerbPlan } from './steps.js';

export function purgePlan(kit: Kit): VerbPlan {
  return {
    steps: () => [kit.stopServer, kit.kill, limitsRemovedStep(kit), kit.lock, directoryLockStep(kit), kit.wipe, kit.release('failed'), kit.report],
    // nothing follows a PURGE but a stuck seat: it waits longer for a hub that is down
    retry: { maxAttempts: kit.retry.maxAttempts * 2, backoffMs: kit.retry.backoffMs },
    gaveUp: kit.stuck,
  };
}
