/**
 * A hub in `system-users` mode with per-student limits (needs root and cgroups): one workshop over
 * the given student numbers, each registered and at their JupyterLab. Shared by the limits test
 * and `npm run bench:limits`; `stop` removes the hub, the accounts, the homes and the cgroups.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONTROLLERS } from '../../hub-service/src/isolation/limit-rules';
import { detectCgroups, siteGroup } from '../../hub-service/src/isolation/limits';
import { type RunningHub, startHub } from './hub';
import { type Lab, openLab } from './lab';
import { credentialsIn, outboxMails } from './outbox';
import { tempWorkshops, writeWorkshop } from './workshops';

export interface LimitedHub {
  hub: RunningHub;
  /** by student name */
  labs: Map<string, Lab>;
  /** the students' cgroups' parent, e.g. wod/1a2b3c4d */
  group: string;
  stop(): Promise<void>;
}

export async function startLimitedHub(opts: { numbers: [number, number]; limits: Record<string, unknown>; env?: Record<string, string> }): Promise<LimitedHub> {
  const [first, last] = opts.numbers;
  const numbers = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  const workshops = tempWorkshops();
  // /tmp, not a 0700 temporary folder: students must be able to reach their homes.
  const homeRoot = path.join(os.tmpdir(), `wod-students-${crypto.randomBytes(4).toString('hex')}`);
  const removeAccounts = () => {
    for (const n of numbers) spawnSync('userdel', [`student${n}`]);
    for (const n of numbers) spawnSync('groupdel', [`student${n}`]);
  };
  removeAccounts(); // left by an interrupted run
  writeWorkshop(workshops, 'WKSHP-Limits', { range: opts.numbers, capacity: numbers.length, limits: opts.limits });
  const hub = await startHub({
    env: {
      WOD_WORKSHOPS_DIR: workshops,
      WOD_STUDENTS_MODE: 'system-users',
      WOD_STUDENTS_HOME_ROOT: homeRoot,
      WOD_STUDENTS_UID_BASE: String(67000 + crypto.randomInt(1000)), // apart from the other system-users tests
      ...opts.env,
    },
  });
  const group = siteGroup(hub.dataDir);
  const stop = async () => {
    await hub.stop();
    removeAccounts();
    const layout = detectCgroups();
    const roots = layout.version === 'v1' ? CONTROLLERS.map((c) => layout.mounts[c]).filter((m) => m !== undefined) : layout.version === 'v2' ? [layout.root] : [];
    for (const root of roots) {
      for (const dir of [...numbers.map((n) => path.join(root, group, `student${n}`)), path.join(root, group)]) {
        try {
          fs.rmdirSync(dir);
        } catch {
          /* gone already, or still in use */
        }
      }
    }
    fs.rmSync(homeRoot, { recursive: true, force: true });
    fs.rmSync(workshops, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < numbers.length; i++) {
      const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: `limits${i}@example.com`, name: 'S', company: 'C', workshop: 'WKSHP-Limits', acceptTerms: true }),
      });
      if (res.status !== 201) throw new Error(`registration answered ${res.status}: ${await res.text()}`);
    }
    const until = Date.now() + 120_000;
    const ready = async () => (await outboxMails(hub.dataDir)).filter((m) => m.subject?.includes('is ready'));
    while ((await ready()).length < numbers.length && Date.now() < until) await new Promise((r) => setTimeout(r, 300));
    const labs = new Map<string, Lab>();
    for (const m of await ready()) {
      const c = credentialsIn(m);
      labs.set(c.student, await openLab(hub.url, c.student, c.password));
    }
    if (labs.size !== numbers.length) throw new Error(`only ${labs.size} of ${numbers.length} students ready`);
    return { hub, labs, group, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** GETs the server's api/status `times` times, one after the other: each request's milliseconds. */
export async function timeRequests(lab: Lab, times: number): Promise<number[]> {
  const took: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    const res = await fetch(new URL('api/status', lab.base), { headers: { Authorization: `token ${lab.token}` } });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`api/status: HTTP ${res.status}`);
    took.push(performance.now() - t0);
  }
  return took;
}

/** Times requests to `lab` until the returned function is called; it resolves to the timings. */
export function timeUntilStopped(lab: Lab): () => Promise<number[]> {
  const took: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) took.push(...(await timeRequests(lab, 1)));
  })();
  return async () => {
    running = false;
    await loop;
    return took;
  };
}

export const p95 = (ms: number[]) => [...ms].sort((a, b) => a - b)[Math.min(ms.length - 1, Math.floor(0.95 * ms.length))];

/** A fork bomb, left running in the background of a terminal (bash: it needs no file). */
export const FORK_BOMB = `bash -c 'bomb() { bomb | bomb & }; bomb' >/dev/null 2>&1 </dev/null & disown`;

/** Python allocating (and touching) `gib` GiB at once; the terminal prints rc=137 when the kernel killed it. */
export const memoryHog = (gib: number) => `python3 -c "b = b'x' * (${gib} * 1024 ** 3); print('ALLOCATED')"; echo "rc=$?"`;
