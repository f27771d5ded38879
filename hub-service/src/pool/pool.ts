/**
 * The student pool: student1 … studentN, each free, allocated to a registration, or awaiting
 * cleanup. A student whose CLEANUP, RESET or PURGE gave up is also stuck (problem, with the error):
 * it keeps its seat, shown on the dashboard and the pool, until an admin retries the verb.
 */
import { audit, type Actor } from '../audit/audit.js';
import { enqueueJob, type Verb } from '../jobs/store.js';
import type { Db } from '../store/db.js';

export type StudentState = 'free' | 'allocated' | 'cleanup';

/** Adds the students up to `count`. Students beyond it stay (history refers to them) but no range reaches them. */
export function syncPool(db: Db, count: number): number {
  const insert = db.prepare(`INSERT OR IGNORE INTO students (id, name) VALUES (?, ?)`);
  let added = 0;
  db.transaction(() => {
    for (let n = 1; n <= count; n++) added += insert.run(n, `student${n}`).changes;
  }).immediate();
  return added;
}

export interface RangeState {
  range: [number, number];
  free: number;
  allocated: number;
  cleanup: number;
}

export function rangeState(db: Db, first: number, last: number): RangeState {
  const rows = db.prepare('SELECT state, COUNT(*) AS n FROM students WHERE id BETWEEN ? AND ? GROUP BY state').all(first, last) as { state: StudentState; n: number }[];
  const count = (s: StudentState) => rows.find((r) => r.state === s)?.n ?? 0;
  return { range: [first, last], free: count('free'), allocated: count('allocated'), cleanup: count('cleanup') };
}

export interface PoolStudent {
  id: number;
  name: string;
  state: StudentState;
  registrationId: number | null;
  updatedAt: string;
  /** why its last CLEANUP, RESET or PURGE gave up: the student is stuck (null: fine) */
  problem: string | null;
}

export function listStudents(db: Db, first: number, last: number): PoolStudent[] {
  return db
    .prepare(
      `SELECT id, name, state, registration_id AS registrationId, updated_at AS updatedAt, problem
              FROM students WHERE id BETWEEN ? AND ? ORDER BY id`,
    )
    .all(first, last) as PoolStudent[];
}

/** The name of the student allocated to a registration (null: none, or not any more). */
export function allocatedStudent(db: Db, registrationId: number): string | null {
  const row = db.prepare('SELECT name FROM students WHERE registration_id = ?').get(registrationId) as { name: string } | undefined;
  return row?.name ?? null;
}

export interface StuckStudent {
  id: number;
  name: string;
  state: StudentState;
  registrationId: number | null;
  problem: string;
  /** the job that gave up */
  jobId: number;
  verb: Verb;
}

export function stuckStudents(db: Db): StuckStudent[] {
  return db
    .prepare(
      `SELECT s.id, s.name, s.state, s.registration_id AS registrationId, s.problem, s.problem_job_id AS jobId, j.verb
              FROM students s JOIN jobs j ON j.id = s.problem_job_id WHERE s.problem IS NOT NULL ORDER BY s.id`,
    )
    .all() as StuckStudent[];
}

export class NotStuck extends Error {}

/** Runs the verb that gave up on a stuck student again, as a new job; returns its id. */
export function retryStuck(db: Db, studentId: number, actor: Actor): number {
  return db
    .transaction(() => {
      const s = stuckStudents(db).find((x) => x.id === studentId);
      if (!s) throw new NotStuck(`student ${studentId} is not stuck`);
      const failed = db.prepare('SELECT registration_id, workshop_id FROM jobs WHERE id = ?').get(s.jobId) as { registration_id: number | null; workshop_id: number | null };
      const job = enqueueJob(db, { verb: s.verb, studentId, registrationId: failed.registration_id, workshopId: failed.workshop_id, source: 'admin', key: `retry:${s.jobId}` });
      db.prepare('UPDATE students SET problem = NULL, problem_job_id = NULL WHERE id = ?').run(studentId);
      audit(db, actor, 'student.retried', { type: 'student', id: studentId }, { verb: s.verb, failedJob: s.jobId, job });
      return job;
    })
    .immediate();
}
