/**
 * The clock of every registration, kept in the database (deadline_at, the CREATE job's start, the
 * state), so a timer that fell due while the service was down fires at the next sweep, and a state
 * change makes each fire once: the reminder before the deadline, the end a short grace after the
 * deadline, and the watchdog that gives up on a deployment that never became ready. The watchdog
 * counts from the CREATE job's start, not the registration's: a queue that waits (a busy engine, a
 * paused lifecycle) is not a deployment that failed. While paused it does not run at all. A
 * registration seated at a backend runs by that backend's clock (locations/mirror.ts).
 */
import type { WodConfig } from '../config/schema.js';
import { enqueueJob } from '../jobs/store.js';
import type { Registrations } from '../registrations/registrations.js';
import { DEPLOYING, moveRegistration, sqlList } from '../registrations/states.js';
import type { Db } from '../store/db.js';
import type { Letters } from './letters.js';

export interface SweepResult {
  reminded: number[];
  ended: number[];
  abandoned: number[];
}

export class Timers {
  constructor(
    private readonly db: Db,
    private readonly registrations: Registrations,
    private readonly letters: Letters,
    /** paused: lifecycle.paused, no job runs, so no deployment can be late */
    private readonly config: WodConfig['timers'] & { paused?: boolean },
    private readonly onJobs: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  sweep(): SweepResult {
    const now = this.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const result: SweepResult = { reminded: [], ended: [], abandoned: [] };

    const remind = this.db
      .prepare(`SELECT id, deadline_at AS deadlineAt FROM registrations WHERE state = 'ready' AND deadline_at > ? AND deadline_at <= ? AND location IS NULL`)
      .all(iso(now), iso(now + this.config.reminderMinutes * 60_000)) as { id: number; deadlineAt: string }[];
    for (const r of remind) {
      this.db
        .transaction(() => {
          if (!moveRegistration(this.db, r.id, { to: 'reminded', actor: 'system', onlyFrom: ['ready'] })) return;
          this.letters.reminder(r.id, Math.max(1, Math.round((Date.parse(r.deadlineAt) - now) / 60_000)));
          result.reminded.push(r.id);
        })
        .immediate();
    }

    for (const id of this.registrations.overdue(now - this.config.endGraceSeconds * 1000)) {
      this.registrations.end(id, 'system', 'deadline');
      result.ended.push(id);
    }

    if (this.config.paused) return result;
    const late = this.db
      .prepare(
        `SELECT r.id, r.student_id AS studentId, r.workshop_id AS workshopId FROM registrations r
                JOIN jobs j ON j.registration_id = r.id AND j.verb = 'CREATE'
                WHERE r.state IN (${sqlList(DEPLOYING)}) AND j.started_at <= ?`,
      )
      .all(iso(now - this.config.watchdogMinutes * 60_000)) as { id: number; studentId: number; workshopId: number }[];
    for (const r of late) {
      this.db
        .transaction(() => {
          const moved = moveRegistration(this.db, r.id, {
            to: 'failed',
            actor: 'system',
            onlyFrom: DEPLOYING,
            set: { end_reason: 'watchdog', ended_at: iso(now) },
            details: { reason: 'watchdog', after: `${this.config.watchdogMinutes} min` },
          });
          if (!moved) return;
          enqueueJob(this.db, { verb: 'PURGE', studentId: r.studentId, registrationId: r.id, workshopId: r.workshopId, source: 'timer', key: `PURGE:watchdog:${r.id}` });
          this.letters.apology(r.id);
          result.abandoned.push(r.id);
        })
        .immediate();
    }
    if (result.abandoned.length) this.onJobs();
    return result;
  }
}
