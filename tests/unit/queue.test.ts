/** The queue a registration waits in for its CREATE, on real SQLite rows: position, step, estimate. */
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { createQueueFacts } from '../../hub-service/src/jobs/queries';
import { enqueueJob, JobStore } from '../../hub-service/src/jobs/store';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Languages } from '../../hub-service/src/i18n/i18n';
import { describeQueue, estimateSeconds, queueProgress } from '../../hub-service/src/registrations/queue';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

/** A minute from now: jobs queued by the tests (run_at: SQLite's now) are due by then. */
const NOW = Date.now() + 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const languages = new Languages();
const [english, french] = [languages.get('en'), languages.get('fr')];
const [en, fr] = [english.t, french.t];

function setup() {
  const root = tempWorkshops();
  writeWorkshop(root, 'WKSHP-A', { range: [1, 3], capacity: 3 });
  writeWorkshop(root, 'WKSHP-B', { range: [4, 6], capacity: 3 });
  const db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 10);
  importWorkshops(db, scanWorkshops({ dir: root }, 10), 'test');
  const registrations = new Registrations(db);
  const register = (n: number, workshop: string) =>
    registrations.register({ email: `p${n}@example.com`, name: `P ${n}`, company: 'ACME', workshop, acceptTerms: true }, { source: 'api' }).id;
  /** A CREATE that ran for `seconds` and is done (on a student no registration uses). */
  const finished = (student: number, seconds: number) => {
    const id = enqueueJob(db, { verb: 'CREATE', studentId: student, source: 'cli' });
    db.prepare(`UPDATE jobs SET state = 'done', started_at = ?, finished_at = ? WHERE id = ?`).run(iso(NOW - 600_000), iso(NOW - 600_000 + seconds * 1000), id);
  };
  return { db, register, finished };
}
const createOf = (db: ReturnType<typeof setup>['db'], registrationId: number) =>
  (db.prepare(`SELECT id FROM jobs WHERE registration_id = ? AND verb = 'CREATE'`).get(registrationId) as { id: number }).id;

test('N ahead counts the CREATE jobs queued or running before this one, any workshop; no estimate without samples', () => {
  const { db, register } = setup();
  const first = register(1, 'WKSHP-A');
  const second = register(2, 'WKSHP-B');
  const third = register(3, 'WKSHP-A');
  const lifecycle = { concurrency: 2, paused: false };
  expect(queueProgress(db, first, lifecycle, english, NOW)).toMatchObject({ state: 'queued', ahead: 0, step: null, estimateSeconds: null, samples: 0 });
  expect(queueProgress(db, second, lifecycle, english, NOW)).toMatchObject({ ahead: 1 });
  const p = queueProgress(db, third, lifecycle, english, NOW)!;
  expect(p).toEqual({ state: 'queued', ahead: 2, step: null, stepLabel: null, estimateSeconds: null, samples: 0, paused: false });
  expect(describeQueue(p, en)).toBe('2 registrations ahead of you.');
  expect(describeQueue({ ...p, ahead: 1 }, en)).toBe('1 registration ahead of you.');
  expect(describeQueue({ ...p, ahead: 0 }, en)).toBe('You are next in the queue.');
  expect([describeQueue(p, fr), describeQueue({ ...p, ahead: 1 }, fr), describeQueue({ ...p, ahead: 0 }, fr)]).toEqual([
    '2 inscriptions avant vous.',
    '1 inscription avant vous.',
    'Vous êtes le prochain dans la file.',
  ]);
  // a failed CREATE in front is no longer ahead
  db.prepare(`UPDATE jobs SET state = 'failed' WHERE id = ?`).run(createOf(db, first));
  expect(queueProgress(db, third, lifecycle, english, NOW)!.ahead).toBe(1);
});

test('the estimate: median of recent CREATE durations × (ahead ÷ concurrency + 1), only from 3 samples, none while paused', () => {
  const { db, register, finished } = setup();
  register(1, 'WKSHP-A');
  register(2, 'WKSHP-B');
  const third = register(3, 'WKSHP-A');
  finished(7, 10);
  finished(8, 30);
  expect(queueProgress(db, third, { concurrency: 2, paused: false }, english, NOW)).toMatchObject({ estimateSeconds: null, samples: 2 });
  finished(9, 20);
  const p = queueProgress(db, third, { concurrency: 2, paused: false }, english, NOW)!;
  expect(p).toMatchObject({ ahead: 2, estimateSeconds: 40, samples: 3 }); // 20 s × (2/2 + 1)
  expect(describeQueue(p, en)).toBe('2 registrations ahead of you; ready in about 40 s.');
  expect(describeQueue(p, fr)).toBe('2 inscriptions avant vous\u00a0; prêt dans 40 s environ.');
  expect(queueProgress(db, third, { concurrency: 1, paused: false }, english, NOW)!.estimateSeconds).toBe(60);
  const paused = queueProgress(db, third, { concurrency: 2, paused: true }, english, NOW)!;
  expect(paused).toMatchObject({ estimateSeconds: null, paused: true });
  expect(describeQueue(paused, en)).toBe('2 registrations ahead of you; preparation is paused by the operators for now; your place is kept.');
});

test('a running CREATE shows its step and what is left of the median; a done one has no queue', () => {
  const { db, register, finished } = setup();
  const first = register(1, 'WKSHP-A');
  for (const [n, s] of [
    [7, 12],
    [8, 12],
    [9, 12],
  ])
    finished(n, s);
  const store = new JobStore(db, () => NOW);
  const job = store.claim()!;
  expect(job.id).toBe(createOf(db, first));
  store.stepDone(job, 'content');
  store.beginStep(job, 'server');
  const later = NOW + 5_000;
  const p = queueProgress(db, first, { concurrency: 4, paused: false }, english, later)!;
  expect(p).toEqual({ state: 'running', ahead: 0, step: 'server', stepLabel: 'starting your JupyterLab', estimateSeconds: 7, samples: 3, paused: false });
  expect(describeQueue(p, en)).toBe('Your lab is being prepared: starting your JupyterLab; ready in about 7 s.');
  expect(describeQueue(queueProgress(db, first, { concurrency: 4, paused: false }, french, later)!, fr)).toBe(
    'Votre lab est en préparation\u00a0: démarrage de votre JupyterLab\u00a0; prêt dans 7 s environ.',
  );
  // a step the page has no words for shows its name
  expect(describeQueue({ ...p, step: 'custom-step', stepLabel: 'custom-step', estimateSeconds: null }, en)).toBe('Your lab is being prepared: custom-step.');
  expect(createQueueFacts(db, first)).toMatchObject({ lastStep: 'content', step: 'server' });
  // past the median it still says a second, never "0 s" or less
  expect(queueProgress(db, first, { concurrency: 4, paused: false }, english, NOW + 60_000)!.estimateSeconds).toBe(1);
  store.done(job);
  expect(queueProgress(db, first, { concurrency: 4, paused: false }, english, later)).toBeNull();
});

test('estimateSeconds, table-driven; the estimate in seconds, then in minutes', () => {
  const facts = (state: 'queued' | 'running', ahead: number, recentSeconds: number[], startedAt: string | null = null) => ({ state, ahead, recentSeconds, startedAt });
  expect(estimateSeconds(facts('queued', 0, [4, 2, 3]), 4, NOW)).toBe(3);
  expect(estimateSeconds(facts('queued', 8, [4, 2, 3]), 4, NOW)).toBe(9);
  expect(estimateSeconds(facts('queued', 8, [4, 2, 3, 5]), 4, NOW)).toBe(11); // median 3.5 × 3 = 10.5
  expect(estimateSeconds(facts('queued', 8, [4, 2]), 4, NOW)).toBeNull();
  expect(estimateSeconds(facts('running', 3, [10, 10, 10], iso(NOW - 4_000)), 4, NOW)).toBe(6);
  const waiting = { state: 'queued' as const, ahead: 0, step: null, stepLabel: null, samples: 3, paused: false };
  expect([5, 89, 90, 600].map((s) => describeQueue({ ...waiting, estimateSeconds: s }, en))).toEqual([
    'You are next in the queue; ready in about 5 s.',
    'You are next in the queue; ready in about 89 s.',
    'You are next in the queue; ready in about 2 min.',
    'You are next in the queue; ready in about 10 min.',
  ]);
});
