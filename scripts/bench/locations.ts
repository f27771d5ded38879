/**
 * npm run bench:locations [-- --single 20 --burst 40 --spread 4 --down 10]
 *
 * Locations on this machine (tests/support/locations.ts): a portal and two backends, lyon and
 * paris, real hubs, sharing one workshop seated at lyon with paris as its alternate. Ready =
 * registration accepted (201) → its credentials mail written to the outbox of the wod that mails
 * it: lyon's when registered at lyon, the portal's when registered at the portal. First --single
 * registrations straight at lyon and --single through the portal, in turns, one at a time: the
 * p50/p95 of each and what the portal adds (target ≤ 0.5 s at p95), also apart from lyon's own
 * provisioning (the JupyterLab start, most of the time and of its spread). Then a burst of --burst
 * registrations at the portal, fired over --spread seconds, lyon stopped a third of the way in and
 * started again --down seconds after it has stopped: how many were accepted, ready, rerouted, and
 * lost (accepted and not ready at the end; target 0).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { RunningHub } from '../../tests/support/hub';
import { startLocations } from '../../tests/support/locations';
import { query } from '../../tests/support/wait';
import { tempWorkshops, writeWorkshop } from '../../tests/support/workshops';
import { percentile as pct } from './common';

const { values } = parseArgs({
  options: {
    single: { type: 'string', default: '20' },
    burst: { type: 'string', default: '40' },
    spread: { type: 'string', default: '4' },
    down: { type: 'string', default: '10' },
    timeout: { type: 'string', default: '600' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run bench:locations -- [--single N] [--burst N] [--spread SECONDS] [--down SECONDS] [--timeout SECONDS]');
  process.exit(0);
}
const single = Number(values.single);
const burst = Number(values.burst);
const spreadMs = Number(values.spread) * 1000;
const downMs = Number(values.down) * 1000;
const timeoutMs = Number(values.timeout) * 1000;

const WORKSHOP = 'WKSHP-BenchLyon';
// lyon may seat every registration of the run, paris the whole burst
const seats = 2 * single + burst;
/** a portal registration ready, or past it */
const READY = ['ready', 'reminded', 'ended', 'cleaned'];

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** a difference, with its sign */
const plus = (ms: number) => `${ms < 0 ? '−' : '+'}${s(Math.abs(ms))}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POSTs a registration; `accepted` is when the 201 came back. */
async function register(hub: RunningHub, email: string): Promise<{ status: number; id: number | null; accepted: number }> {
  const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, name: 'Bench Mark', company: 'wod', workshop: WORKSHOP, acceptTerms: true }),
  });
  const accepted = Date.now();
  if (res.status !== 201) {
    await res.arrayBuffer();
    return { status: res.status, id: null, accepted };
  }
  return { status: 201, id: ((await res.json()) as { registration: { id: number } }).registration.id, accepted };
}

/**
 * When the credentials mail of registration `id` at `hub` was written (its file's mtime), polling
 * every 20 ms; its key starts `credentials-<id>-` (mail-out/transport.ts names the file after it),
 * whether the wod mails its own seat's or a backend's credentials. A registration that failed has none.
 */
async function mailedAt(hub: RunningHub, id: number): Promise<number> {
  const outbox = path.join(hub.dataDir, 'outbox');
  const deadline = Date.now() + timeoutMs;
  for (let n = 0; ; n++) {
    const file = fs.existsSync(outbox) ? fs.readdirSync(outbox).find((f) => f.startsWith(`credentials-${id}-`) && f.endsWith('.eml')) : undefined;
    if (file) return fs.statSync(path.join(outbox, file)).mtimeMs;
    if (n % 50 === 0) {
      const [r] = query<{ state: string; reason: string | null }>(hub.dataDir, 'SELECT state, end_reason AS reason FROM registrations WHERE id = ?', id);
      if (r.state === 'failed') throw new Error(`registration ${id} at ${hub.url} failed (${r.reason}); see ${hub.dataDir}/test-run.log`);
    }
    if (Date.now() > deadline) throw new Error(`no credentials mail for registration ${id} in ${outbox} after ${timeoutMs / 1000} s`);
    await sleep(20);
  }
}

interface Ready {
  id: number;
  accepted: number;
  mailed: number;
}

/** One registration at `hub`, until its credentials mail. */
async function readyOne(hub: RunningHub, email: string): Promise<Ready> {
  const r = await register(hub, email);
  if (r.id === null) throw new Error(`registration at ${hub.url} answered ${r.status}`);
  return { id: r.id, accepted: r.accepted, mailed: await mailedAt(hub, r.id) };
}

const readyTimes = (each: Ready[]) => each.map((x) => x.mailed - x.accepted).sort((a, b) => a - b);

/**
 * A registration's provisioning at lyon (found there by `where`): from its registration made to
 * its CREATE's credentials step begun, the seat prepared and its JupyterLab started. The databases'
 * timestamps and the outbox's mtimes share one clock: this machine's.
 */
function provisioning(lyon: RunningHub, where: string, key: number | string): { createdAt: number; ms: number } {
  const [r] = query<{ createdAt: string; step: string }>(
    lyon.dataDir,
    `SELECT r.created_at AS createdAt, MAX(s.started_at) AS step FROM registrations r JOIN jobs j ON j.registration_id = r.id AND j.verb = 'CREATE'
       JOIN job_steps s ON s.job_id = j.id AND s.step = 'credentials' WHERE ${where}`,
    key,
  );
  return { createdAt: Date.parse(r.createdAt), ms: Date.parse(r.step) - Date.parse(r.createdAt) };
}

async function main(): Promise<void> {
  const workshops = tempWorkshops();
  writeWorkshop(workshops, WORKSHOP, { location: 'lyon', alternateLocation: ['paris'], range: [1, seats], capacity: seats });
  console.log(`bench: starting a portal and backends lyon and paris (three JupyterHubs with wod), ${seats} seats each…`);
  const loc = await startLocations(workshops, {
    env: { WOD_STUDENTS_COUNT: String(seats), WOD_LOG_LEVEL: 'warn' },
    portalEnv: { WOD_LOCATIONS_FAILOVER_SECONDS: '5' },
  });
  const { portal } = loc;
  try {
    // in turns, one at a time, so that the machine's other work weighs on both alike
    console.log(`bench: ${single} registrations straight at lyon and ${single} at the portal (seated at lyon), in turns, one at a time`);
    const direct: Ready[] = [];
    const routed: Ready[] = [];
    for (let i = 0; i < single; i++) {
      direct.push(await readyOne(loc.backends.lyon, `direct${i}@example.com`));
      routed.push(await readyOne(portal, `portal${i}@example.com`));
      const [d, r] = [direct[i], routed[i]].map((x) => s(x.mailed - x.accepted));
      process.stdout.write(`bench:   #${i + 1} ready in ${d} direct, ${r} through the portal\n`);
    }

    // What the portal adds, apart from the JupyterLab start that makes most of the time and most of its spread.
    const rest = (each: Ready[], where: string, key: (id: number) => number | string) =>
      each.map((x) => x.mailed - x.accepted - provisioning(loc.backends.lyon, where, key(x.id)).ms).sort((m, n) => m - n);
    const restDirect = rest(direct, 'r.id = ?', (id) => id);
    const restRouted = rest(routed, `r.portal = 'portal' AND r.external_id = ?`, String);
    const handOver = routed
      .map(({ id }) => {
        const [p] = query<{ createdAt: string }>(portal.dataDir, 'SELECT created_at AS createdAt FROM registrations WHERE id = ?', id);
        return provisioning(loc.backends.lyon, `r.portal = 'portal' AND r.external_id = ?`, String(id)).createdAt - Date.parse(p.createdAt);
      })
      .sort((m, n) => m - n);
    const p50p95 = (sorted: number[]) => `p50 ${s(pct(sorted, 50))} p95 ${s(pct(sorted, 95))}`;

    console.log(`bench: a burst of ${burst} registrations at the portal over ${s(spreadMs)}; lyon stopped a third of the way in, started again ${s(downMs)} after`);
    const t0 = Date.now();
    const outage = (async () => {
      await sleep(spreadMs / 3);
      console.log(`bench:   stopping lyon at ${s(Date.now() - t0)} (JupyterHub stops its servers first, up to 30 s)`);
      await loc.backends.lyon.stop();
      console.log(`bench:   lyon stopped at ${s(Date.now() - t0)}`);
      await sleep(downMs);
      await loc.restart('lyon');
      console.log(`bench:   lyon running again at ${s(Date.now() - t0)}`);
    })();
    const fired: Promise<Awaited<ReturnType<typeof register>>>[] = [];
    for (let i = 0; i < burst; i++) {
      fired.push(register(portal, `burst${i}@example.com`));
      await sleep(spreadMs / burst);
    }
    const answers = await Promise.all(fired);
    const accepted = answers.filter((a) => a.id !== null).map((a) => a.id!);
    const refused = answers.filter((a) => a.id === null).map((a) => a.status);
    const count = () =>
      query<{ state: string; reroutes: number; location: string | null }>(
        portal.dataDir,
        `SELECT state, reroutes, location FROM registrations WHERE id IN (${accepted.map(() => '?').join(',')})`,
        ...accepted,
      );
    let rows = count();
    let lastReport = 0;
    const settled = () => rows.every((r) => READY.includes(r.state) || r.state === 'failed');
    while (!settled() && Date.now() - t0 < timeoutMs) {
      if (Date.now() - lastReport >= 5_000) {
        lastReport = Date.now();
        process.stdout.write(
          `bench:   ${s(Date.now() - t0)}: ${rows.filter((r) => READY.includes(r.state)).length} of ${accepted.length} ready, ${rows.filter((r) => r.reroutes > 0).length} rerouted\n`,
        );
      }
      await sleep(250);
      rows = count();
    }
    const allReadyMs = Date.now() - t0;
    await outage;
    rows = count();
    const ready = rows.filter((r) => READY.includes(r.state)).length;
    const failed = rows.filter((r) => r.state === 'failed').length;
    const rerouted = rows.filter((r) => r.reroutes > 0).length;
    const at = (name: string) => rows.filter((r) => r.location === name).length;

    const times = { direct: readyTimes(direct), routed: readyTimes(routed) };
    console.log('');
    console.log('locations benchmark (accepted → credentials mail written; lyon down and back during the burst)');
    console.log(`ready p50: direct ${s(pct(times.direct, 50))}, through the portal ${s(pct(times.routed, 50))} (${plus(pct(times.routed, 50) - pct(times.direct, 50))})`);
    console.log(
      `ready p95: direct ${s(pct(times.direct, 95))}, through the portal ${s(pct(times.routed, 95))} (${plus(pct(times.routed, 95) - pct(times.direct, 95))})  (target ≤ +0.50 s)`,
    );
    console.log(
      `  outside lyon's own provisioning: direct ${p50p95(restDirect)}, through the portal ${p50p95(restRouted)} (of which the portal → lyon hand-over ${p50p95(handOver)})`,
    );
    console.log(`locations: ${accepted.length} registrations, ${ready} ready, ${rerouted} rerouted, ${accepted.length - ready} lost`);
    console.log(
      `  burst: ${burst} sent, ${refused.length} refused ${JSON.stringify(refused)}; ${failed} failed; seated at lyon ${at('lyon')}, paris ${at('paris')}; settled ${s(allReadyMs)} after the burst began`,
    );
    if (accepted.length - ready > 0) process.exitCode = 1;
  } finally {
    await loc.stop();
    fs.rmSync(workshops, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
