/**
 * The clock of every registration, kept in the database (deadline_at, created_at, the state), so a
 * timer that fell due while the service was down fires at the next sweep, and a state change makes
 * each fire once: the reminder before the deadline, the end a short grace after the deadline, and
 * the watchdog that gives up on a deployment that never became ready.
 */
import { audit } from '../audit/audit.js';
import type { WodConfig } from '../config/schema.js';
import { enqueueJob } from '../jobs/store.js';
import type { Registrations } from '../registrations/registrations.js';
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
    private readonly config: WodConfig['timers'],
    private readonly onJobs: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  sweep(): SweepResult {
    const now = this.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const result: SweepResult = { reminded: [], ended: [], abandoned: [] };

    const remind = this.db.prepare(`SELECT id, deadline_at AS deadlineAt FROM registrations WHERE state = 'ready' AND deadline_at > ? AND deadline_at <= ?`)
      .all(iso(now), iso(now + this.config.reminderMinutes * 60_000)) as { id: number; deadlineAt: string }[];
    for (const r of remind) {
      this.db.transaction(() => {
        if (!this.db.prepare(`UPDATE registrations SET state = 'reminded' WHERE id = ? AND state = 'ready'`).run(r.id).changes) return;
        this.letters.reminder(r.id, Math.max(1, Math.round((Date.parse(r.deadlineAt) - now) / 60_000)));
        result.reminded.push(r.id);
      }).immediate();
    }

    for (const id of this.registrations.overdue(now - this.config.endGraceSeconds * 1000)) {
      this.registrations.end(id, 'system', 'deadline');
      result.ended.push(id);
    }

    const stuck = this.db
      .prepare(`SELECT id, student_id AS studentId, workshop_id AS workshopId FROM registrations WHERE state IN ('registered', 'deploying') AND created_at <= ?`)
      .all(iso(now - this.config.watchdogMinutes * 60_000)) as { id: number; studentId: number; workshopId: number }[];
    for (const r of stuck) {
      this.db.transaction(() => {
        const changed = this.db
          .prepare(`UPDATE registrations SET state = 'failed', end_reason = 'watchdog', ended_at = ? WHERE id = ? AND state IN ('registered', 'deploying')`)
          .run(iso(now), r.id).changes;
        if (!changed) return;
        enqueueJob(this.db, { verb: 'PURGE', studentId: r.studentId, registrationId: r.id, workshopId: r.workshopId, source: 'timer', key: `PURGE:watchdog:${r.id}` });
        this.letters.apology(r.id);
        audit(this.db, 'system', 'registration.abandoned', { type: 'registration', id: r.id }, { after: `${this.config.watchdogMinutes} min` });
        result.abandoned.push(r.id);
      }).immediate();
    }
    if (result.abandoned.length) this.onJobs();
    return result;
  }
}
