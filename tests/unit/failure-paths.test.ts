/** Pause means pause, the watchdog counts from the CREATE's start, and every verb owns its failure path. */
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { loadConfig } from '../../hub-service/src/config/load';
import type { HubClient } from '../../hub-service/src/hub/client';
import type { Letters } from '../../hub-service/src/journey/letters';
import { Timers } from '../../hub-service/src/journey/timers';
import type { Job } from '../../hub-service/src/jobs/store';
import type { StudentHost } from '../../hub-service/src/lifecycle/host';
import { lifecycle } from '../../hub-service/src/lifecycle/verbs';
import { NotStuck, retryStuck, stuckStudents, syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

function setup(paused = false) {
  let now = Date.now();
  const root = tempWorkshops();
  writeWorkshop(root, 'WKSHP-A', { range: [1, 5], capacity: 5 });
  const db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 5);
  importWorkshops(db, scanWorkshops({ dir: root }, 5), 'test');
  const config = loadConfig({ env: { WOD_PUBLIC_URL: 'https://wod.example.org' } });
  const apologies: number[] = [];
  const letters = { apology: (id: number) => apologies.push(id), reminder: () => {}, welcome: () => {}, thanks: () => {}, credentials: async () => {} };
  const registrations = new Registrations(db);
  const timers = new Timers(
    db,
    registrations,
    letters as unknown as Letters,
    { ...config.timers, paused },
    () => {},
    () => now,
  );
  const register = () =>
    registrations.register({ email: `p${Math.random()}@example.com`, name: 'P', company: 'C', workshop: 'WKSHP-A', acceptTerms: true }, { source: 'portal' }).id;
  const start = (id: number) => db.prepare(`UPDATE jobs SET state = 'running', started_at = ? WHERE registration_id = ? AND verb = 'CREATE'`).run(new Date(now).toISOString(), id);
  const verbs = lifecycle({ db, config, hub: {} as HubClient, host: {} as StudentHost, messenger: letters });
  const job = (verb: string, registrationId: number) => db.prepare('SELECT * FROM jobs WHERE verb = ? AND registration_id = ?').get(verb, registrationId) as Job;
  const state = (id: number) => db.prepare('SELECT state, end_reason AS endReason FROM registrations WHERE id = ?').get(id) as { state: string; endReason: string | null };
  return { db, timers, register, start, advance: (ms: number) => (now += ms), apologies, verbs, job, state, registrations };
}

test('the watchdog counts from the CREATE job start, not from the registration', () => {
  const { timers, register, start, advance, apologies, state } = setup();
  const id = register();
  advance(30 * 60_000); // waited in the queue for half an hour: not late, not started
  expect(timers.sweep().abandoned).toEqual([]);
  start(id);
  advance(9 * 60_000);
  expect(timers.sweep().abandoned).toEqual([]);
  advance(2 * 60_000);
  expect(timers.sweep().abandoned).toEqual([id]);
  expect(state(id)).toEqual({ state: 'failed', endReason: 'watchdog' });
  expect(apologies).toEqual([id]);
});

test('paused: no watchdog and no apology, however long a deployment waits', () => {
  const { timers, register, start, advance, apologies, state } = setup(true);
  const id = register();
  start(id); // even a CREATE that had started before the pause
  advance(24 * 3600_000);
  expect(timers.sweep().abandoned).toEqual([]);
  expect(state(id).state).toBe('registered');
  expect(apologies).toEqual([]);
});

test('a CREATE that gives up fails its registration, queues the PURGE and apologises, once', () => {
  const { db, register, verbs, job, state, apologies } = setup();
  const id = register();
  verbs.gaveUp(job('CREATE', id), new Error('content: hook exited with 1'));
  verbs.gaveUp(job('CREATE', id), new Error('content: hook exited with 1'));
  expect(state(id)).toEqual({ state: 'failed', endReason: 'create-failed' });
  expect(db.prepare(`SELECT verb, state FROM jobs WHERE registration_id = ? ORDER BY id`).all(id)).toEqual([
    { verb: 'CREATE', state: 'queued' },
    { verb: 'PURGE', state: 'queued' },
  ]);
  expect(apologies).toEqual([id]);
});

test('a CLEANUP that gives up leaves the student stuck with its error and its seat; a retry runs it again', () => {
  const { db, register, verbs, job, registrations } = setup();
  const id = register();
  registrations.end(id, 'admin:root', 'admin');
  const cleanup = job('CLEANUP', id);
  verbs.gaveUp(cleanup, new Error('cleanup-hook: hook exited with 1'));
  expect(stuckStudents(db)).toEqual([
    { id: 1, name: 'student1', state: 'allocated', registrationId: id, problem: 'CLEANUP gave up: cleanup-hook: hook exited with 1', jobId: cleanup.id, verb: 'CLEANUP' },
  ]);
  const retry = retryStuck(db, 1, 'admin:root');
  expect(db.prepare('SELECT verb, registration_id AS r, source, state FROM jobs WHERE id = ?').get(retry)).toEqual({ verb: 'CLEANUP', r: id, source: 'admin', state: 'queued' });
  expect(stuckStudents(db)).toEqual([]);
  expect(() => retryStuck(db, 1, 'admin:root')).toThrow(NotStuck);
  expect(db.prepare(`SELECT action FROM audit WHERE subject_type = 'student' ORDER BY id`).all()).toEqual([{ action: 'student.stuck' }, { action: 'student.retried' }]);
});
