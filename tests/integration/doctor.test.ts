/**
 * `wod doctor` against one real hub: OK on a healthy wod (exit 0, no FAIL line); a WARN naming a
 * running registration whose server was stopped; then a FAIL line naming the cause, and exit 1, for
 * each fault injected: the relay down, the database unreadable (a corrupted copy of the data
 * folder, the running hub untouched), a full disk (a 1 MiB tmpfs over the homes), and last the hub
 * down, within 15 s.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../hub-service/src/config/load';
import type { Check } from '../../hub-service/src/doctor/check';
import { adminToken, restApi, type RunningHub, startHub, WOD_CLI } from '../support/hub';
import { freePorts } from '../support/ports';
import { query, until } from '../support/wait';

let hub: RunningHub;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-doctor-'));

beforeAll(async () => {
  // the reconciler only at start: a server stopped by the test stays stopped while the doctor looks
  hub = await startHub({ dataDir, env: { WOD_TIMERS_RECONCILE_SECONDS: '3600' } });
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `wod doctor` with the hub's configuration plus `env`; hub.cli would reject the exit code 1 we look for. */
function doctor(env: Record<string, string>, ...args: string[]): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const run = spawn(process.execPath, [WOD_CLI, 'doctor', ...args], { env: { ...hub.env, ...env } });
    let stdout = '';
    let stderr = '';
    run.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    run.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    run.on('error', reject);
    run.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

async function checks(env: Record<string, string> = {}): Promise<{ code: number | null; byName: Record<string, Check>; failed: string[] }> {
  const run = await doctor(env, '--json');
  const { checks: list } = JSON.parse(run.stdout) as { checks: Check[] };
  return { code: run.code, byName: Object.fromEntries(list.map((c) => [c.name, c])), failed: list.filter((c) => c.status === 'FAIL').map((c) => c.name) };
}

const closedPort = async () => (await freePorts(1))[0];

test('a healthy wod: every check OK or WARN, exit 0, a line per check and the summary', async () => {
  const text = await hub.cli('doctor'); // resolves only on exit 0
  const lines = text.trim().split('\n');
  expect(lines.filter((l) => l.startsWith('FAIL '))).toEqual([]);
  expect(lines[0]).toMatch(new RegExp(`^OK   hub +JupyterHub 6\\.1\\.1 answers at http://127\\.0\\.0\\.1:${hub.ports.hubApi}/hub/api$`));
  expect(lines.at(-1)).toMatch(/^(OK|WARN): 13 checks, \d+ OK, \d+ WARN, 0 FAIL$/);

  const { code, byName } = await checks();
  expect(code).toBe(0);
  expect(Object.keys(byName)).toEqual(['hub', 'proxy', 'service', 'wod-db', 'hub-db', 'disk-data', 'disk-homes', 'outbox', 'mail-api', 'jobs', 'servers', 'clock', 'modes']);
  for (const name of ['hub', 'proxy', 'service', 'wod-db', 'hub-db', 'outbox', 'mail-api', 'clock', 'modes']) expect([name, byName[name].status]).toEqual([name, 'OK']);
  expect(byName['mail-api'].detail).toMatch(new RegExp(`^127\\.0\\.0\\.1:${hub.ports.mailApi} answers: 220 `));
  expect(byName['wod-db'].detail).toMatch(/integrity ok, schema \d+$/);
  expect(byName.clock.detail).toMatch(/not behind what wod wrote, agrees with the hub's/);
});

test("a running registration whose server is gone is named, read from the hub's own database", async () => {
  const token = await adminToken(hub);
  const res = await restApi(hub, token, '/registrations', {
    method: 'POST',
    body: JSON.stringify({ email: 'ada@example.com', name: 'Ada', company: 'ACME', workshop: 'WKSHP-Python101', acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { registration: { id: number } }).registration.id;
  const seat = () =>
    query<{ state: string; student: string }>(hub.dataDir, 'SELECT r.state, s.name AS student FROM registrations r JOIN students s ON s.id = r.student_id WHERE r.id = ?', id)[0];
  const { student } = await until(seat, (r) => r?.state === 'ready', 'the registration ready', 120_000);
  expect((await checks()).byName.servers).toEqual({ name: 'servers', status: 'OK', detail: 'all 1 running registration(s) have their server' });

  const stopped = await fetch(`${hub.hubApiUrl}/users/${student}/server`, { method: 'DELETE', headers: { Authorization: `token ${token}` } });
  expect([202, 204]).toContain(stopped.status);
  const servers = async () => ((await (await fetch(`${hub.hubApiUrl}/users/${student}`, { headers: { Authorization: `token ${token}` } })).json()) as { servers: object }).servers;
  await until(servers, (s) => Object.keys(s).length === 0, 'the server stopped', 60_000);
  const { code, byName } = await checks();
  expect(code).toBe(0); // a warning: the reconciler starts it again
  expect(byName.servers).toMatchObject({ status: 'WARN', detail: `1 running registration(s) without a server: ${student} (registration ${id})` });
});

test('an SMTP relay that greets is OK; one that is down fails, naming it, and the run exits 1', async () => {
  const relay = net.createServer((s) => s.end('220 relay.test ESMTP\r\n'));
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  try {
    const up = await checks({ WOD_MAIL_TRANSPORT: 'smtp', WOD_MAIL_SMTP_HOST: '127.0.0.1', WOD_MAIL_SMTP_PORT: String((relay.address() as net.AddressInfo).port) });
    expect([up.code, up.byName.relay.status, up.byName.relay.detail]).toEqual([0, 'OK', expect.stringContaining('220 relay.test ESMTP')]);
  } finally {
    relay.close();
  }

  const port = await closedPort();
  const down = await doctor({ WOD_MAIL_TRANSPORT: 'smtp', WOD_MAIL_SMTP_HOST: '127.0.0.1', WOD_MAIL_SMTP_PORT: String(port) });
  expect(down.code).toBe(1);
  const failed = down.stdout.split('\n').filter((l) => l.startsWith('FAIL '));
  expect(failed).toEqual([
    `FAIL relay      cannot connect to 127.0.0.1:${port} (ECONNREFUSED): fix: start the relay, or set mail.smtpHost and mail.smtpPort (WOD_MAIL_SMTP_HOST, WOD_MAIL_SMTP_PORT)`,
  ]);
});

test('a corrupted database (in a copy of the data folder) fails wod-db, and only that', async () => {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-doctor-copy-'));
  try {
    const skip = new Set(['wod.sqlite', 'wod.sqlite-wal', 'wod.sqlite-shm', 'jupyterhub.sqlite', 'jupyterhub.sqlite-journal', 'test-run.log']);
    fs.cpSync(dataDir, copy, { recursive: true, filter: (src) => src === dataDir || !skip.has(path.relative(dataDir, src)) });
    fs.chmodSync(copy, fs.statSync(dataDir).mode & 0o777);
    // consistent copies of databases that are being written
    for (const name of ['wod.sqlite', 'jupyterhub.sqlite']) {
      const source = new Database(path.join(dataDir, name), { readonly: true });
      await source.backup(path.join(copy, name));
      source.close();
      fs.chmodSync(path.join(copy, name), 0o600);
    }
    const env = { WOD_DATA_DIR: copy, WOD_STUDENTS_HOME_ROOT: path.join(copy, 'homes') };
    const sound = await checks(env);
    expect(sound.failed).toEqual([]);
    expect(sound.byName['wod-db'].status).toBe('OK');

    // every page after the first overwritten: the header still says SQLite, the tables are garbage
    const file = path.join(copy, 'wod.sqlite');
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(size - 4096, 0x5a), 0, size - 4096, 4096);
    fs.closeSync(fd);
    const broken = await checks(env);
    expect(broken.code).toBe(1);
    expect(broken.failed).toEqual(['wod-db']);
    expect(broken.byName['wod-db'].detail).toMatch(new RegExp(`^${file}: (integrity_check: |damaged \\(SQLITE_CORRUPT)`));
    expect(broken.byName['wod-db'].fix).toMatch(/restore the latest backup/);
    // what needs wod's database is said to be unchecked, not guessed
    expect(broken.byName.jobs).toMatchObject({ status: 'WARN', detail: 'not checked: wod.sqlite cannot be read' });
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
});

test('a full filesystem under the homes fails disk-homes', async () => {
  const homes = loadConfig({ env: hub.env }).students.homeRoot;
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0711', 'tmpfs', homes], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    console.warn(`doctor test: full disk NOT tested: cannot mount a 1 MiB tmpfs on ${homes} (${mounted.stderr.trim() || mounted.error?.message}); run as root with CAP_SYS_ADMIN`);
    return;
  }
  try {
    const fd = fs.openSync(path.join(homes, 'filler'), 'w', 0o600);
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(64 * 1024));
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    const { code, byName, failed } = await checks();
    expect(code).toBe(1);
    expect(failed).toEqual(['disk-homes']);
    expect(byName['disk-homes'].detail).toMatch(new RegExp(`^homes ${homes}: 0 B free of 1 MiB \\(0 %\\).*: nearly full$`));
  } finally {
    spawnSync('umount', [homes]);
  }
});

test('the hub down (the last case): hub, proxy and service fail with the cause, well within 15 s', async () => {
  await hub.stop();
  const run = await doctor({});
  expect(run.code).toBe(1);
  expect(run.ms).toBeLessThan(15_000);
  const lines = run.stdout.split('\n');
  expect(lines).toContain(
    `FAIL hub        cannot connect to 127.0.0.1:${hub.ports.hubApi} (ECONNREFUSED): fix: start wod (npm start, npx wod start, or its service unit) and read its log for why it stopped; the hub API port is hub.apiPort`,
  );
  expect(lines.find((l) => l.startsWith('FAIL proxy'))).toContain(`cannot connect to 127.0.0.1:${hub.ports.public} (ECONNREFUSED)`);
  expect(lines.find((l) => l.startsWith('FAIL service'))).toContain('ECONNREFUSED');
  expect(lines.find((l) => l.startsWith('FAIL mail-api'))).toContain(`127.0.0.1:${hub.ports.mailApi} (ECONNREFUSED)`);
  // what is on disk is still read
  expect(lines.find((l) => l.startsWith('OK   wod-db'))).toBeDefined();
});
