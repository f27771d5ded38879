/**
 * npm run bench:provision [-- --single 20 --burst 50 --warm-single 20 --warm-burst 100]
 *
 * Time from a registration accepted (201) to its JupyterLab running and its credentials mail
 * written, against a real hub: one at a time (p50/p95 over --single registrations), then a burst
 * of --burst registrations at once (until the last is ready), on cold seats; then the same on warm
 * seats (lifecycle/warm.ts), in a second wod whose workshop keeps --warm-burst seats warm: singles
 * while the pool refills behind them, then, once it is full again, a burst of --warm-burst. A
 * phase of 0 is skipped. Targets on a 2-core machine: p95 single ≤ 5 s; a burst of 50 all ready
 * ≤ 60 s; warm single p95 ≤ 1 s; a warm burst of 100 all ready ≤ 15 s.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import type { RunningHub } from '../../tests/support/hub';
import { benchHub, percentile as pct, registrationBody } from './common';

const { values } = parseArgs({
  options: {
    single: { type: 'string', default: '20' },
    burst: { type: 'string', default: '50' },
    'warm-single': { type: 'string', default: '20' },
    'warm-burst': { type: 'string', default: '100' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run bench:provision -- [--single N] [--burst N] [--warm-single N] [--warm-burst N]');
  process.exit(0);
}
const single = Number(values.single);
const burst = Number(values.burst);
const warmSingle = Number(values['warm-single']);
const warmBurst = Number(values['warm-burst']);

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Registering and waiting for ready, on one running wod. */
function client(hub: RunningHub) {
  const outbox = path.join(hub.dataDir, 'outbox');
  let n = 0;
  const register = async (): Promise<{ id: number; accepted: number }> => {
    const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: registrationBody(n++),
    });
    if (res.status !== 201) throw new Error(`registration answered ${res.status}: ${await res.text()}`);
    return { id: ((await res.json()) as { registration: { id: number } }).registration.id, accepted: performance.now() };
  };
  /** Ready = the CREATE job's last step wrote the credentials mail. */
  const waitReady = async (ids: number[]): Promise<Map<number, number>> => {
    const ready = new Map<number, number>();
    const deadline = performance.now() + 600_000;
    while (ready.size < ids.length) {
      if (performance.now() > deadline) throw new Error(`only ${ready.size} of ${ids.length} ready after 600 s`);
      const files = fs.existsSync(outbox) ? fs.readdirSync(outbox) : [];
      for (const id of ids) {
        if (!ready.has(id) && files.some((f) => f.startsWith(`credentials-${id}-job-`) && f.endsWith('.eml'))) ready.set(id, performance.now());
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return ready;
  };
  /** One at a time: each registration's time to ready, sorted. */
  const singles = async (count: number): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const r = await register();
      const at = (await waitReady([r.id])).get(r.id)!;
      times.push(at - r.accepted);
      process.stdout.write(`bench:   #${i + 1} ready in ${s(at - r.accepted)}\n`);
    }
    return times.sort((a, b) => a - b);
  };
  /** All at once: until the last is ready, and each one's time. */
  const burstOf = async (count: number): Promise<{ total: number; each: number[] }> => {
    const t0 = performance.now();
    const regs = await Promise.all(Array.from({ length: count }, register));
    const ready = await waitReady(regs.map((r) => r.id));
    return { total: Math.max(...ready.values()) - t0, each: regs.map((r) => ready.get(r.id)! - r.accepted).sort((a, b) => a - b) };
  };
  return { singles, burstOf };
}

/** Waits until the workshop has `count` warm seats ready, saying how many as they come. */
async function warmReady(hub: RunningHub, count: number): Promise<number> {
  const t0 = performance.now();
  const db = new Database(path.join(hub.dataDir, 'wod.sqlite'), { readonly: true });
  try {
    for (let last = -1; ;) {
      const { n } = db.prepare(`SELECT COUNT(*) AS n FROM students WHERE state = 'free' AND warm_workshop_id IS NOT NULL`).get() as { n: number };
      if (n !== last && n % 10 === 0) process.stdout.write(`bench:   ${n} of ${count} warm seats ready\n`);
      last = n;
      if (n >= count) return performance.now() - t0;
      if (performance.now() - t0 > 1_800_000) throw new Error(`only ${n} of ${count} warm seats after 30 min`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    db.close();
  }
}

async function cold(): Promise<void> {
  if (!single && !burst) return;
  const { hub, done } = await benchHub(single + burst);
  const { singles: one, burstOf } = client(hub);
  try {
    console.log(`bench: ${single} registrations one at a time`);
    const sorted = await one(single);
    console.log(`bench: ${burst} registrations at once`);
    const { total, each: burstTimes } = await burstOf(burst);
    console.log('');
    console.log('provision benchmark (registration accepted → JupyterLab running and credentials mailed)');
    console.log(`  single (${single}):  p50 ${s(pct(sorted, 50))}  p95 ${s(pct(sorted, 95))}  max ${s(sorted[sorted.length - 1])}  (target p95 ≤ 5 s)`);
    console.log(`  burst (${burst}):   all ready in ${s(total)}  (target ≤ 60 s); each: p50 ${s(pct(burstTimes, 50))}  p95 ${s(pct(burstTimes, 95))}`);
    // Where the time goes: the CREATE steps, from the jobs' own log.
    const db = new Database(path.join(hub.dataDir, 'wod.sqlite'), { readonly: true });
    const rows = db
      .prepare(
        `SELECT s.step, (julianday(s.finished_at) - julianday(s.started_at)) * 86400000 AS ms FROM job_steps s JOIN jobs j ON j.id = s.job_id WHERE j.verb = 'CREATE' AND s.ok = 1`,
      )
      .all() as { step: string; ms: number }[];
    db.close();
    const bySteps = new Map<string, number[]>();
    for (const r of rows) bySteps.set(r.step, [...(bySteps.get(r.step) ?? []), r.ms]);
    console.log('  CREATE steps (p50 / p95 over all jobs):');
    for (const [step, ms] of bySteps) {
      const sortedMs = ms.sort((a, b) => a - b);
      console.log(`    ${step.padEnd(18)} ${(pct(sortedMs, 50) / 1000).toFixed(2)} s / ${(pct(sortedMs, 95) / 1000).toFixed(2)} s`);
    }
  } finally {
    await done();
  }
}

async function warm(): Promise<void> {
  if (!warmSingle && !warmBurst) return;
  const pool = Math.max(warmBurst, 1);
  // the range holds the singles' seats, the warm pool behind them, and room to refill
  const { hub, done } = await benchHub(warmSingle + pool + 10, { WOD_LIFECYCLE_WARM_SEATS_MAX: String(pool) }, undefined, { warm: pool });
  const { singles: one, burstOf } = client(hub);
  try {
    console.log(`bench: waiting for ${pool} warm seats`);
    const prepared = await warmReady(hub, pool);
    console.log(`bench: ${pool} warm seats ready in ${s(prepared)}; ${warmSingle} registrations one at a time (the pool refills behind them)`);
    const sorted = await one(warmSingle);
    console.log(`bench: waiting for the pool to be full again`);
    await warmReady(hub, pool);
    console.log(`bench: ${warmBurst} registrations at once, on warm seats`);
    const burstResult = warmBurst ? await burstOf(warmBurst) : null;
    console.log('');
    console.log('provision benchmark on warm seats (registration accepted → JupyterLab running and credentials mailed)');
    if (warmSingle) console.log(`warm single: p50 ${s(pct(sorted, 50))} p95 ${s(pct(sorted, 95))}  (target p95 ≤ 1 s)`);
    if (burstResult)
      console.log(`warm burst ${warmBurst}: all ready in ${s(burstResult.total)}  (target ≤ 15 s); each: p50 ${s(pct(burstResult.each, 50))}  p95 ${s(pct(burstResult.each, 95))}`);
  } finally {
    await done();
  }
}

async function main(): Promise<void> {
  await cold();
  await warm();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
