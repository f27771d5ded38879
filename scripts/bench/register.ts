/**
 * npm run bench:register [-- --seconds 10 --concurrency 16]
 *
 * Sustained registrations per second and their latency, over HTTP through the hub's proxy, against
 * a running wod started for the benchmark (real JupyterHub, real SQLite file) with one workshop
 * large enough never to fill up. Prints its figures; the target on a 2-core machine is at least
 * 300 registrations/s with p99 under 50 ms.
 */
import { parseArgs } from 'node:util';
import { benchHub, percentile, registrationBody } from './common';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '2' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run bench:register -- [--seconds N] [--concurrency N] [--warmup N]');
  process.exit(0);
}
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const warmup = Number(values.warmup);
const seats = 20_000;

async function main(): Promise<void> {
  // Jobs are queued, not run: this measures registration itself, not thousands of servers starting.
  const { hub, done } = await benchHub(seats, { WOD_LIFECYCLE_PAUSED: 'true' });
  const url = `${hub.url}/services/wod/api/v1/registrations`;
  let n = 0;
  const post = async (): Promise<{ ms: number; status: number }> => {
    const body = registrationBody(n++);
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    await res.arrayBuffer();
    return { ms: performance.now() - t0, status: res.status };
  };

  /** Keeps `concurrency` requests in flight for `durationS` seconds. */
  const run = async (durationS: number, report: boolean) => {
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    const start = performance.now();
    const end = start + durationS * 1000;
    let lastReport = start;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          const { ms, status } = await post();
          latencies.push(ms);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          const now = performance.now();
          if (report && now - lastReport >= 1000) {
            lastReport = now;
            process.stdout.write(`bench: ${((now - start) / 1000).toFixed(0)} s, ${latencies.length} registrations\n`);
          }
        }
      }),
    );
    return { latencies, statuses, elapsed: (performance.now() - start) / 1000 };
  };

  try {
    console.log(`bench: warming up for ${warmup} s`);
    await run(warmup, false);
    console.log(`bench: measuring for ${seconds} s with ${concurrency} requests in flight`);
    const { latencies, statuses, elapsed } = await run(seconds, true);
    const sorted = [...latencies].sort((a, b) => a - b);
    const ok = statuses.get(201) ?? 0;
    const fmt = (x: number) => `${x.toFixed(1)} ms`;
    console.log('');
    console.log('register benchmark (POST /services/wod/api/v1/registrations through the hub proxy)');
    console.log(
      `  registrations:   ${ok} accepted (201) in ${elapsed.toFixed(1)} s; other answers: ${JSON.stringify(Object.fromEntries([...statuses].filter(([s]) => s !== 201)))}`,
    );
    console.log(`  throughput:      ${(ok / elapsed).toFixed(0)} registrations/s (target ≥ 300)`);
    console.log(
      `  latency:         p50 ${fmt(percentile(sorted, 50))}  p90 ${fmt(percentile(sorted, 90))}  p99 ${fmt(percentile(sorted, 99))} (target < 50 ms)  max ${fmt(sorted[sorted.length - 1])}`,
    );
    if (ok !== latencies.length) process.exitCode = 1;
  } finally {
    await done();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
