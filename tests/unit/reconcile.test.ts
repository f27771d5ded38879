/**
 * Servers reconciled, with a fixed clock: the pure verdict for every case, and the reconciler over a
 * real SQLite file with a scripted hub: a dead server is started again and audited, a server that
 * will not start is retried with a growing wait, then shown as a problem until it is back; servers
 * past the deadline, under a job, or while paused are left alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { HubApiError, type HubServer, type HubUser } from '../../hub-service/src/hub/client';
import { judge, retryDelayMs, type Seen, ServerReconciler, serverHealth, serversDown, type Watched } from '../../hub-service/src/lifecycle/reconcile';
import { createLogger } from '../../hub-service/src/log';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { adminServer } from '../../hub-service/src/web/views';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const NOW = Date.parse('2026-03-01T10:00:00Z');
const watched = (over: Partial<Watched> = {}): Watched => ({
  registrationId: 1,
  student: 'student1',
  deadlineAt: '2026-03-01T12:00:00Z',
  failures: 0,
  retryAt: null,
  problem: null,
  busy: false,
  ...over,
});
const rules = { now: NOW, paused: false, attempts: 3 };
const ready: Seen = { ready: true, pending: null };

describe('judge', () => {
  test.each<[string, Partial<Watched>, Seen, Partial<typeof rules>, ReturnType<typeof judge>]>([
    ['a ready server is up', {}, ready, {}, { kind: 'up', wasDown: false }],
    ['a ready server after failures is up again', { failures: 2 }, ready, {}, { kind: 'up', wasDown: true }],
    ['a ready server clears a problem', { failures: 3, problem: 'down' }, ready, {}, { kind: 'up', wasDown: true }],
    ['no server: restart', {}, null, {}, { kind: 'restart', attempt: 1, reason: 'no server' }],
    ['a server neither ready nor pending: restart', {}, { ready: false, pending: null }, {}, { kind: 'restart', attempt: 1, reason: 'not ready' }],
    ['after one failure, the second attempt', { failures: 1, retryAt: '2026-03-01T09:59:59Z' }, null, {}, { kind: 'restart', attempt: 2, reason: 'no server' }],
    ['a spawn pending is left to finish', {}, { ready: false, pending: 'spawn' }, {}, { kind: 'leave', why: 'starting' }],
    ['a stop pending is left to finish', {}, { ready: false, pending: 'stop' }, {}, { kind: 'leave', why: 'stopping' }],
    ['at the deadline (the end grace), left to CLEANUP', { deadlineAt: '2026-03-01T10:00:00Z' }, null, {}, { kind: 'leave', why: 'past deadline' }],
    ['after the deadline, left to CLEANUP', { deadlineAt: '2026-03-01T09:00:00Z' }, null, {}, { kind: 'leave', why: 'past deadline' }],
    ['a job on the student stops it on purpose', { busy: true }, null, {}, { kind: 'leave', why: 'job on the student' }],
    ['paused: nothing is started', {}, null, { paused: true }, { kind: 'leave', why: 'paused' }],
    ['waiting before the next attempt', { failures: 1, retryAt: '2026-03-01T10:00:30Z' }, null, {}, { kind: 'leave', why: 'waiting to retry' }],
    ['given up after the attempts', { failures: 3, problem: 'down' }, null, {}, { kind: 'leave', why: 'given up' }],
  ])('%s', (_, w, seen, r, expected) => {
    expect(judge(watched(w), seen, { ...rules, ...r })).toEqual(expected);
  });

  test('the wait doubles after each failure, capped at 15 minutes', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 30_000))).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(retryDelayMs(10, 30_000)).toBe(15 * 60_000);
  });
});

class ScriptedHub {
  servers = new Map<string, Seen>();
  /** students whose next starts fail, with this message */
  failing = new Map<string, string>();
  starts: string[] = [];
  listed = 0;
  async listUsers(filter: { state?: string } = {}): Promise<HubUser[]> {
    this.listed++;
    expect(filter.state).toBe('active');
    return [...this.servers].filter(([, s]) => s).map(([name, s]) => ({ name, servers: { '': s as HubServer } }) as unknown as HubUser);
  }
  async startServer(name: string): Promise<'ready' | 'pending'> {
    this.starts.push(name);
    this.servers.set(name, { ready: false, pending: 'spawn' });
    return 'pending';
  }
  async waitForServer(name: string): Promise<HubServer> {
    const failure = this.failing.get(name);
    if (failure) {
      this.servers.delete(name);
      throw new HubApiError('GET', `/users/${name}/server/progress`, 0, failure);
    }
    this.servers.set(name, ready);
    return ready as HubServer;
  }
}

const roots: string[] = [];
afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

function setup(options: { paused?: boolean; attempts?: number } = {}) {
  let now = Date.now();
  const root = tempWorkshops();
  roots.push(root);
  writeWorkshop(root, 'WKSHP-A', { range: [1, 10], capacity: 10 });
  const db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 10);
  importWorkshops(db, scanWorkshops({ dir: root }, 10), 'test');
  const registrations = new Registrations(db);
  const hub = new ScriptedHub();
  const lines: string[] = [];
  const reconciler = new ServerReconciler({
    db,
    hub,
    log: createLogger('info', 't', (l) => lines.push(l)),
    intervalSeconds: 30,
    attempts: options.attempts ?? 3,
    paused: options.paused ?? false,
    serverTimeoutSeconds: 60,
    concurrency: 2,
    now: () => now,
  });
  /** a registration whose CREATE finished: ready, its server up */
  const running = (email: string) => {
    const r = registrations.register({ email, name: 'Ada', company: 'ACME', workshop: 'WKSHP-A', acceptTerms: true }, { source: 'portal' });
    db.prepare(`UPDATE jobs SET state = 'done' WHERE registration_id = ?`).run(r.id);
    db.prepare(`UPDATE registrations SET state = 'ready', ready_at = ?, deadline_at = ? WHERE id = ?`).run(
      new Date(now).toISOString(),
      new Date(now + 2 * 3600_000).toISOString(),
      r.id,
    );
    hub.servers.set(r.student!, ready);
    return { id: r.id, student: r.student! };
  };
  const auditOf = (id: number) =>
    (
      db.prepare(`SELECT action, details FROM audit WHERE subject_type = 'registration' AND subject_id = ? AND action LIKE 'server.%' ORDER BY id`).all(String(id)) as {
        action: string;
        details: string;
      }[]
    ).map((a) => ({ action: a.action, ...(JSON.parse(a.details) as object) }));
  return { db, hub, reconciler, running, auditOf, lines, advance: (ms: number) => (now += ms), registrations };
}

test('a healthy server is left alone, and the time it was seen is recorded', async () => {
  const { db, hub, reconciler, running } = setup();
  const a = running('ada@example.com');
  expect(await reconciler.sweep()).toEqual({ watched: 1, restarted: [], failed: [], gaveUp: [], recovered: [] });
  expect(hub.starts).toEqual([]);
  expect(serverHealth(db, a.id)).toEqual({ checkedAt: expect.any(String), failures: 0, problem: null });
});

test('nothing is asked of the hub while no registration runs', async () => {
  const { hub, reconciler } = setup();
  expect((await reconciler.sweep())!.watched).toBe(0);
  expect(hub.listed).toBe(0);
});

test('a server that died is started again, audited and logged', async () => {
  const { hub, reconciler, running, auditOf, lines } = setup();
  const a = running('ada@example.com');
  running('bob@example.com');
  hub.servers.delete(a.student);
  expect(await reconciler.sweep()).toMatchObject({ watched: 2, restarted: [a.student] });
  expect(hub.starts).toEqual([a.student]);
  expect(auditOf(a.id)).toEqual([{ action: 'server.restarted', student: a.student, reason: 'no server', attempt: 1 }]);
  expect(lines.join('\n')).toMatch(new RegExp(`server started again student=${a.student}`));
  expect((await reconciler.sweep())!.restarted).toEqual([]);
});

test('a server that will not start is tried again after a growing wait, then shown down until it is back', async () => {
  const { db, hub, reconciler, running, auditOf, advance, lines } = setup({ attempts: 3 });
  const a = running('ada@example.com');
  hub.servers.delete(a.student);
  hub.failing.set(a.student, 'Spawn failed: the process exited');

  expect((await reconciler.sweep())!.failed).toEqual([a.student]);
  expect(serverHealth(db, a.id)).toMatchObject({ failures: 1, problem: null });
  expect(adminServer('ready', serverHealth(db, a.id))).toMatchObject({ down: false, status: 'restarting (1 failed attempt)' });
  advance(29_000);
  await reconciler.sweep();
  expect(hub.starts).toHaveLength(1); // waits 30 s after the first failure
  advance(1_000);
  expect((await reconciler.sweep())!.failed).toEqual([a.student]);
  advance(59_000);
  await reconciler.sweep();
  expect(hub.starts).toHaveLength(2); // then 60 s
  advance(1_000);
  expect((await reconciler.sweep())!.gaveUp).toEqual([a.student]);
  expect(hub.starts).toHaveLength(3);

  const problem = serverHealth(db, a.id)!.problem;
  expect(problem).toMatch(/did not start again after 3 attempts: .*Spawn failed: the process exited/);
  expect(serversDown(db)).toEqual([{ id: a.id, student: a.student, workshop: 'WKSHP-A', email: 'ada@example.com', problem, checkedAt: expect.any(String) }]);
  expect(adminServer('ready', serverHealth(db, a.id))).toMatchObject({ down: true, problem });
  expect(adminServer('cleaned', serverHealth(db, a.id))).toBeNull(); // watched only while it runs
  expect(auditOf(a.id).map((e) => e.action)).toEqual(['server.restart-failed', 'server.restart-failed', 'server.gave-up']);
  expect(lines.join('\n')).toMatch(/gave up starting it again student=student1 .*attempts=3/);

  // given up: no more attempts, however long
  advance(3600_000 - 200_000);
  await reconciler.sweep();
  expect(hub.starts).toHaveLength(3);

  // someone starts it (the participant's login, an admin): the problem is cleared
  hub.servers.set(a.student, ready);
  expect((await reconciler.sweep())!.recovered).toEqual([a.student]);
  expect(serverHealth(db, a.id)).toMatchObject({ failures: 0, problem: null });
  expect(serversDown(db)).toEqual([]);
  expect(auditOf(a.id).at(-1)).toMatchObject({ action: 'server.recovered', student: a.student });
});

test('a restart that works after a failure clears the count', async () => {
  const { db, hub, reconciler, running, advance, auditOf } = setup();
  const a = running('ada@example.com');
  hub.servers.delete(a.student);
  hub.failing.set(a.student, 'timeout');
  await reconciler.sweep();
  hub.failing.delete(a.student);
  advance(30_000);
  expect((await reconciler.sweep())!.restarted).toEqual([a.student]);
  expect(serverHealth(db, a.id)).toMatchObject({ failures: 0, problem: null });
  expect(auditOf(a.id).at(-1)).toEqual({ action: 'server.restarted', student: a.student, reason: 'no server', attempt: 2 });
});

test('a server someone else started meanwhile is not counted as a failed restart', async () => {
  const { db, hub, reconciler, running, auditOf } = setup({ attempts: 1 });
  const a = running('ada@example.com');
  hub.servers.delete(a.student);
  hub.startServer = async (name: string) => {
    throw new HubApiError('POST', `/users/${name}/server`, 400, `${name} is already running`);
  };
  expect(await reconciler.sweep()).toMatchObject({ restarted: [], failed: [], gaveUp: [] });
  expect(serverHealth(db, a.id)).toMatchObject({ failures: 0, problem: null });
  expect(auditOf(a.id)).toEqual([]);
});

test('left alone: past the deadline, under a job (CLEANUP), a registration not ready yet, and everything while paused', async () => {
  const { db, hub, reconciler, running, registrations } = setup();
  const late = running('late@example.com');
  db.prepare(`UPDATE registrations SET deadline_at = ? WHERE id = ?`).run(new Date(Date.now() - 1000).toISOString(), late.id);
  const ended = running('ended@example.com');
  registrations.end(ended.id, 'admin:test', 'admin'); // state ended, CLEANUP queued
  const reset = running('reset@example.com');
  db.prepare(`INSERT INTO jobs (verb, student_id, registration_id, source, state) SELECT 'RESET', student_id, id, 'admin', 'running' FROM registrations WHERE id = ?`).run(
    reset.id,
  );
  const deploying = registrations.register({ email: 'new@example.com', name: 'N', company: 'C', workshop: 'WKSHP-A', acceptTerms: true }, { source: 'portal' });
  for (const s of [late.student, ended.student, reset.student, deploying.student!]) hub.servers.delete(s);
  expect(await reconciler.sweep()).toMatchObject({ watched: 2, restarted: [], failed: [] });
  expect(hub.starts).toEqual([]);

  const paused = setup({ paused: true });
  const p = paused.running('p@example.com');
  paused.hub.servers.delete(p.student);
  await paused.reconciler.sweep();
  expect(paused.hub.starts).toEqual([]);
});

test('a sweep does not start while the previous one is still restarting servers', async () => {
  const { hub, reconciler, running } = setup();
  const a = running('ada@example.com');
  hub.servers.delete(a.student);
  let release!: () => void;
  const slow = hub.waitForServer.bind(hub);
  hub.waitForServer = (name: string) => new Promise((r) => (release = () => r(slow(name)))).then((x) => x as HubServer);
  const first = reconciler.sweep();
  await new Promise((r) => setImmediate(r));
  expect(await reconciler.sweep()).toBeNull();
  release();
  expect((await first)!.restarted).toEqual([a.student]);
  expect(hub.starts).toEqual([a.student]);
});
