/**
 * Capacity, said out loud: the pure arithmetic, /proc read against real processes (a student's
 * "server" and its child, each holding memory it wrote), and `wod capacity` on a real data folder.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { formatBytes, parseMemAvailable, parseVmRss, RollingMedian, seatsThatFit } from '../../hub-service/src/capacity/capacity';
import { CapacityMeter, memAvailable, readSeatCost, rssOf, totalRss } from '../../hub-service/src/capacity/meter';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const MiB = 1024 * 1024;
const CLI = path.resolve(__dirname, '..', '..', 'hub-service', 'dist', 'cli', 'main.js');
const root = tempWorkshops();
/** every process this file started, the seats' children too: none outlives the test */
const started: number[] = [];
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
});

test('seatsThatFit: whole seats in what is available beyond the reserve; null when a seat was never measured', () => {
  expect(seatsThatFit(1000 * MiB, 150 * MiB, 256 * MiB)).toBe(4); // 744 / 150
  expect(seatsThatFit(1000 * MiB, 150 * MiB, 0)).toBe(6);
  expect(seatsThatFit(200 * MiB, 150 * MiB, 256 * MiB)).toBe(0); // never negative
  expect(seatsThatFit(1000 * MiB, null, 0)).toBeNull();
  expect(seatsThatFit(1000 * MiB, 0, 0)).toBeNull();
  expect(seatsThatFit(4096 * MiB, 150 * MiB)).toBe(25); // the default reserve is 256 MiB
});

test("parsers, on this host's own /proc files; the rolling median forgets old readings", () => {
  const available = parseMemAvailable(fs.readFileSync('/proc/meminfo', 'utf8'));
  expect(available).toBeGreaterThan(0);
  expect(memAvailable()).toBeGreaterThan(0);
  expect(parseMemAvailable('MemTotal:  100 kB\n')).toBeNull();
  expect(Math.abs(parseVmRss(fs.readFileSync('/proc/self/status', 'utf8'))! - rssOf(process.pid)!)).toBeLessThan(4 * MiB); // a moment apart
  expect(rssOf(process.pid)).toBeGreaterThan(10 * MiB);
  expect(parseVmRss('Name:\tkthreadd\nState:\tS (sleeping)\n')).toBeNull();
  expect(rssOf(2 ** 22 + 1)).toBeNull(); // no such process
  const m = new RollingMedian(3);
  expect(m.median()).toBeNull();
  for (const v of [100, 1, 2, 3]) m.add(v);
  expect([m.count, m.median()]).toEqual([3, 2]);
  expect([formatBytes(150 * MiB), formatBytes(3 * 1024 * MiB)]).toEqual(['150 MiB', '3.0 GiB']);
});

/** A "server" holding `mib` MiB that starts a child holding `childMib`, both with the student's JUPYTERHUB_* marks. */
async function startSeat(env: Record<string, string>, mib: number, childMib: number): Promise<{ server: ChildProcess; childPid: number }> {
  const hold = (n: number) => `const b = Buffer.alloc(${n} * 1024 * 1024, 1); setInterval(() => b[0]++, 1000);`;
  const script = `${hold(mib)} const c = require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(`${hold(childMib)} console.log('held')`)}], { stdio: ['ignore', 'pipe', 'inherit'] });
    c.stdout.once('data', () => console.log(c.pid));`;
  const server = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(server.pid!);
  const childPid = await new Promise<number>((resolve, reject) => {
    server.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    server.once('exit', (code) => reject(new Error(`the seat exited with ${code}`)));
  });
  started.push(childPid);
  return { server, childPid };
}

test("a working seat's memory is its server's and its children's RSS; wod capacity says it from the data folder", async () => {
  writeWorkshop(root, 'WKSHP-Mem', { range: [1, 3], capacity: 3 });
  const dataDir = path.join(root, 'var');
  fs.mkdirSync(dataDir, { recursive: true });
  const db = openDatabase(path.join(dataDir, 'wod.sqlite'));
  syncPool(db, 5);
  importWorkshops(db, scanWorkshops({ dir: root }, 5), 'test');
  const reg = new Registrations(db).register({ email: 'ada@example.com', name: 'Ada', company: 'ACME', workshop: 'WKSHP-Mem', acceptTerms: true }, { source: 'api' });
  const file = path.join(dataDir, 'capacity.json');
  const hubApiUrl = `http://127.0.0.1:1/hub/api/${crypto.randomUUID()}`; // this test's own "hub"
  const meter = new CapacityMeter({ db, file, source: { mode: 'local', hubApiUrl, count: 5 }, reserveBytes: 0 });

  // not working yet (registered): nothing measured, nothing said
  const { server, childPid } = await startSeat({ JUPYTERHUB_API_URL: hubApiUrl, JUPYTERHUB_USER: reg.student! }, 80, 40);
  expect(meter.sample()).toBe(0);
  expect(meter.figures()).toMatchObject({ perSeatBytes: null, seatsMore: null, samples: 0 });
  expect(fs.existsSync(file)).toBe(false);

  db.prepare(`UPDATE registrations SET state = 'ready', ready_at = ? WHERE id = ?`).run(new Date().toISOString(), reg.id);
  expect(meter.sample()).toBe(1);
  const both = totalRss([server.pid!, childPid]);
  const f = meter.figures();
  expect(f.perSeatBytes!).toBeGreaterThanOrEqual(120 * MiB); // 80 + 40 written, plus two Node runtimes
  expect(f.perSeatBytes!).toBeGreaterThan(rssOf(server.pid!)!); // the child is counted too
  expect(Math.abs(f.perSeatBytes! - both)).toBeLessThan(8 * MiB); // read a moment apart
  expect(f.byWorkshop).toEqual([{ folder: 'WKSHP-Mem', perSeatBytes: f.perSeatBytes, samples: 1 }]);
  expect(f.seatsMore).toBe(seatsThatFit(f.availableBytes!, f.perSeatBytes, 0));
  expect(readSeatCost(file)).toEqual(meter.cost());

  // another student's processes, or this hub's processes of no student, are not this seat's
  await startSeat({ JUPYTERHUB_API_URL: `${hubApiUrl}-other`, JUPYTERHUB_USER: reg.student! }, 200, 1);
  meter.sample();
  expect(meter.cost().perSeatBytes!).toBeLessThan(both + 8 * MiB);

  // a warm seat (free, its server waiting) is measured apart from the working ones
  db.prepare(`UPDATE students SET warm_workshop_id = (SELECT id FROM workshops WHERE folder = 'WKSHP-Mem') WHERE name = 'student3'`).run();
  const waiting = await startSeat({ JUPYTERHUB_API_URL: hubApiUrl, JUPYTERHUB_USER: 'student3' }, 30, 1);
  expect(meter.sample()).toBe(2);
  const warmBytes = totalRss([waiting.server.pid!, waiting.childPid]);
  expect(Math.abs(meter.cost().perWarmSeatBytes! - warmBytes)).toBeLessThan(8 * MiB);
  expect(meter.cost()).toMatchObject({ warmSamples: 1, samples: 3 });
  db.close();

  const wod = (dir: string, ...args: string[]) =>
    spawnSync(process.execPath, [CLI, 'capacity', ...args], { env: { ...process.env, WOD_CONFIG: '', WOD_WORKSHOPS_DIR: root, WOD_DATA_DIR: dir }, encoding: 'utf8' });
  const json = wod(dataDir, '--json');
  expect(json.status).toBe(0);
  const said = JSON.parse(json.stdout) as Record<string, unknown>;
  expect(said).toMatchObject({ perSeatBytes: readSeatCost(file)!.perSeatBytes, samples: 3, warmSamples: 1, reserveBytes: 256 * MiB });
  expect(said.availableBytes).toBeGreaterThan(0);
  const text = wod(dataDir);
  expect(text.stdout).toMatch(/^memory per working seat: \d+ MiB \(median of 3 readings, RSS of the server and its children\)$/m);
  expect(text.stdout).toMatch(/^ {2}WKSHP-Mem: \d+ MiB \(3\)$/m);
  expect(text.stdout).toMatch(/^memory per warm seat: \d+ MiB \(median of 1\)$/m);
  expect(text.stdout).toMatch(/^memory available: [\d.]+ [MG]iB \(256 MiB kept in reserve\)$/m);
  expect(text.stdout).toMatch(/^seats more: \d+$/m);
  const empty = wod(path.join(root, 'nothing-yet'));
  expect(empty.status).toBe(0);
  expect(empty.stdout).toContain('memory per working seat: not measured yet');
  expect(empty.stdout).toContain('seats more: not known yet');
});
