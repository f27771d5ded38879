/**
 * CLEANUP: directory (`ldap: true`: a new password nobody knows), completion, cleanup hook, server, processes, lock, work archive, limits, home, release (then reported to the
 * api-db that ordered it). A workshop with `reset: true` keeps the student and its home until RESET.
 *
 * Retried: a passing failure (the hub down or busy) up to lifecycle.maxAttempts, from 2 s doubling
 * to a minute; anything else fails at once. Gives up: the student keeps its seat and is shown stuck, with the
 * error, until an admin retries (pool/pool.ts).
 */
import { checks } from '../content/checks.js';
import { completion } from '../content/completion.js';
import { directoryLockStep } from './directory.js';
import { limitsRemovedStep } from './limits.js';
import type { Kit, VerbPlan } from './steps.js';
import { workArchivedStep } from '../work/step.js';

export function cleanupPlan(kit: Kit): VerbPlan {
  const { db, files, step } = kit;
  const steps = () => [
    // as the original, first: a new password in the directory locks the participant out of the appliances
    directoryLockStep(kit),
    step('completion', async (s, ctx) => {
      if (!s.registration || !s.workshop) return;
      const notebooks = await files.notebooks(s.student, s.workshop.folder);
      const c = completion(notebooks);
      // The saved notebooks are what the participant leaves: their checks replace the live report's.
      const k = checks(notebooks);
      db.prepare('UPDATE registrations SET completion = COALESCE(?, completion), checks_passed = ?, checks_total = ? WHERE id = ?').run(
        c.ratio,
        k.passed,
        k.total,
        s.registration.id,
      );
      ctx.log(`completion ${c.executed}/${c.total} code cells, checks ${k.passed}/${k.total} passed\n`);
    }),
    step('cleanup-hook', async (s, ctx) => void (s.workshop && (await kit.hooks('cleanup', s, ctx)))),
    kit.stopServer,
    kit.kill,
    // before anything starts the server again (remote mode reads the work through it): the participant's tokens are gone
    kit.lock,
    // the participant's notebooks and files, zipped before the home is wiped (work/archive.ts)
    workArchivedStep(kit),
    limitsRemovedStep(kit),
    step('home-wiped', async (s, ctx) => {
      if (s.workshop?.reset) return void ctx.log('home kept until RESET (reset: true)\n');
      await files.wipe(s.student);
    }),
    kit.release('cleaned'),
    kit.report,
  ];
  return { steps, retry: kit.retry, gaveUp: kit.stuck };
}
