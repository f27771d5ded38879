/**
 * Per-student limits in `system-users` mode, with real processes (as root, as CI runs): a
 * participant's server and everything it starts live in the student's cgroup with the workshop's
 * limits; a memory hog in their terminal is killed inside that group, a fork bomb stops at its
 * process limit, and meanwhile another student's server keeps answering quickly; CLEANUP removes
 * the group and whatever was left in it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { detectCgroups } from '../../hub-service/src/isolation/limits';
import { attack } from '../support/attacks';
import { FORK_BOMB, type LimitedHub, memoryHog, p95, startLimitedHub, timeRequests, timeUntilStopped } from '../support/limited-hub';

const asRoot = process.getuid?.() === 0;
const layout = detectCgroups();
const MiB = 1024 ** 2;

(asRoot && layout.version === 'v1' ? describe : describe.skip)('per-student limits (system-users, cgroup v1)', () => {
  let limited: LimitedHub;
  const mounts = layout.version === 'v1' ? layout.mounts : {};
  const dir = (controller: 'memory' | 'cpu' | 'pids', student: string) => path.join(mounts[controller]!, limited.group, student);
  const read = (controller: 'memory' | 'cpu' | 'pids', student: string, name: string) => fs.readFileSync(path.join(dir(controller, student), name), 'utf8').trim();

  beforeAll(async () => {
    limited = await startLimitedHub({
      numbers: [95, 96],
      // the workshop's over the site's: memory and pids from the workshop, cpu from the site
      limits: { memory: '384MiB', pids: 64 },
      env: { WOD_STUDENTS_LIMITS_CPU: '0.5', WOD_STUDENTS_LIMITS_PIDS: '4096' },
    });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  test("the server, its kernels and terminals are in the student's cgroup, with the workshop's limits over the site's", async () => {
    const { group, labs, hub } = limited;
    expect(Number(read('memory', 'student95', 'memory.limit_in_bytes'))).toBe(384 * MiB);
    expect(read('pids', 'student95', 'pids.max')).toBe('64');
    expect(read('cpu', 'student95', 'cpu.cfs_quota_us')).toBe('50000');
    const inKernel = await labs.get('student95')!.kernel("print(open('/proc/self/cgroup').read())");
    for (const c of ['memory', 'cpu', 'pids']) expect(inKernel).toMatch(new RegExp(`:${c}:/${group}/student95$`, 'm'));
    expect(await labs.get('student95')!.terminal('grep -E ":(memory|pids):" /proc/self/cgroup')).toMatch(new RegExp(`memory:/${group}/student95`));
    // every process of the account, the server first
    const pids = spawnSync('pgrep', ['-u', 'student95'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`memory:/${group}/student95`);
    expect(await hub.cli('limits')).toMatch(/cgroup v1 under .*memory 2 GiB \(no swap\), cpu 0\.5 core\(s\), pids 4096/);
  });

  test("a memory hog loses its process inside the student's group, a fork bomb stops at pids.max, the other student's server keeps answering", async () => {
    const { labs, hub } = limited;
    const hog = labs.get('student95')!;
    const calm = labs.get('student96')!;
    await timeRequests(calm, 5); // connections and caches warm
    const quiet = await timeRequests(calm, 40);

    const stopTiming = timeUntilStopped(calm);
    let during: number[] = [];
    try {
      // far beyond 384 MiB: the kernel's OOM killer, limited to the group, kills the hog
      await attack('limits: a terminal allocates 3 GiB, beyond its 384 MiB', async () => {
        const out = await hog.terminal(memoryHog(3));
        expect(out).not.toMatch(/^ALLOCATED/m);
        expect(out).toMatch(/rc=137/);
        expect(read('memory', 'student95', 'memory.oom_control')).toMatch(/oom_kill [1-9]/);
      });
      await attack('limits: a memory hog takes the server with it', async () => {
        expect((await hog.kernel('print(6 * 7)')).trim()).toBe('42');
      });
      // a real fork bomb, left running: it stays at the group's 64 processes
      await attack('limits: a fork bomb in a terminal', async () => {
        await hog.terminal(FORK_BOMB);
        const t0 = Date.now();
        while (Date.now() - t0 < 5_000) {
          expect(Number(read('pids', 'student95', 'pids.current'))).toBeLessThanOrEqual(64);
          await new Promise((r) => setTimeout(r, 250));
        }
        expect(Number(read('pids', 'student95', 'pids.events').replace(/\D+/g, ''))).toBeGreaterThan(0);
      });
    } finally {
      during = await stopTiming();
    }
    await attack("limits: another student's server slows down under the attacks", () => {
      console.log(`limits test: student96 p95 quiet ${p95(quiet).toFixed(1)} ms, under attack ${p95(during).toFixed(1)} ms (${during.length} requests)`);
      expect(during.length).toBeGreaterThan(10);
      expect(p95(during)).toBeLessThan(Math.max(1_000, 5 * p95(quiet)));
    });

    // CLEANUP stops the server, kills what is left (the bomb) and removes the group
    expect(await hub.cli('action', 'CLEANUP', 'WKSHP-Limits', '95', '--direct', '--timeout', '90')).toMatch(/limits-removed/);
    for (const c of ['memory', 'cpu', 'pids'] as const) expect(fs.existsSync(dir(c, 'student95'))).toBe(false);
    // nothing of the student's left alive (a zombie the host's init has not reaped yet runs nothing)
    const ps = spawnSync('ps', ['-u', 'student95', '-o', 'pid=,stat=,args='], { encoding: 'utf8' }).stdout;
    expect(ps.split('\n').filter((l) => l.trim() && !/^\s*\d+\s+Z/.test(l))).toEqual([]);
    // the other student's group is untouched
    expect(fs.existsSync(dir('memory', 'student96'))).toBe(true);
  });
});
