/** Jobs as the admin panel and API show them: what ran, on whom, how each step went. */
import type { Db } from '../store/db.js';
import type { JobSource, JobState, Verb } from './store.js';

export interface JobView {
  id: number;
  verb: Verb;
  state: JobState;
  student: string;
  registrationId: number | null;
  workshop: string | null;
  source: JobSource;
  attempts: number;
  lastStep: string | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface StepView {
  step: string;
  attempt: number;
  startedAt: string;
  finishedAt: string | null;
  ok: boolean | null;
  output: string | null;
}

const SELECT = `SELECT j.id, j.verb, j.state, s.name AS student, j.registration_id AS registrationId, w.folder AS workshop, j.source,
  j.attempts, j.last_step AS lastStep, j.error, j.created_at AS createdAt, j.started_at AS startedAt, j.finished_at AS finishedAt
  FROM jobs j JOIN students s ON s.id = j.student_id LEFT JOIN workshops w ON w.id = j.workshop_id`;

export function listJobs(
  db: Db,
  q: { state?: string; verb?: string; registrationId?: number; source?: JobSource; limit: number; offset: number },
): { items: JobView[]; total: number } {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [column, value] of [
    ['j.state', q.state],
    ['j.verb', q.verb],
    ['j.registration_id', q.registrationId],
    ['j.source', q.source],
  ] as const) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  const clause = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  const items = db.prepare(`${SELECT}${clause} ORDER BY j.id DESC LIMIT ? OFFSET ?`).all(...params, q.limit, q.offset) as JobView[];
  const { n } = db.prepare(`SELECT COUNT(*) AS n FROM jobs j${clause}`).get(...params) as { n: number };
  return { items, total: n };
}

export function getJob(db: Db, id: number): (JobView & { steps: StepView[] }) | null {
  const job = db.prepare(`${SELECT} WHERE j.id = ?`).get(id) as JobView | undefined;
  if (!job) return null;
  const steps = (
    db.prepare('SELECT step, attempt, started_at AS startedAt, finished_at AS finishedAt, ok, output FROM job_steps WHERE job_id = ? ORDER BY id').all(id) as (Omit<
      StepView,
      'ok'
    > & { ok: number | null })[]
  ).map((s) => ({ ...s, ok: s.ok === null ? null : !!s.ok }));
  return { ...job, steps };
}

/** `?, ?, …` for an `IN (…)` of `n` values. */
const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** The given jobs, oldest first (`wod action` follows them until each is done or failed). */
export function jobsById(db: Db, ids: number[]): JobView[] {
  if (!ids.length) return [];
  return db.prepare(`${SELECT} WHERE j.id IN (${placeholders(ids.length)}) ORDER BY j.id`).all(...ids) as JobView[];
}

/** A finished step of one of several jobs, with the job's student. */
export interface FinishedStep {
  id: number;
  jobId: number;
  student: string;
  step: string;
  ok: boolean;
  startedAt: string;
  finishedAt: string;
}

/** The finished steps of the given jobs, in the order they were run. */
export function finishedSteps(db: Db, jobIds: number[]): FinishedStep[] {
  if (!jobIds.length) return [];
  const rows = db
    .prepare(
      `SELECT s.id, s.job_id AS jobId, st.name AS student, s.step, s.ok, s.started_at AS startedAt, s.finished_at AS finishedAt
       FROM job_steps s JOIN jobs j ON j.id = s.job_id JOIN students st ON st.id = j.student_id
       WHERE s.job_id IN (${placeholders(jobIds.length)}) AND s.finished_at IS NOT NULL ORDER BY s.id`,
    )
    .all(...jobIds) as (Omit<FinishedStep, 'ok'> & { ok: number | null })[];
  return rows.map((s) => ({ ...s, ok: !!s.ok }));
}

/** Where a registration's CREATE stands in the one queue all workshops share (../registrations/queue.ts reads it). */
export interface CreateQueueFacts {
  jobId: number;
  state: 'queued' | 'running';
  /** CREATE jobs queued or running that were created before this one, any workshop */
  ahead: number;
  /** the step running now (a job_steps line not finished yet), else null */
  step: string | null;
  /** the last step finished (jobs.last_step) */
  lastStep: string | null;
  startedAt: string | null;
  /** started_at → finished_at of the latest done CREATE jobs (by id: walked backwards, no sort), in seconds */
  recentSeconds: number[];
}

/**
 * The open CREATE of a registration and the queue in front of it, in three indexed reads; null when
 * it has none queued or running (done, failed, or not queued yet).
 */
export function createQueueFacts(db: Db, registrationId: number, samples = 20): CreateQueueFacts | null {
  const job = db
    .prepare(
      `SELECT id, state, last_step AS lastStep, started_at AS startedAt, created_at AS createdAt FROM jobs
       WHERE registration_id = ? AND verb = 'CREATE' AND state IN ('queued', 'running') ORDER BY id LIMIT 1`,
    )
    .get(registrationId) as { id: number; state: 'queued' | 'running'; lastStep: string | null; startedAt: string | null; createdAt: string } | undefined;
  if (!job) return null;
  const { ahead } = db
    .prepare(
      `SELECT COUNT(*) AS ahead FROM jobs WHERE verb = 'CREATE' AND state IN ('queued', 'running')
       AND (created_at < ? OR (created_at = ? AND id < ?))`,
    )
    .get(job.createdAt, job.createdAt, job.id) as { ahead: number };
  const open = db.prepare('SELECT step FROM job_steps WHERE job_id = ? AND finished_at IS NULL ORDER BY id DESC LIMIT 1').get(job.id) as { step: string } | undefined;
  const recent = db
    .prepare(
      `SELECT (julianday(finished_at) - julianday(started_at)) * 86400.0 AS seconds FROM jobs
       WHERE verb = 'CREATE' AND state = 'done' AND started_at IS NOT NULL AND finished_at IS NOT NULL
       ORDER BY id DESC LIMIT ?`,
    )
    .all(samples) as { seconds: number }[];
  return {
    jobId: job.id,
    state: job.state,
    ahead,
    step: open?.step ?? null,
    lastStep: job.lastStep,
    startedAt: job.startedAt,
    recentSeconds: recent.map((r) => r.seconds),
  };
}
