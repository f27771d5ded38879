/**
 * The limits steps: CREATE makes the student's cgroup with the workshop's limits before the server
 * starts (the spawner puts the server in it); CLEANUP, RESET and PURGE remove it once the student's
 * processes are stopped. Where limits cannot be applied (local and remote mode, no cgroup controller) the step
 * says so in its log and goes on. At the service's start the groups of the students holding a seat
 * are made again with their workshop's limits (after a reboot, or `wod start` removed them).
 */
import type { WorkshopSpec } from '../catalog/spec.js';
import type { StudentLimits } from '../isolation/limits.js';
import type { Step } from '../jobs/engine.js';
import type { Db } from '../store/db.js';
import type { Kit } from './steps.js';

export function limitsStep(kit: Kit): Step {
  return kit.step('limits', async (s, ctx) => {
    const limits = kit.deps.limits;
    if (!limits)
      return void ctx.log(
        kit.host.mode === 'remote' ? "no per-student limits from wod: remote mode (the spawner's to set)\n" : 'no per-student limits: local mode (every student is one account)\n',
      );
    ctx.log(`${limits.prepare(s.student, kit.needWorkshop(s).limits ?? null)}\n`);
  });
}

export function limitsRemovedStep(kit: Kit): Step {
  return kit.step('limits-removed', async (s, ctx) => {
    const limits = kit.deps.limits;
    if (limits) ctx.log(`${await limits.remove(s.student)}\n`);
  });
}

/** The groups of every student holding a seat, made again with their workshop's limits; returns how many. */
export function restoreLimits(db: Db, limits: StudentLimits): number {
  if (limits.unavailable) return 0;
  const seated = db
    .prepare(
      `SELECT s.name, w.spec FROM students s JOIN registrations r ON r.id = s.registration_id JOIN workshops w ON w.id = r.workshop_id
        WHERE s.state IN ('allocated', 'cleanup')`,
    )
    .all() as { name: string; spec: string }[];
  for (const { name, spec } of seated) limits.prepare(name, (JSON.parse(spec) as WorkshopSpec).limits ?? null);
  return seated.length;
}
