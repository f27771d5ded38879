/**
 * Durable jobs in SQLite: one verb on one student (and its registration when there is one), with
 * attempts, the next run time, the last finished step and a log per step. Claiming is one IMMEDIATE
 * transaction that never hands out a student who already has a job running or an older one waiting,
 * so the jobs of a student run one at a time, in order.
 */
import type { Db } from '../store/db.js';

export const VERBS = ['CREATE', 'CLEANUP', 'RESET', 'PURGE'] as const;
export type Verb = (typeof VERBS)[number];
export const JOB_SOURCES = ['portal', 'api', 'mail', 'admin', 'timer', 'cli'] as const;
export type JobSource = (typeof JOB_SOURCES)[number];
export const JOB_STATES = ['queued', 'running', 'done', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface Job {
  id: number;
  verb: Verb;
  student_id: number;
  registration_id: number | null;
  workshop_id: number | null;
  source: JobSource;
  state: JobState;
  attempts: number;
  run_at: string;
  last_step: string | null;
  error: string | null;
  idempotency_key: string | null;
}

export interface NewJob {
  verb: Verb;
  studentId: number;
  registrationId?: number | null;
  workshopId?: number | null;
  source: JobSource;
  /** a second job with the same key is not created (a repeated order runs once) */
  key?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Adds a job unless one with the same key exists; returns its id either way. */
export function enqueueJob(db: Db, job: NewJob): number {
  const inserted = db
    .prepare(
      `INSERT INTO jobs (verb, student_id, registration_id, workshop_id, source, idempotency_key)
              VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
    )
    .run(job.verb, job.studentId, job.registrationId ?? null, job.workshopId ?? null, job.source, job.key ?? null);
  if (inserted.changes) return Number(inserted.lastInsertRowid);
  return (db.prepare('SELECT id FROM jobs WHERE idempotency_key = ?').get(job.key) as { id: number }).id;
}

export class JobStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /** After a crash, jobs that were running are queued again; they resume after their last finished step. */
  requeueInterrupted(): number {
    return this.db.prepare(`UPDATE jobs SET state = 'queued' WHERE state = 'running'`).run().changes;
  }

  claim(): Job | null {
    return this.db
      .transaction((): Job | null => {
        const job = this.db
          .prepare(
            `SELECT * FROM jobs j WHERE j.state = 'queued' AND j.run_at <= ?
               AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.student_id = j.student_id
                               AND (o.state = 'running' OR (o.state = 'queued' AND o.id < j.id)))
             ORDER BY j.run_at, j.id LIMIT 1`,
          )
          .get(iso(this.now())) as Job | undefined;
        if (!job) return null;
        this.db.prepare(`UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = COALESCE(started_at, ?) WHERE id = ?`).run(iso(this.now()), job.id);
        return { ...job, state: 'running', attempts: job.attempts + 1 };
      })
      .immediate();
  }

  get(id: number): Job | null {
    return (this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Job | undefined) ?? null;
  }

  /** Opens a step's log line; returns its id for `endStep`. */
  beginStep(job: Job, step: string): number {
    return Number(
      this.db.prepare('INSERT INTO job_steps (job_id, step, attempt, started_at) VALUES (?, ?, ?, ?)').run(job.id, step, job.attempts, iso(this.now())).lastInsertRowid,
    );
  }

  endStep(stepId: number, ok: boolean, output: string): void {
    this.db.prepare('UPDATE job_steps SET finished_at = ?, ok = ?, output = ? WHERE id = ?').run(iso(this.now()), ok ? 1 : 0, output || null, stepId);
  }

  /** Records that `step` is done: a resumed job starts after it. */
  stepDone(job: Job, step: string): void {
    this.db.prepare('UPDATE jobs SET last_step = ? WHERE id = ?').run(step, job.id);
  }

  /** Queues the job again at once, to resume after `lastStep` (from the start when null). */
  restartFrom(job: Job, lastStep: string | null): void {
    this.db.prepare(`UPDATE jobs SET state = 'queued', last_step = ?, run_at = ? WHERE id = ?`).run(lastStep, iso(this.now()), job.id);
  }

  done(job: Job): void {
    this.db.prepare(`UPDATE jobs SET state = 'done', error = NULL, finished_at = ? WHERE id = ?`).run(iso(this.now()), job.id);
  }

  retryLater(job: Job, delayMs: number, error: string): void {
    this.db.prepare(`UPDATE jobs SET state = 'queued', run_at = ?, error = ? WHERE id = ?`).run(iso(this.now() + delayMs), error, job.id);
  }

  failed(job: Job, error: string): void {
    this.db.prepare(`UPDATE jobs SET state = 'failed', error = ?, finished_at = ? WHERE id = ?`).run(error, iso(this.now()), job.id);
  }

  /** When the next queued job falls due (ms from now), for the worker's sleep; null when none waits. */
  nextDueInMs(): number | null {
    const row = this.db.prepare(`SELECT MIN(run_at) AS at FROM jobs WHERE state = 'queued'`).get() as { at: string | null };
    return row.at === null ? null : Math.max(0, Date.parse(row.at) - this.now());
  }
}
