/**
 * A large pool on a real SQLite file: set up in one statement, summarised per workshop range, its
 * students listed a page at a time with the stuck first; the admin page's view model and links.
 */
import fs from 'node:fs';
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { poolSummary, rangeState, retryStuck, studentPage, stuckStudents, syncPool } from '../../hub-service/src/pool/pool';
import { formatSpans, spanSize, uncoveredSpans } from '../../hub-service/src/pool/spans';
import { type Db, openDatabase } from '../../hub-service/src/store/db';
import { parsePoolPageQuery, poolPage, poolWorkshops } from '../../hub-service/src/web/admin-pool';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const COUNT = 2000;
let root: string;
let db: Db;

/** Marks students stuck as a CLEANUP that gave up would. */
function makeStuck(ids: number[]): void {
  for (const id of ids) {
    const job = db.prepare(`INSERT INTO jobs (verb, student_id, source, state, error) VALUES ('CLEANUP', ?, 'admin', 'failed', 'rm: busy')`).run(id).lastInsertRowid;
    db.prepare(`UPDATE students SET state = 'cleanup', problem = 'rm: busy', problem_job_id = ? WHERE id = ?`).run(job, id);
  }
}

beforeAll(() => {
  root = tempWorkshops();
  writeWorkshop(root, 'WKSHP-Big', { name: 'Big', range: [1, 1000], capacity: 1000, priority: 1 });
  writeWorkshop(root, 'WKSHP-Small', { name: 'Small', range: [1201, 1300], capacity: 100, priority: 2 });
  writeWorkshop(root, 'WKSHP-Old', { name: 'Old', range: [1301, 1400], capacity: 100, priority: 3, active: false });
  db = openDatabase(path.join(root, 'wod.sqlite'));
  expect(syncPool(db, COUNT)).toBe(COUNT);
  importWorkshops(db, scanWorkshops({ dir: root }, COUNT), 'test');
  // Big: every tenth allocated, 1..5 to clean; Small: 1250 allocated; 1500 (outside) to clean
  db.prepare(`UPDATE students SET state = 'allocated' WHERE id <= 1000 AND id % 10 = 0`).run();
  db.prepare(`UPDATE students SET state = 'cleanup' WHERE id BETWEEN 1 AND 5`).run();
  db.prepare(`UPDATE students SET state = 'allocated' WHERE id = 1250`).run();
  db.prepare(`UPDATE students SET state = 'cleanup' WHERE id = 1500`).run();
  makeStuck([700, 3, 1260]);
});
afterAll(() => {
  db.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('setting the pool up', () => {
  test('adds only what is missing, in one statement, and nothing when the pool is complete', () => {
    const other = openDatabase(path.join(root, 'sync.sqlite'));
    try {
      expect(syncPool(other, 20)).toBe(20);
      const t0 = performance.now();
      expect(syncPool(other, 5000)).toBe(4980);
      const grownMs = performance.now() - t0;
      expect(syncPool(other, 5000)).toBe(0);
      expect(syncPool(other, 100)).toBe(0);
      const rows = other.prepare(`SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi, SUM(name = 'student' || id) AS named, SUM(state = 'free') AS free FROM students`).get();
      expect(rows).toEqual({ n: 5000, lo: 1, hi: 5000, named: 5000, free: 5000 });
      // generous: one INSERT … SELECT over a recursive sequence, a few ms on the 2-core machine
      expect(grownMs).toBeLessThan(2000);
    } finally {
      other.close();
    }
  });
});

describe('ranges of the pool', () => {
  test.each([
    [[], 10, [[1, 10]]],
    [[[1, 10]], 10, []],
    [
      [
        [3, 4],
        [8, 9],
      ],
      10,
      [
        [1, 2],
        [5, 7],
        [10, 10],
      ],
    ],
    [
      [
        [5, 20],
        [1, 6],
      ],
      10,
      [],
    ],
    [[[95, 120]], 100, [[1, 94]]],
  ] as [[number, number][], number, [number, number][]][])('uncovered spans of %j in 1..%i are %j', (ranges, count, expected) => {
    expect(uncoveredSpans(ranges, count)).toEqual(expected);
  });

  test('spans read as an admin writes them and count their students', () => {
    const spans: [number, number][] = [
      [1, 3],
      [7, 7],
      [11, 100],
    ];
    expect(formatSpans(spans)).toBe('1–3, 7, 11–100');
    expect(spanSize(spans)).toBe(94);
  });
});

describe('the summary', () => {
  test('counts each workshop range and the students of none, stuck included, without listing them', () => {
    const s = poolSummary(db, poolWorkshops(db), COUNT);
    expect(s.count).toBe(COUNT);
    expect(s.total).toEqual({ free: COUNT - 100 - 1 - 4 - 3, allocated: 100 + 1 - 1, cleanup: 5 + 1 + 3 - 1, stuck: 3 });
    expect(s.workshops.map((w) => [w.folder, w.active, w.range, w.free, w.allocated, w.cleanup, w.stuck])).toEqual([
      ['WKSHP-Big', true, [1, 1000], 895, 99, 6, 2],
      ['WKSHP-Small', true, [1201, 1300], 98, 1, 1, 1],
      ['WKSHP-Old', false, [1301, 1400], 100, 0, 0, 0],
    ]);
    expect(s.outside).toEqual({
      spans: [
        [1001, 1200],
        [1401, 2000],
      ],
      size: 800,
      free: 799,
      allocated: 0,
      cleanup: 1,
      stuck: 0,
    });
    expect(rangeState(db, 1, 10)).toEqual({ range: [1, 10], free: 4, allocated: 1, cleanup: 5, stuck: 1 });
  });
});

describe('the student list', () => {
  test('is a page of the range with the stuck first, then by number, and the total', () => {
    const first = studentPage(db, { first: 1, last: 1000, limit: 5, offset: 0 });
    expect(first.total).toBe(1000);
    expect(first.items.map((s) => s.name)).toEqual(['student3', 'student700', 'student1', 'student2', 'student4']);
    expect(first.items[0]).toMatchObject({ state: 'cleanup', problem: 'rm: busy' });
    const later = studentPage(db, { first: 1, last: 1000, limit: 5, offset: 995 });
    expect(later.items.map((s) => s.id)).toEqual([996, 997, 998, 999, 1000]);
    expect(studentPage(db, { first: 1, last: 1000, limit: 5, offset: 1000 }).items).toEqual([]);
  });

  test('filters by state, or on the stuck whatever their state', () => {
    const allocated = studentPage(db, { first: 1, last: COUNT, state: 'allocated', limit: 3, offset: 0 });
    expect(allocated.total).toBe(100);
    expect(allocated.items.map((s) => s.id)).toEqual([10, 20, 30]);
    const stuck = studentPage(db, { first: 1, last: COUNT, state: 'stuck', limit: 50, offset: 0 });
    expect(stuck.items.map((s) => s.id)).toEqual([3, 700, 1260]);
    expect(studentPage(db, { first: 1201, last: 1300, state: 'cleanup', limit: 50, offset: 0 }).items.map((s) => s.id)).toEqual([1260]);
  });

  test('the stuck students: the first few, or one of them; a retry clears one', () => {
    expect(stuckStudents(db).map((s) => s.id)).toEqual([3, 700, 1260]);
    expect(stuckStudents(db, { limit: 2 }).map((s) => s.id)).toEqual([3, 700]);
    expect(stuckStudents(db, { id: 700 })).toEqual([expect.objectContaining({ id: 700, verb: 'CLEANUP', problem: 'rm: busy' })]);
    expect(stuckStudents(db, { id: 701 })).toEqual([]);
    const job = retryStuck(db, 1260, 'admin:test');
    expect(job).toBeGreaterThan(0);
    expect(stuckStudents(db).map((s) => s.id)).toEqual([3, 700]);
    makeStuck([1260]);
  });
});

describe('the admin page', () => {
  test('its query falls back to the defaults on nonsense', () => {
    expect(parsePoolPageQuery({})).toEqual({ workshop: undefined, state: undefined, page: 1, size: 200 });
    expect(parsePoolPageQuery({ workshop: 'WKSHP-Big', state: 'stuck', page: '3', size: '50' })).toEqual({ workshop: 'WKSHP-Big', state: 'stuck', page: 3, size: 50 });
    expect(parsePoolPageQuery({ workshop: '', state: 'sleeping', page: '-1', size: '7' })).toEqual({ workshop: undefined, state: undefined, page: 1, size: 200 });
  });

  test('shows the groups, the stuck on top and one page of the whole pool with a link to the next', () => {
    const page = poolPage(db, COUNT, parsePoolPageQuery({}))!;
    expect(page.groups.map((g) => [g.id, g.span, g.size, g.free, g.stuck])).toEqual([
      ['WKSHP-Big', '1–1000', 1000, 895, 2],
      ['WKSHP-Small', '1201–1300', 100, 98, 1],
      ['WKSHP-Old', '1301–1400', 100, 100, 0],
      ['outside', '1001–1200, 1401–2000', 800, 799, 0],
    ]);
    expect(page.stuck.map((s) => s.id)).toEqual([3, 700, 1260]);
    expect(page.moreStuck).toBe(0);
    expect(page.list).toMatchObject({ title: 'The whole pool', span: '1–2000', total: 2000, from: 1, to: 200, pages: 10, previous: null, next: '?page=2#students' });
    expect(page.list.students).toHaveLength(200);
    expect(page.list.students.slice(0, 3).map((s) => s.id)).toEqual([3, 700, 1260]);
  });

  test('pages a workshop of one state, keeping the filters in its links; an unknown workshop is none', () => {
    const page = poolPage(db, COUNT, parsePoolPageQuery({ workshop: 'WKSHP-Big', state: 'free', size: '100', page: '2' }))!;
    expect(page.list).toMatchObject({ title: 'Big', span: '1–1000', total: 895, from: 101, to: 200, pages: 9 });
    expect(page.list.previous).toBe('?workshop=WKSHP-Big&state=free&size=100&page=1#students');
    expect(page.list.next).toBe('?workshop=WKSHP-Big&state=free&size=100&page=3#students');
    const last = poolPage(db, COUNT, parsePoolPageQuery({ workshop: 'WKSHP-Big', state: 'free', size: '100', page: '9' }))!;
    expect(last.list).toMatchObject({ from: 801, to: 895, next: null });
    const beyond = poolPage(db, COUNT, parsePoolPageQuery({ workshop: 'WKSHP-Old', page: '50' }))!;
    expect(beyond.list).toMatchObject({ title: 'Old (inactive)', students: [], from: 0, to: 0, previous: '?workshop=WKSHP-Old&page=1#students' });
    expect(poolPage(db, COUNT, parsePoolPageQuery({ workshop: 'WKSHP-Nope' }))).toBeNull();
  });
});
