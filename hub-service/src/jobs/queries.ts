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

export function listJobs(db: Db, q: { state?: string; verb?: string; registrationId?: number; limit: number; offset: number }): { items: JobView[]; total: number } {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [column, value] of [
    ['j.state', q.state],
    ['j.verb', q.verb],
    ['j.registration_id', q.registrationId],
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
