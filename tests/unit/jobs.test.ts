import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JobEngine, type Step, TransientError } from '../../hub-service/src/jobs/engine';
import { enqueueJob, type Job, JobStore } from '../../hub-service/src/jobs/store';
import { createLogger } from '../../hub-service/src/log';
import { syncPool } from '../../hub-service/src/pool/pool';
import { openDatabase } from '../../hub-service/src/store/db';

const quiet = createLogger('error', 'test', () => {});
function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-jobs-'));
  const db = openDatabase(path.join(dir, 'wod.sqlite'));
  syncPool(db, 5);
  return { db, store: new JobStore(db) };
}
const steps = (db: ReturnType<typeof setup>['db']) => db.prepare('SELECT job_id, step, attempt, ok, output FROM job_steps ORDER BY id').all();

test("a repeated key makes one job; a student's jobs are claimed one at a time, in order", () => {
  const { db, store } = setup();
  const a = enqueueJob(db, { verb: 'CREATE', studentId: 1, source: 'cli', key: 'k1' });
  expect(enqueueJob(db, { verb: 'CREATE', studentId: 1, source: 'cli', key: 'k1' })).toBe(a);
  enqueueJob(db, { verb: 'CLEANUP', studentId: 1, source: 'cli' });
  enqueueJob(db, { verb: 'CREATE', studentId: 2, source: 'cli' });
  const first = store.claim()!;
  const second = store.claim()!;
  expect([first.verb, first.student_id, second.verb, second.student_id]).toEqual(['CREATE', 1, 'CREATE', 2]);
  expect(store.claim()).toBeNull(); // student 1's CLEANUP waits for its CREATE
  store.done(first);
  expect(store.claim()).toMatchObject({ verb: 'CLEANUP', student_id: 1 });
});

test('steps run in order and are logged; a crash resumes after the last finished step', async () => {
  const { db, store } = setup();
  const ran: string[] = [];
  const plan = (crashAt?: string): Step[] =>
    ['one', 'two', 'three'].map((name) => ({
      name,
      run: async (ctx) => {
        if (name === crashAt) throw new Error('kill -9');
        ran.push(name);
        ctx.log(`did ${name}`);
      },
    }));
  const id = enqueueJob(db, { verb: 'CREATE', studentId: 1, source: 'cli' });
  const crashing = new JobEngine({ store, plans: { CREATE: () => plan('three'), CLEANUP: () => [], RESET: () => [], PURGE: () => [] }, log: quiet });
  crashing.start();
  await crashing.drain();
  await crashing.stop();
  // simulate the process dying mid-job: mark it running again as it would have been
  db.prepare(`UPDATE jobs SET state = 'running', error = NULL WHERE id = ?`).run(id);
  const engine = new JobEngine({ store, plans: { CREATE: () => plan(), CLEANUP: () => [], RESET: () => [], PURGE: () => [] }, log: quiet });
  engine.start();
  await engine.drain();
  await engine.stop();
  expect(ran).toEqual(['one', 'two', 'three']);
  expect(store.get(id)).toMatchObject({ state: 'done', attempts: 2, last_step: 'three' });
  expect(steps(db)).toEqual([
    { job_id: id, step: 'one', attempt: 1, ok: 1, output: 'did one' },
    { job_id: id, step: 'two', attempt: 1, ok: 1, output: 'did two' },
    { job_id: id, step: 'three', attempt: 1, ok: 0, output: 'kill -9' },
    { job_id: id, step: 'three', attempt: 2, ok: 1, output: 'did three' },
  ]);
});

test('transient errors are retried with backoff; permanent ones fail the job and call onFailed', async () => {
  const { db, store } = setup();
  let calls = 0;
  const failed: Job[] = [];
  const engine = new JobEngine({
    store,
    log: quiet,
    backoffMs: 10,
    maxAttempts: 3,
    plans: {
      CREATE: () => [
        {
          name: 'flaky',
          run: async () => {
            if (++calls < 3) throw new TransientError('hub 503');
          },
        },
      ],
      CLEANUP: () => [
        {
          name: 'broken',
          run: async () => {
            throw new Error('no such workshop');
          },
        },
      ],
      RESET: () => [],
      PURGE: () => [],
    },
    onFailed: (job) => failed.push(job),
  });
  const ok = enqueueJob(db, { verb: 'CREATE', studentId: 1, source: 'cli' });
  const bad = enqueueJob(db, { verb: 'CLEANUP', studentId: 2, source: 'cli' });
  engine.start();
  await engine.drain();
  await engine.stop();
  expect(store.get(ok)).toMatchObject({ state: 'done', attempts: 3 });
  expect(store.get(bad)).toMatchObject({ state: 'failed', attempts: 1, error: 'broken: no such workshop' });
  expect(failed.map((j) => j.id)).toEqual([bad]);
});

test('never more than `concurrency` jobs at once', async () => {
  const { db, store } = setup();
  let now = 0;
  let peak = 0;
  const step: Step = {
    name: 's',
    run: async () => {
      now++;
      peak = Math.max(peak, now);
      await new Promise((r) => setTimeout(r, 20));
      now--;
    },
  };
  const engine = new JobEngine({ store, log: quiet, concurrency: 2, plans: { CREATE: () => [step], CLEANUP: () => [], RESET: () => [], PURGE: () => [] } });
  for (let s = 1; s <= 5; s++) enqueueJob(db, { verb: 'CREATE', studentId: s, source: 'cli' });
  engine.start();
  await engine.drain();
  await engine.stop();
  expect(peak).toBe(2);
  expect(db.prepare(`SELECT COUNT(*) n FROM jobs WHERE state = 'done'`).get()).toEqual({ n: 5 });
});
