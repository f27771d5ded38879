import fs from 'node:fs';
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { loadConfig } from '../../hub-service/src/config/load';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import type { HubUser } from '../../hub-service/src/hub/client';
import { syncPool } from '../../hub-service/src/pool/pool';
import type { RegistrationState } from '../../hub-service/src/registrations/states';
import { workshopRoom } from '../../hub-service/src/stats/room';
import { bucketCounts, dashboardStats, firstBucket, percentile, percentiles } from '../../hub-service/src/stats/stats';
import { type Db, openDatabase } from '../../hub-service/src/store/db';
import { openApiDocument } from '../../hub-service/src/web/openapi';
import { presentRoom, presentStats } from '../../hub-service/src/web/stats-view';
import { type OpenApiDocument, ResponseChecker } from '../support/openapi';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const NOW = new Date('2026-05-10T12:34:00.000Z');
let root: string;
let db: Db;
let n = 0;

beforeEach(() => {
  root = tempWorkshops();
  writeWorkshop(root, 'WKSHP-A', { name: 'Alpha', range: [1, 5], priority: 1 });
  writeWorkshop(root, 'WKSHP-B', { name: 'Beta', range: [6, 10], priority: 2 });
  db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 10);
  importWorkshops(db, scanWorkshops({ dir: root }, 10), 'test');
});
afterEach(() => {
  db.close();
  fs.rmSync(root, { recursive: true, force: true });
});

interface Row {
  workshop?: string;
  createdAt?: string;
  /** seconds from created to ready */
  readyAfter?: number;
  state?: RegistrationState;
  completion?: number;
  rating?: number;
  student?: string;
  deadlineAt?: string;
  progress?: [executed: number, total: number];
}
/** A registration as the desk and the lifecycle would have left it, with its own participant. */
function insert(r: Row = {}): number {
  n++;
  const participant = db.prepare(`INSERT INTO participants (email, name, company) VALUES (?, ?, 'ACME')`).run(`p${n}@example.com`, `Person ${n}`).lastInsertRowid;
  const workshop = (db.prepare('SELECT id FROM workshops WHERE folder = ?').get(r.workshop ?? 'WKSHP-A') as { id: number }).id;
  const student = r.student ? (db.prepare('SELECT id FROM students WHERE name = ?').get(r.student) as { id: number }).id : null;
  const createdAt = r.createdAt ?? NOW.toISOString();
  const readyAt = r.readyAfter === undefined ? null : new Date(Date.parse(createdAt) + r.readyAfter * 1000).toISOString();
  const survey = r.rating === undefined ? null : JSON.stringify({ rating: r.rating, good: '', improve: '', recommend: true, answeredAt: createdAt });
  return Number(
    db
      .prepare(
        `INSERT INTO registrations (participant_id, workshop_id, student_id, state, created_at, ready_at, deadline_at, completion, survey,
                                    progress_executed, progress_total, progress_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        participant,
        workshop,
        student,
        r.state ?? 'cleaned',
        createdAt,
        readyAt,
        r.deadlineAt ?? null,
        r.completion ?? null,
        survey,
        r.progress?.[0] ?? null,
        r.progress?.[1] ?? null,
        r.progress ? createdAt : null,
      ).lastInsertRowid,
  );
}

describe('pure figures', () => {
  test.each([
    [[], 50, null],
    [[7], 95, 7],
    [[1, 2, 3, 4], 50, 2.5],
    [[10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90, 91],
    [[10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 95, 95.5],
    [[3, 1, 2], 0, 1],
    [[3, 1, 2], 100, 3],
  ])('percentile of %j at p%d is %p (between the closest ranks)', (values, p, expected) => {
    const got = percentile(
      [...values].sort((a, b) => a - b),
      p,
    );
    if (expected === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(expected, 9);
  });

  test('percentiles sort their input and count it', () => {
    expect(percentiles([30, 10, 20])).toEqual({ n: 3, p50: 20, p90: 28, p95: 29 });
    expect(percentiles([])).toEqual({ n: 0, p50: null, p90: null, p95: null });
  });

  test('buckets are aligned to UTC hours and days and end with the one holding now', () => {
    expect(firstBucket(NOW, 3_600_000, 24).toISOString()).toBe('2026-05-09T13:00:00.000Z');
    expect(firstBucket(NOW, 86_400_000, 30).toISOString()).toBe('2026-04-11T00:00:00.000Z');
    const start = new Date('2026-05-10T10:00:00.000Z');
    // before the first, in each, and past the last are counted where they belong or left out
    const times = ['2026-05-10T09:59:59.999Z', '2026-05-10T10:00:00.000Z', '2026-05-10T10:59:59.999Z', '2026-05-10T12:00:00.000Z', '2026-05-10T13:00:00.000Z'];
    expect(bucketCounts(times, start, 3_600_000, 3)).toEqual([2, 0, 1]);
  });
});

describe('dashboardStats', () => {
  test('registrations per hour over 24 hours and per day over 30 days, zero-filled, at the bucket edges', () => {
    insert({ createdAt: '2026-05-10T12:00:00.000Z' }); // the current hour: last
    insert({ createdAt: '2026-05-10T12:33:59.000Z' });
    insert({ createdAt: '2026-05-10T11:59:59.999Z' }); // the hour before
    insert({ createdAt: '2026-05-09T13:00:00.000Z', workshop: 'WKSHP-B' }); // the first hour of the day series
    insert({ createdAt: '2026-05-09T12:59:59.999Z' }); // older than 24 hours: the month only
    insert({ createdAt: '2026-04-11T00:00:00.000Z' }); // the first day of the month series
    insert({ createdAt: '2026-04-10T23:59:59.999Z' }); // older than 30 days: nowhere

    const { registrations } = dashboardStats(db, NOW);
    expect(registrations.lastDay.start).toBe('2026-05-09T13:00:00.000Z');
    expect(registrations.lastDay.stepSeconds).toBe(3600);
    expect(registrations.lastDay.counts).toEqual([1, ...new Array(21).fill(0), 1, 2]);
    expect(registrations.lastMonth.start).toBe('2026-04-11T00:00:00.000Z');
    expect(registrations.lastMonth.stepSeconds).toBe(86_400);
    expect(registrations.lastMonth.counts).toEqual([1, ...new Array(27).fill(0), 2, 3]);
  });

  test('provision time percentiles per day and overall, from ready_at − created_at; never-ready ones left out', () => {
    for (let i = 1; i <= 10; i++) insert({ createdAt: '2026-05-10T08:00:00.000Z', readyAfter: i * 10 });
    insert({ createdAt: '2026-05-08T08:00:00.000Z', readyAfter: 30 });
    insert({ createdAt: '2026-05-10T09:00:00.000Z', state: 'failed' }); // never ready
    insert({ createdAt: '2026-04-01T08:00:00.000Z', readyAfter: 5000 }); // older than 30 days

    const { provision } = dashboardStats(db, NOW);
    const days = provision.byDay.days;
    expect(days).toHaveLength(30);
    expect(days[29].n).toBe(10);
    expect(days[29].p50).toBeCloseTo(55, 6);
    expect(days[29].p90).toBeCloseTo(91, 6);
    expect(days[29].p95).toBeCloseTo(95.5, 6);
    expect(days[27]).toEqual({ n: 1, p50: expect.closeTo(30, 6), p90: expect.closeTo(30, 6), p95: expect.closeTo(30, 6) });
    expect(days[28]).toEqual({ n: 0, p50: null, p90: null, p95: null });
    expect(provision.overall.n).toBe(11);
    expect(provision.overall.p50).toBeCloseTo(50, 6);
  });

  test('completion per workshop: measured, the share that ran every cell, the mean; none measured is null', () => {
    insert({ completion: 1 });
    insert({ completion: 0.5 });
    insert({ completion: 1 });
    insert({ state: 'ready' }); // running: not measured yet
    const { completion } = dashboardStats(db, NOW);
    expect(completion.map((c) => c.folder)).toEqual(['WKSHP-A', 'WKSHP-B']);
    expect(completion[0]).toEqual({ folder: 'WKSHP-A', name: 'Alpha', measured: 3, finished: 2, finishedShare: 2 / 3, meanCompletion: expect.closeTo(2.5 / 3, 9) });
    expect(completion[1]).toEqual({ folder: 'WKSHP-B', name: 'Beta', measured: 0, finished: 0, finishedShare: null, meanCompletion: null });
  });

  test('survey ratings as a distribution per workshop', () => {
    insert({ rating: 5 });
    insert({ rating: 4 });
    insert({ rating: 5 });
    insert({ rating: 1, workshop: 'WKSHP-B' });
    insert({});
    const { surveys } = dashboardStats(db, NOW);
    expect(surveys).toEqual([
      { folder: 'WKSHP-A', name: 'Alpha', answers: 3, ratings: [0, 0, 0, 1, 2], meanRating: expect.closeTo(14 / 3, 9) },
      { folder: 'WKSHP-B', name: 'Beta', answers: 1, ratings: [1, 0, 0, 0, 0], meanRating: 1 },
    ]);
  });

  test('an empty database gives zeros and nulls, not errors', () => {
    const s = dashboardStats(db, NOW);
    expect(s.registrations.lastDay.counts).toEqual(new Array(24).fill(0));
    expect(s.provision.overall).toEqual({ n: 0, p50: null, p90: null, p95: null });
    expect(s.surveys[0].ratings).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('workshopRoom', () => {
  const hubUser = (name: string, lastActivity: string | null, server?: string | null): HubUser => ({
    name,
    admin: false,
    groups: [],
    server: null,
    pending: null,
    last_activity: lastActivity,
    ...(server === undefined ? {} : { servers: { '': { name: '', ready: true, pending: null, url: '', started: null, last_activity: server, progress_url: '' } } }),
  });

  function seatRoom() {
    const deadline = new Date(NOW.getTime() + 3_725_000).toISOString();
    const ready = insert({ state: 'ready', student: 'student2', deadlineAt: deadline, progress: [3, 8] });
    const deploying = insert({ state: 'deploying', student: 'student1' });
    const late = insert({ state: 'reminded', student: 'student3', deadlineAt: new Date(NOW.getTime() - 5000).toISOString() });
    insert({ state: 'registered', student: 'student4' }); // waiting for its CREATE: not in the room yet
    insert({ state: 'ended', student: 'student5' });
    insert({ state: 'ready', student: 'student6', workshop: 'WKSHP-B', deadlineAt: deadline });
    return { ready, deploying, late };
  }

  test('lists who is deploying or working, by student, with progress, time left and the hub’s last activity', async () => {
    const { ready, deploying, late } = seatRoom();
    const hub = {
      listUsers: async () => [
        hubUser('student2', '2026-05-10T12:00:00.000Z', '2026-05-10T12:30:00.000Z'),
        hubUser('student3', '2026-05-10T11:00:00.000Z'),
        hubUser('student1', null),
      ],
    };
    const room = await workshopRoom(db, hub, 'WKSHP-A', NOW);
    expect(room).toMatchObject({ folder: 'WKSHP-A', name: 'Alpha', now: NOW.toISOString(), hubAnswered: true });
    expect(room!.participants.map((p) => [p.id, p.student, p.state, p.secondsLeft, p.lastActivity, p.progress && [p.progress.executed, p.progress.total]])).toEqual([
      [deploying, 'student1', 'deploying', null, null, null],
      [ready, 'student2', 'ready', 3725, '2026-05-10T12:30:00.000Z', [3, 8]], // the server's activity, not the user's
      [late, 'student3', 'reminded', 0, '2026-05-10T11:00:00.000Z', null], // past the deadline: 0, never negative
    ]);
    expect(room!.participants[1].name).toMatch(/^Person \d+$/);
  });

  test('a hub that does not answer leaves every last activity unknown, and the room still shows', async () => {
    seatRoom();
    const room = await workshopRoom(db, { listUsers: () => Promise.reject(new Error('connect ECONNREFUSED')) }, 'WKSHP-A', NOW);
    expect(room!.hubAnswered).toBe(false);
    expect(room!.participants).toHaveLength(3);
    expect(room!.participants.every((p) => p.lastActivity === null)).toBe(true);
  });

  test('an unknown workshop has no room', async () => {
    const asked = jest.fn(async () => []);
    expect(await workshopRoom(db, { listUsers: asked }, 'WKSHP-Nope', NOW)).toBeNull();
    expect(asked).not.toHaveBeenCalled();
  });
});

test('what the API answers for the stats and a room conforms to the OpenAPI document', async () => {
  const checker = new ResponseChecker(openApiDocument(loadConfig({ env: {} })) as unknown as OpenApiDocument);
  insert({ createdAt: '2026-05-10T08:00:00.000Z', readyAfter: 12.5, completion: 0.75, rating: 4 });
  insert({ state: 'ready', student: 'student1', deadlineAt: '2026-05-10T14:00:00.000Z', progress: [1, 2], readyAfter: 3 });
  const stats = JSON.parse(JSON.stringify(presentStats(dashboardStats(db, NOW))));
  expect(checker.problems('/admin/stats', 'get', 200, stats)).toEqual([]);
  const hub = { listUsers: async () => [{ name: 'student1', admin: false, groups: [], server: null, pending: null, last_activity: '2026-05-10T12:00:00.123456Z' }] };
  const room = JSON.parse(JSON.stringify(presentRoom((await workshopRoom(db, hub, 'WKSHP-A', NOW))!)));
  expect(room.participants).toHaveLength(1);
  expect(checker.problems('/admin/workshops/{folder}/room', 'get', 200, room)).toEqual([]);
  expect(checker.problems('/admin/workshops/{folder}/room', 'get', 200, { ...room, participants: [{ ...room.participants[0], email: 'x@example.com' }] })).not.toEqual([]);
});
