/** The student pool: student1 … studentN, each free, allocated to a registration, or awaiting cleanup. */
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
  const rows = db
    .prepare('SELECT state, COUNT(*) AS n FROM students WHERE id BETWEEN ? AND ? GROUP BY state')
    .all(first, last) as { state: StudentState; n: number }[];
  const count = (s: StudentState) => rows.find((r) => r.state === s)?.n ?? 0;
  return { range: [first, last], free: count('free'), allocated: count('allocated'), cleanup: count('cleanup') };
}

export interface PoolStudent {
  id: number;
  name: string;
  state: StudentState;
  registrationId: number | null;
  updatedAt: string;
}

export function listStudents(db: Db, first: number, last: number): PoolStudent[] {
  return db
    .prepare(`SELECT id, name, state, registration_id AS registrationId, updated_at AS updatedAt
              FROM students WHERE id BETWEEN ? AND ? ORDER BY id`)
    .all(first, last) as PoolStudent[];
}
