/**
 * RESET: directory (`ldap: true`: a new password nobody knows), reset hook, server, processes, limits, lock, home, release (then reported to the api-db that
 * ordered it): frees a student kept by a `reset: true` workshop, or makes any student clean.
 *
 * Retried: a passing failure (the hub down or busy) up to lifecycle.maxAttempts, from 2 s doubling
 * to a minute; anything else fails at once. Gives up: the student is shown stuck, with the error, until an
 * admin retries (pool/pool.ts).
 */
import { directoryLockStep } from './directory.js';
import { limitsRemovedStep } from './limits.js';
import type { Kit, VerbPlan } from './steps.js';

export function resetPlan(kit: Kit): VerbPlan {
  const steps = () => [
    // as the original, before the reset hook: a new password in the directory (ldap: true)
    directoryLockStep(kit),
    kit.step('reset-hook', async (s, ctx) => void (s.workshop && (await kit.hooks('reset', s, ctx)))),
    kit.stopServer,
    kit.kill,
    limitsRemovedStep(kit),
    kit.lock,
    kit.wipe,
    kit.release('cleaned'),
    kit.report,
  ];
  return { steps, retry: kit.retry, gaveUp: kit.stuck };
}
