/**
 * npm run bench:pool [-- --count 2000 --baseline 20 --pages 10]
 *
 * A large student pool against a real hub. For --baseline then --count students (four workshops
 * sharing the pool): the time from `wod start` to the hub and the service answering ready and the
 * catalog listing, and how many users the hub holds then (none of the students: they are created
 * when first allocated). Then, at --count with students in every state (allocated, cleanup, stuck),
 * the size and median time of the admin pool page, of the REST `/admin/pool` page of one workshop
 * and of `/admin/pool/summary`. Last, --warm seats kept warm (lifecycle/warm.ts): the resident
 * memory of each one's server and its children, as the capacity meter reads it. Targets on a
 * 2-core machine: `pool 2000: ready in X s` ≤ 60 s and close to the baseline; `memory per warm
 * seat: X MiB` ≤ 150 MiB.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { adminToken, type RunningHub, startHub } from '../../tests/support/hub';
import { Browser } from '../../tests/support/browser';
import { tempWorkshops, writeWorkshop } from '../../tests/support/workshops';
import { totalRss } from '../../hub-service/src/capacity/meter';
import { findProcesses } from '../../hub-service/src/lifecycle/processes';
import { percentile } from './common';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '2000' },
    baseline: { type: 'string', default: '20' },
    pages: { type: 'string', default: '10' },
    warm: { type: 'string', default: '10' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run bench:pool -- [--count N] [--baseline N] [--pages N] [--warm N]');
  process.exit(0);
}
const count = Number(values.count);
const baseline = Number(values.baseline);
const pages = Number(values.pages);
const warm = Number(values.warm);
const WORKSHOPS = 4;

/** Starts wod with `students` students split over four workshops; times it until ready and the catalog answers. */
async function timedStart(students: number): Promise<{ hub: RunningHub; readyMs: number; done: () => Promise<void> }> {
  const workshops = tempWorkshops();
  const size = Math.floor(students / WORKSHOPS);
  for (let w = 0; w < WORKSHOPS; w++) {
    const last = w === WORKSHOPS - 1 ? students : (w + 1) * size;
    writeWorkshop(workshops, `WKSHP-Pool${w + 1}`, { range: [w * size + 1, last], capacity: last - w * size, priority: w + 1 });
  }
  console.log(`bench: starting wod (JupyterHub, proxy, service) with a pool of ${students} students…`);
  const t0 = performance.now();
  const hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_STUDENTS_COUNT: String(students), WOD_LOG_LEVEL: 'warn' } });
  const catalog = await fetch(`${hub.url}/services/wod/api/v1/workshops`);
  const listed = ((await catalog.json()) as { items: unknown[] }).items.length;
  if (catalog.status !== 200 || listed !== WORKSHOPS) throw new Error(`the catalog answered ${catalog.status} with ${listed} workshop(s)`);
  const readyMs = performance.now() - t0;
  return {
    hub,
    readyMs,
    done: async () => {
      await hub.stop();
      fs.rmSync(workshops, { recursive: true, force: true });
    },
  };
}

/** The users the hub holds, through its REST API with the admin's token. */
async function hubUsers(hub: RunningHub): Promise<string[]> {
  const token = await adminToken(hub);
  const res = await fetch(`${hub.url}/hub/api/users?limit=10000`, { headers: { Authorization: `token ${token}`, Accept: 'application/jupyterhub-pagination+json' } });
  const body = (await res.json()) as { items: { name: string }[] };
  return body.items.map((u) => u.name);
}

/** Puts students in every state, as a busy event would leave them: 10 % allocated, 2 % to clean, 3 stuck. */
function mixStates(hub: RunningHub, students: number): void {
  const db = new Database(path.join(hub.dataDir, 'wod.sqlite'));
  try {
    db.pragma('busy_timeout = 5000');
    db.transaction(() => {
      db.prepare(`UPDATE students SET state = 'allocated' WHERE id % 10 = 3 AND id <= ?`).run(students);
      db.prepare(`UPDATE students SET state = 'cleanup' WHERE id % 50 = 7 AND id <= ?`).run(students);
      for (const id of [5, Math.floor(students / 2), students - 1]) {
        const job = db
          .prepare(
            `INSERT INTO jobs (verb, student_id, source, state, error, finished_at) VALUES ('CLEANUP', ?, 'admin', 'failed', 'bench: gave up', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`,
          )
          .run(id).lastInsertRowid;
        db.prepare(`UPDATE students SET state = 'cleanup', problem = 'bench: gave up', problem_job_id = ? WHERE id = ?`).run(job, id);
      }
    })();
  } finally {
    db.close();
  }
}

/** Median time and size of `pages` loads of one page. */
async function measure(load: () => Promise<string>): Promise<{ kib: number; ms: number }> {
  const times: number[] = [];
  let bytes = 0;
  await load(); // warm-up: templates compiled, statements prepared
  for (let i = 0; i < pages; i++) {
    const t0 = performance.now();
    bytes = Buffer.byteLength(await load());
    times.push(performance.now() - t0);
  }
  return {
    kib: bytes / 1024,
    ms: percentile(
      times.sort((a, b) => a - b),
      50,
    ),
  };
}

async function main(): Promise<void> {
  const small = await timedStart(baseline);
  const smallUsers = await hubUsers(small.hub);
  await small.done();

  const large = await timedStart(count);
  try {
    const users = await hubUsers(large.hub);
    const students = users.filter((u) => /^student\d+$/.test(u));
    mixStates(large.hub, count);

    const admin = new Browser(large.hub.url);
    await admin.hubLogin(large.hub.admin.name, large.hub.admin.password);
    const page = await measure(async () => {
      const res = await admin.request('/services/wod/admin/pool');
      if (res.status !== 200) throw new Error(`the pool page answered ${res.status}`);
      return res.text;
    });
    const token = await adminToken(large.hub);
    const apiGet = (p: string) => async () => {
      const res = await fetch(`${large.hub.url}/services/wod/api/v1/admin${p}`, { headers: { Authorization: `token ${token}` } });
      if (res.status !== 200) throw new Error(`/admin${p} answered ${res.status}`);
      return res.text();
    };
    const api = await measure(apiGet('/pool?workshop=WKSHP-Pool1'));
    const summary = await measure(apiGet('/pool/summary'));

    console.log(`pool ${baseline}: ready in ${(small.readyMs / 1000).toFixed(2)} s (hub users: ${smallUsers.length})`);
    console.log(`pool ${count}: ready in ${(large.readyMs / 1000).toFixed(2)} s`);
    console.log(`hub users after a start at ${count}: ${users.length} (students among them: ${students.length})`);
    console.log(`pool page ${count}: ${page.kib.toFixed(1)} KiB in ${page.ms.toFixed(0)} ms`);
    console.log(`pool API ${count} (one workshop of ${Math.floor(count / WORKSHOPS)}, default page): ${api.kib.toFixed(1)} KiB in ${api.ms.toFixed(0)} ms`);
    console.log(`pool summary API ${count}: ${summary.kib.toFixed(1)} KiB in ${summary.ms.toFixed(0)} ms`);
  } finally {
    await large.done();
  }
  if (warm) await warmSeatMemory();
}

/** A wod with `warm` seats kept warm: once they are, the median RSS of a seat's processes. */
async function warmSeatMemory(): Promise<void> {
  const workshops = tempWorkshops();
  writeWorkshop(workshops, 'WKSHP-Warm', { range: [1, warm], capacity: warm, warm });
  const hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_STUDENTS_COUNT: String(warm), WOD_LIFECYCLE_WARM_SEATS_MAX: String(warm), WOD_LOG_LEVEL: 'warn' } });
  try {
    const db = new Database(path.join(hub.dataDir, 'wod.sqlite'), { readonly: true });
    const deadline = Date.now() + 600_000;
    const ready = () => (db.prepare(`SELECT COUNT(*) AS n FROM students WHERE warm_workshop_id IS NOT NULL`).get() as { n: number }).n;
    while (ready() < warm) {
      if (Date.now() > deadline) throw new Error(`only ${ready()} of ${warm} warm seats after 600 s`);
      await new Promise((r) => setTimeout(r, 500));
    }
    db.close();
    // settled: a server just started is still loading
    await new Promise((r) => setTimeout(r, 5_000));
    const perSeat = Array.from({ length: warm }, (_, i) => totalRss(findProcesses(hub.hubApiUrl, `JUPYTERHUB_USER=student${i + 1}`))).sort((a, b) => a - b);
    const mib = (b: number) => (b / 1024 / 1024).toFixed(0);
    console.log(`memory per warm seat: ${mib(percentile(perSeat, 50))} MiB (median of ${warm}; max ${mib(perSeat[perSeat.length - 1])} MiB; RSS of the server and its children)`);
  } finally {
    await hub.stop();
    fs.rmSync(workshops, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.stack ?? e.message}`);
  process.exit(1);
});
