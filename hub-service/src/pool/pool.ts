/**
 * The student pool: student1 … studentN, each free, allocated to a registration, or awaiting
 * cleanup. A student whose CLEANUP, RESET or PURGE gave up is also stuck (problem, with the error):
 * it keeps its seat, shown on the dashboard and the pool, until an admin retries the verb.
 */
import { audit, type Actor } from '../audit/audit.js';
import { enqueueJob, type Verb } from '../jobs/store.js';
import type { Db } from '../store/db.js';
import { type Span, spanSize, uncoveredSpans } from './spans.js';

export type StudentState = 'free' | 'allocated' | 'cleanup';

/**
 * Adds the students up to `count`, in one statement: a start at 2 000 or 20 000 students costs a
 * count of the rows when nothing is missing. Only rows: the hub user, the account and the home of a
 * student are made by its first CREATE (lifecycle/create.ts), never here. Students beyond `count`
 * stay (history refers to them) but no range reaches them.
 */
export function syncPool(db: Db, count: number): number {
  return db
    .transaction(() => {
      const present = (db.prepare('SELECT COUNT(*) AS n FROM students WHERE id BETWEEN 1 AND ?').get(count) as { n: number }).n;
      if (present >= count) return 0;
      return db
        .prepare(
          `INSERT OR IGNORE INTO students (id, name)
             WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
             SELECT n, 'student' || n FROM seq`,
        )
        .run(count).changes;
    })
    .immediate();
}

export interface RangeState {
  range: [number, number];
  free: number;
  allocated: number;
  cleanup: number;
  /** of those, how many are stuck (a CLEANUP, RESET or PURGE gave up): they hold their state until retried */
  stuck: number;
}

/** The counts of a range, without it. */
export type PoolCounts = Omit<RangeState, 'range'>;

/** The students of first..last by state: one indexed query, whatever the size of the range. */
export function rangeState(db: Db, first: number, last: number): RangeState {
  const row = db
    .prepare(
      `SELECT COALESCE(SUM(state = 'free'), 0) AS free, COALESCE(SUM(state = 'allocated'), 0) AS allocated,
              COALESCE(SUM(state = 'cleanup'), 0) AS cleanup, COALESCE(SUM(problem IS NOT NULL), 0) AS stuck
         FROM students WHERE id BETWEEN ? AND ?`,
    )
    .get(first, last) as PoolCounts;
  return { range: [first, last], ...row };
}

/** The counts of several ranges added up (the students of no workshop's range are often several spans). */
export function spansState(db: Db, spans: readonly Span[]): PoolCounts {
  const sum: PoolCounts = { free: 0, allocated: 0, cleanup: 0, stuck: 0 };
  for (const [first, last] of spans) {
    const s = rangeState(db, first, last);
    for (const k of ['free', 'allocated', 'cleanup', 'stuck'] as const) sum[k] += s[k];
  }
  return sum;
}

/** A workshop as the pool sees it: whose students its range holds. */
export interface WorkshopRange {
  folder: string;
  name: string;
  active: boolean;
  range: Span;
}

export interface PoolSummary {
  /** the pool is student1 to student`count` */
  count: number;
  /** over the whole pool */
  total: PoolCounts;
  /** each workshop's range, in the order given */
  workshops: (WorkshopRange & PoolCounts)[];
  /** the students of no workshop's range: `spans` of them, `size` in all */
  outside: { spans: Span[]; size: number } & PoolCounts;
}

/** The pool at a glance, per workshop: one counting query per range, never a row per student. */
export function poolSummary(db: Db, workshops: readonly WorkshopRange[], count: number): PoolSummary {
  const { range: _, ...total } = rangeState(db, 1, count);
  const spans = uncoveredSpans(
    workshops.map((w) => w.range),
    count,
  );
  return {
    count,
    total,
    workshops: workshops.map((w) => {
      const { range: _r, ...counts } = rangeState(db, ...w.range);
      return { ...w, ...counts };
    }),
    outside: { spans, size: spanSize(spans), ...spansState(db, spans) },
  };
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

/** A filter of the student list: a state, or `stuck` (whatever its state). */
export const STUDENT_FILTERS = ['free', 'allocated', 'cleanup', 'stuck'] as const;
export type StudentFilter = (typeof STUDENT_FILTERS)[number];

export interface StudentQuery {
  first: number;
  last: number;
  state?: StudentFilter;
  limit: number;
  offset: number;
}

/**
 * A page of the students of first..last (optionally of one state, or the stuck ones): the stuck
 * first (they need an admin), then by number; `total` is how many match.
 */
export function studentPage(db: Db, q: StudentQuery): { items: PoolStudent[]; total: number } {
  const where = q.state === 'stuck' ? 'AND problem IS NOT NULL' : q.state ? 'AND state = @state' : '';
  const params = { first: q.first, last: q.last, ...(q.state && q.state !== 'stuck' ? { state: q.state } : {}) };
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM students WHERE id BETWEEN @first AND @last ${where}`).get(params) as { n: number }).n;
  const items = db
    .prepare(
      `SELECT id, name, state, registration_id AS registrationId, updated_at AS updatedAt, problem
         FROM students WHERE id BETWEEN @first AND @last ${where}
         ORDER BY problem IS NULL, id LIMIT @limit OFFSET @offset`,
    )
    .all({ ...params, limit: q.limit, offset: q.offset }) as PoolStudent[];
  return { items, total };
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

/** The stuck students, by number: all of them, the first `limit`, or the one numbered `id`. */
export function stuckStudents(db: Db, opts: { limit?: number; id?: number } = {}): StuckStudent[] {
  return db
    .prepare(
      `SELECT s.id, s.name, s.state, s.registration_id AS registrationId, s.problem, s.problem_job_id AS jobId, j.verb
              FROM students s JOIN jobs j ON j.id = s.problem_job_id WHERE s.problem IS NOT NULL ${opts.id === undefined ? '' : 'AND s.id = @id'}
              ORDER BY s.id LIMIT @limit`,
    )
    .all({ limit: opts.limit ?? -1, ...(opts.id === undefined ? {} : { id: opts.id }) }) as StuckStudent[];
}

export class NotStuck extends Error {}

/** Runs the verb that gave up on a stuck student again, as a new job; returns its id. */
export function retryStuck(db: Db, studentId: number, actor: Actor): number {
  return db
    .transaction(() => {
      const [s] = stuckStudents(db, { id: studentId });
      if (!s) throw new NotStuck(`student ${studentId} is not stuck`);
      const failed = db.prepare('SELECT registration_id, workshop_id FROM jobs WHERE id = ?').get(s.jobId) as { registration_id: number | null; workshop_id: number | null };
      const job = enqueueJob(db, { verb: s.verb, studentId, registrationId: failed.registration_id, workshopId: failed.workshop_id, source: 'admin', key: `retry:${s.jobId}` });
      db.prepare('UPDATE students SET problem = NULL, problem_job_id = NULL WHERE id = ?').run(studentId);
      audit(db, actor, 'student.retried', { type: 'student', id: studentId }, { verb: s.verb, failedJob: s.jobId, job });
      return job;
    })
    .immediate();
}
