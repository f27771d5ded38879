/**
 * npm run bench:provision [-- --single 20 --burst 50]
 *
 * Time from a registration accepted (201) to its JupyterLab running and its credentials mail
 * written, against a real hub: one at a time (p50/p95 over --single registrations), then a burst
 * of --burst registrations at once (until the last is ready). Targets on a 2-core machine:
 * p95 single ≤ 5 s; a burst of 50 all ready ≤ 60 s.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { benchHub, percentile as pct, registrationBody } from './common';

const { values } = parseArgs({
  options: {
    single: { type: 'string', default: '20' },
    burst: { type: 'string', default: '50' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run bench:provision -- [--single N] [--burst N]');
  process.exit(0);
}
const single = Number(values.single);
const burst = Number(values.burst);
const seats = single + burst;

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const { hub, done } = await benchHub(seats);
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

  try {
    console.log(`bench: ${single} registrations one at a time`);
    const singles: number[] = [];
    for (let i = 0; i < single; i++) {
      const r = await register();
      const at = (await waitReady([r.id])).get(r.id)!;
      singles.push(at - r.accepted);
      process.stdout.write(`bench:   #${i + 1} ready in ${s(at - r.accepted)}\n`);
    }
    console.log(`bench: ${burst} registrations at once`);
    const t0 = performance.now();
    const regs = await Promise.all(Array.from({ length: burst }, register));
    const ready = await waitReady(regs.map((r) => r.id));
    const burstTimes = regs.map((r) => ready.get(r.id)! - r.accepted).sort((a, b) => a - b);
    const total = Math.max(...ready.values()) - t0;

    const sorted = [...singles].sort((a, b) => a - b);
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

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
