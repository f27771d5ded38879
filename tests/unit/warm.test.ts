/**
 * Warm seats' bookkeeping on a real SQLite file (lifecycle/warm.ts): targets capped by the seats a
 * workshop can have at once, the global cap, the pace, the surplus released, inactive workshops
 * none; and the allocation order (registrations/registrations.ts): a warm seat of the workshop
 * first, never a student a PURGE is about to work on.
 */
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { enqueueJob } from '../../hub-service/src/jobs/store';
import { cancelWarm, listWarmEvents, markWarm, refillWarm, scheduleWarm, warmTargets } from '../../hub-service/src/lifecycle/warm';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const setup = () => {
  const root = tempWorkshops();
  writeWorkshop(root, 'WKSHP-A', { range: [1, 10], capacity: 3, warm: 5, priority: 1 }); // warm above capacity: 3
  writeWorkshop(root, 'WKSHP-B', { range: [11, 20], capacity: 10, warm: 4, priority: 2 });
  writeWorkshop(root, 'WKSHP-Off', { range: [21, 25], capacity: 5, warm: 5, active: false });
  const db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 30);
  importWorkshops(db, scanWorkshops({ dir: root }, 30), 'test');
  const id = (folder: string) => (db.prepare('SELECT id FROM workshops WHERE folder = ?').get(folder) as { id: number }).id;
  const warmJobs = () =>
    db.prepare(`SELECT student_id AS s, workshop_id AS w FROM jobs WHERE idempotency_key LIKE 'WARM:%' AND state = 'queued' ORDER BY id`).all() as { s: number; w: number }[];
  /** the queued preparations run and mark their seats */
  const prepare = () => {
    for (const j of warmJobs()) markWarm(db, j.s, j.w);
    db.prepare(`UPDATE jobs SET state = 'done' WHERE state = 'queued'`).run();
  };
  return { db, id, warmJobs, prepare };
};

test('targets: capped by capacity, inactive none; paced and capped in all; refilled up to the target, never beyond', () => {
  const { db, id, warmJobs, prepare } = setup();
  expect(warmTargets(db).map((t) => [t.folder, t.target])).toEqual([
    ['WKSHP-A', 3],
    ['WKSHP-B', 4],
    ['WKSHP-Off', 0],
  ]);
  const lifecycle = { concurrency: 4, warmSeatsMax: 5 } as never;
  // three in flight at most (concurrency − 1: one slot stays free for registrations)
  refillWarm(db, { lifecycle });
  expect(warmJobs().map((j) => j.s)).toEqual([1, 2, 3]);
  prepare();
  refillWarm(db, { lifecycle });
  // A is full; B gets what the global cap of 5 leaves: 2
  expect(warmJobs()).toEqual([
    { s: 11, w: id('WKSHP-B') },
    { s: 12, w: id('WKSHP-B') },
  ]);
  prepare();
  expect(refillWarm(db, { lifecycle })).toEqual([]);
  expect(warmTargets(db).map((t) => [t.folder, t.ready])).toEqual([
    ['WKSHP-A', 3],
    ['WKSHP-B', 2],
    ['WKSHP-Off', 0],
  ]);
});

test('a lowered target releases the surplus with a PURGE, highest first, and forgets the mark at once', () => {
  const { db, prepare } = setup();
  const lifecycle = { concurrency: 8, warmSeatsMax: 50 } as never;
  refillWarm(db, { lifecycle });
  prepare();
  db.prepare(`UPDATE workshops SET warm = 1 WHERE folder = 'WKSHP-A'`).run();
  refillWarm(db, { lifecycle });
  const purges = db.prepare(`SELECT student_id AS s FROM jobs WHERE verb = 'PURGE' AND state = 'queued' ORDER BY student_id`).all() as { s: number }[];
  expect(purges.map((p) => p.s)).toEqual([2, 3]);
  expect(db.prepare(`SELECT id FROM students WHERE warm_workshop_id IS NOT NULL AND id <= 10`).all()).toEqual([{ id: 1 }]);
});

test('a registration takes a warm seat of its workshop first, and never a student with a PURGE queued', () => {
  const { db, id } = setup();
  markWarm(db, 3, id('WKSHP-A'));
  enqueueJob(db, { verb: 'PURGE', studentId: 1, registrationId: null, workshopId: id('WKSHP-A'), source: 'admin', key: 'p1' });
  const registrations = new Registrations(db, {});
  const register = (email: string) => registrations.register({ email, name: 'N', company: 'C', workshop: 'WKSHP-A', acceptTerms: true }, { ip: '127.0.0.1', source: 'portal' });
  expect(register('a@example.com').student).toBe('student3'); // warm
  expect(register('b@example.com').student).toBe('student2'); // cold, and not student1: its PURGE comes first
});

test('events: seats added while they run, checked when scheduled, gone when cancelled', () => {
  const { db } = setup();
  const at = (min: number) => new Date(Date.UTC(2030, 0, 1, 9, min));
  const e = scheduleWarm(db, { workshop: 'WKSHP-B', seats: 5, startsAt: at(0), endsAt: at(60) }, 'admin', at(-30));
  const target = (when: Date) => warmTargets(db, when).find((t) => t.folder === 'WKSHP-B')!.target;
  expect([target(at(-1)), target(at(0)), target(at(59)), target(at(60))]).toEqual([4, 9, 9, 4]); // 4 + 5, at most its 10 students
  expect(listWarmEvents(db, at(30)).map((x) => [x.id, x.active])).toEqual([[e.id, true]]);
  expect(listWarmEvents(db, at(61))).toEqual([]);
  expect(() => scheduleWarm(db, { workshop: 'WKSHP-B', seats: 11, startsAt: at(0), endsAt: at(60) }, 'admin', at(-30))).toThrow('WKSHP-B can have 10 seats at once, not 11');
  expect(() => scheduleWarm(db, { workshop: 'WKSHP-B', seats: 1, startsAt: at(60), endsAt: at(0) }, 'admin', at(-30))).toThrow('the event must end after it starts');
  expect(() => scheduleWarm(db, { workshop: 'WKSHP-B', seats: 1, startsAt: at(0), endsAt: at(10) }, 'admin', at(20))).toThrow('the event is over already');
  expect(() => scheduleWarm(db, { workshop: 'WKSHP-Nope', seats: 1, startsAt: at(0), endsAt: at(10) }, 'admin', at(-30))).toThrow('there is no workshop WKSHP-Nope');
  expect(cancelWarm(db, e.id, 'admin')).toBe(true);
  expect(cancelWarm(db, e.id, 'admin')).toBe(false);
  expect(target(at(30))).toBe(4);
});
