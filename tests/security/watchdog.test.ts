/**
 * The process watchdog against a real hub, with test-short thresholds (a scan a second, a CPU
 * limit of 3 s): from a participant's real kernel, a process named like a miner is stopped within
 * one scan, a CPU burner once it has burnt for the limit, a cell looping for ever is interrupted
 * (the kernel lives on); an idle process of theirs and their
 * JupyterLab server are left alone, and so is the test's own process of the miner's name. Each stop
 * is audited on the registration, listed on the admin dashboard and mailed to the operator and the
 * participant.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { findProcesses } from '../../hub-service/src/lifecycle/processes';
import { attack } from '../support/attacks';
import { Browser } from '../support/browser';
import { adminToken, type RunningHub, startHub } from '../support/hub';
import { type Lab, openLab } from '../support/lab';
import { credentialsIn, waitForMail } from '../support/outbox';
import { mailsTo, query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const INTERVAL_S = 1;
const GRACE_S = 1;
const CPU_S = 3;
let hub: RunningHub;
let lab: Lab;
let registration: { id: number; student: string };
const workshops = tempWorkshops();
const others: ChildProcess[] = [];

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-Dog', { range: [1, 3], capacity: 3 });
  hub = await startHub({
    env: {
      WOD_WORKSHOPS_DIR: workshops,
      WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000',
      WOD_WATCHDOG_INTERVAL_SECONDS: String(INTERVAL_S),
      WOD_WATCHDOG_GRACE_SECONDS: String(GRACE_S),
      WOD_WATCHDOG_CPU_MINUTES: String(CPU_S / 60),
      // a loaded test machine may not give a burner a whole core
      WOD_WATCHDOG_CPU_PERCENT: '60',
    },
  });
  const token = await adminToken(hub);
  const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
    method: 'POST',
    headers: { Authorization: `token ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'ada@example.com', name: 'Ada', company: 'ACME', workshop: 'WKSHP-Dog', acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { registration: { id: number } }).registration.id;
  const creds = credentialsIn(await waitForMail(hub.dataDir, (m) => !!m.subject?.includes('is ready'), 120_000));
  registration = { id, student: creds.student };
  lab = await openLab(hub.url, creds.student, creds.password);
}, 240_000);
afterAll(async () => {
  for (const c of others) c.kill('SIGKILL');
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

/** Running, not a zombie waiting for its parent. */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const serverPid = (student: string) =>
  findProcesses(hub.hubApiUrl, `JUPYTERHUB_USER=${student}`).find((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('jupyterhub-singleuser');
    } catch {
      return false;
    }
  });
/** Starts processes from the participant's kernel, in sessions of their own (they outlive it); their pids. */
async function fromKernel(...commands: string[]): Promise<number[]> {
  const code = ['import subprocess, sys', ...commands.map((c) => `print(subprocess.Popen(${c}, start_new_session=True, stdout=subprocess.DEVNULL).pid)`)].join('\n');
  const out = await lab.kernel(code);
  const pids = out.trim().split(/\s+/).map(Number);
  expect(pids).toHaveLength(commands.length);
  return pids;
}
const stopsOf = (id: number) =>
  query<{ details: string }>(
    hub.dataDir,
    `SELECT details FROM audit WHERE action = 'watchdog-stop' AND subject_type = 'registration' AND subject_id = ? ORDER BY id`,
    String(id),
  ).map((r) => JSON.parse(r.details) as { pid: number; name: string; rule: string; why: string; action: string });

test("a participant's miner is stopped within one scan, a CPU burner after the limit; their idle process, their server and the test's own miner-named process are left alone", async () => {
  const { id, student } = registration;
  const server = serverPid(student);
  expect(server).toBeDefined();
  // the test's own process of the same name, a non-student: never touched
  const own = spawn('/bin/sleep', ['120'], { argv0: 'xmrig-6.21', stdio: 'ignore' });
  others.push(own);

  await attack('a participant runs a process named like a miner (xmrig)', async () => {
    const [miner, idle] = await fromKernel(`['xmrig-6.21', '120'], executable='/bin/sleep'`, `['sleep', '120']`);
    const started = Date.now();
    await until(
      () => alive(miner),
      (a) => !a,
      'the miner to be stopped',
      20_000,
      100,
    );
    // one scan, its SIGTERM, and the time to notice; far from the burner's limit
    expect(Date.now() - started).toBeLessThan((INTERVAL_S + GRACE_S) * 1000 + 3_000);
    await until(
      () => stopsOf(id),
      (s) => s.length > 0,
      'the audit entry',
    );
    expect(stopsOf(id)).toEqual([expect.objectContaining({ pid: miner, name: 'xmrig-6.21', rule: 'miner', action: 'stopped' })]);
    expect(alive(idle)).toBe(true);
  });

  await attack('a participant burns a CPU core without end', async () => {
    const [burner] = await fromKernel(`[sys.executable, '-c', 'while True: pass']`);
    const started = Date.now();
    await until(
      () => alive(burner),
      (a) => !a,
      'the burner to be stopped',
      60_000,
      100,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(CPU_S * 1000 - 1_000);
    await until(
      () => stopsOf(id),
      (s) => s.length > 1,
      'the audit entry',
    );
    expect(stopsOf(id).at(-1)).toMatchObject({ pid: burner, rule: 'cpu', action: 'stopped', why: expect.stringMatching(/% of a CPU core for \d+ s without a pause$/) });
  });

  await attack('a notebook cell loops for ever in the kernel', async () => {
    // interrupted as the ■ button does: the cell ends with KeyboardInterrupt, reported by the kernel itself, alive
    const started = Date.now();
    const out = await lab.kernel("print('looping')\nwhile True: pass");
    expect(out).toBe('looping\nKeyboardInterrupt: \n');
    expect(Date.now() - started).toBeGreaterThanOrEqual(CPU_S * 1000 - 1_000);
    await until(
      () => stopsOf(id),
      (s) => s.length > 2,
      'the audit entry',
    );
    expect(stopsOf(id).at(-1)).toMatchObject({ name: 'ipykernel_launcher', rule: 'cpu', action: 'interrupted' });
  });

  // left alone: the participant's server and idle process, the test's own process; the hub and wod still answer
  expect(serverPid(student)).toBe(server);
  expect(alive(own.pid!)).toBe(true);
  expect(stopsOf(id)).toHaveLength(3);
  expect((await fetch(`${hub.url}/services/wod/health`)).status).toBe(200);
  expect(hub.process.exitCode).toBeNull();

  // told: the operator and the participant (once each this hour), the admin dashboard
  await until(
    () => mailsTo(hub.dataDir, 'wod-operator@localhost').filter((m) => m.kind === 'watchdog'),
    (m) => m.length === 1,
    'the operator mail',
  );
  const told = await waitForMail(hub.dataDir, (m) => m.subject === 'A process of yours was stopped');
  expect(told.text).toMatch(/a process of yours was stopped: xmrig-6\.21 \(pid \d+\), a known miner \(xmrig\)/);
  expect(told.text).toContain(`${hub.url}/services/wod/status/`);
  const admin = new Browser(hub.url);
  await admin.hubLogin(hub.admin.name, hub.admin.password);
  const dashboard = await admin.request('/services/wod/admin/');
  const list = dashboard.text.match(/<table data-testid="watchdog-stops">[\s\S]*?<\/table>/)?.[0];
  expect(list).toContain(`href="/services/wod/admin/registrations/${id}"`);
  expect(list).toContain('<code>xmrig-6.21</code>');
  expect(list).toMatch(/of a CPU core for/);
});
