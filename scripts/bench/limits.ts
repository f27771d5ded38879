/**
 * npm run bench:limits [-- --requests 200 --seconds 10]
 *
 * Per-student limits under attack, against a real hub in `system-users` mode (root, cgroups): two
 * students at their JupyterLab; the p95 of another student's requests (GET api/status of their
 * server, through the hub's proxy, one after the other) when all is quiet, while one student runs
 * memory hogs (3 GiB each, in a 512 MiB limit, again and again for --seconds), then while the same
 * student's fork bomb runs (at its 128-process limit, for --seconds). Target: within 2× of quiet.
 */
import { parseArgs } from 'node:util';
import type { Lab } from '../../tests/support/lab';
import { FORK_BOMB, memoryHog, p95, startLimitedHub, timeRequests, timeUntilStopped } from '../../tests/support/limited-hub';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run bench:limits -- [--requests N] [--seconds N]');
  process.exit(0);
}
const requests = Number(values.requests);
const seconds = Number(values.seconds);

/** The other student's request timings while `attack` runs. */
async function timedDuring(other: Lab, attack: () => Promise<void>): Promise<number[]> {
  const stop = timeUntilStopped(other);
  try {
    await attack();
  } catch (e) {
    await stop();
    throw e;
  }
  return stop();
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:limits needs root (system-users mode)');
  console.log('bench: starting wod in system-users mode with two students (student97, student98)…');
  const limited = await startLimitedHub({ numbers: [97, 98], limits: { memory: '512MiB', pids: 128, cpu: 1 } });
  try {
    const attacker = limited.labs.get('student97')!;
    const other = limited.labs.get('student98')!;
    await timeRequests(other, 10);
    const quiet = await timeRequests(other, requests);

    let hogs = 0;
    const hogged = await timedDuring(other, async () => {
      const until = Date.now() + seconds * 1000;
      while (Date.now() < until) {
        const out = await attacker.terminal(memoryHog(3));
        if (!/rc=137/.test(out)) throw new Error(`the memory hog was not killed: ${out.slice(-200)}`);
        hogs++;
      }
    });
    const bombed = await timedDuring(other, async () => {
      await attacker.terminal(FORK_BOMB);
      await new Promise((r) => setTimeout(r, seconds * 1000));
    });
    console.log(`bench: ${hogs} memory hogs killed; ${quiet.length}, ${hogged.length}, ${bombed.length} requests timed`);
    console.log(`limits: other students p95 quiet ${p95(quiet).toFixed(1)} ms, under memory hog ${p95(hogged).toFixed(1)} ms, under fork bomb ${p95(bombed).toFixed(1)} ms`);
  } finally {
    await limited.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
