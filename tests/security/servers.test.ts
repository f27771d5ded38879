/**
 * Servers reconciled, against a real hub: a participant's jupyterhub-singleuser killed from outside
 * comes back by itself, with their files, and the restart is audited; a server that cannot come back
 * is shown as down on the admin dashboard and the registration's page, until it is back.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { findProcesses } from '../../hub-service/src/lifecycle/processes';
import { attack } from '../support/attacks';
import { Browser } from '../support/browser';
import { adminToken, restApi, type RunningHub, startHub } from '../support/hub';
import { credentialsIn, waitForMail } from '../support/outbox';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
let token: string;
let db: Database.Database;
const workshops = tempWorkshops();
const WORKSHOP = 'WKSHP-Servers';

beforeAll(async () => {
  writeWorkshop(workshops, WORKSHOP, { range: [1, 3], capacity: 3 });
  hub = await startHub({
    env: {
      WOD_WORKSHOPS_DIR: workshops,
      WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000',
      WOD_TIMERS_RECONCILE_SECONDS: '2',
      // a failed start costs the hub's own timeout (a minute): give up after the first
      WOD_TIMERS_SERVER_RESTART_ATTEMPTS: '1',
    },
  });
  token = await adminToken(hub);
  db = new Database(path.join(hub.dataDir, 'wod.sqlite'), { readonly: true });
  await participantWithFile();
}, 240_000);
afterAll(async () => {
  db?.close();
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const api = (p: string, init: RequestInit = {}) => restApi(hub, token, p, init);
const hubApi = (p: string, init: RequestInit = {}) => fetch(`${hub.hubApiUrl}${p}`, { ...init, headers: { Authorization: `token ${token}`, ...init.headers } });

/** Polls `check` until it returns something, or fails with `what` after `timeoutMs`. */
async function until<T>(what: string, check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found) return found;
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const serverOf = async (student: string) => {
  const res = await hubApi(`/users/${student}`);
  return ((await res.json()) as { servers: Record<string, { ready: boolean; pending: string | null }> }).servers[''] ?? null;
};
/** The student's jupyterhub-singleuser (its kernels and terminals carry the same environment). */
const serverPid = (student: string) =>
  findProcesses(hub.hubApiUrl, `JUPYTERHUB_USER=${student}`).find((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('jupyterhub-singleuser');
    } catch {
      return false;
    }
  });

let registration: { id: number; student: string; password: string };
let student: Browser;

/** A participant with a running JupyterLab and a file of their own, saved through it. */
async function participantWithFile(): Promise<void> {
  const res = await api('/registrations', {
    method: 'POST',
    body: JSON.stringify({ email: 'ada@example.com', name: 'Ada', company: 'ACME', workshop: WORKSHOP, acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { registration: { id: number } }).registration.id;
  const mail = await waitForMail(hub.dataDir, (m) => (m.to as { text: string }).text === 'ada@example.com' && !!m.subject?.includes('is ready'), 120_000);
  const creds = credentialsIn(mail);
  registration = { id, student: creds.student, password: creds.password };
  student = new Browser(hub.url);
  expect((await student.hubLogin(creds.student, creds.password)).status).toBe(200);
  // the participant saves a file of their own through their JupyterLab
  const xsrf = student.cookies.find((c) => c.name === '_xsrf' && c.path.startsWith(`/user/${creds.student}`))?.value ?? student.cookie('_xsrf')?.value ?? '';
  const saved = await student.request(`/user/${creds.student}/api/contents/mine.txt`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-XSRFToken': xsrf },
    body: JSON.stringify({ type: 'file', format: 'text', content: 'my own notes\n' }),
  });
  expect([saved.status, saved.text]).toEqual([201, expect.stringContaining('"name": "mine.txt"')]);
}

const serverAudit = (id: number) =>
  db.prepare(`SELECT action, details FROM audit WHERE subject_type = 'registration' AND subject_id = ? AND action LIKE 'server.%' ORDER BY id`).all(String(id)) as {
    action: string;
    details: string;
  }[];

test("a student's server killed from outside is started again by itself, with the student's files", async () => {
  await attack("SIGKILL of a participant's jupyterhub-singleuser leaves them without a server", async () => {
    const { id, student: name } = registration;
    const before = serverPid(name);
    expect(before).toBeDefined();
    process.kill(before!, 'SIGKILL');

    // the hub notices (its poll), wod starts it again
    const restarted = await until('the restart in the audit trail', () => serverAudit(id).find((a) => a.action === 'server.restarted'));
    expect(JSON.parse(restarted.details)).toMatchObject({ student: name, attempt: 1 });
    await until('the hub to report the server ready', async () => (await serverOf(name))?.ready);
    const after = serverPid(name);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);

    // the participant's JupyterLab answers, their file still there
    const lab = await until('JupyterLab to answer', async () => {
      const page = await student.request(`/user/${name}/lab`);
      return page.status === 200 && page;
    });
    expect(lab.text).toContain('jupyter-config-data');
    const file = await student.request(`/user/${name}/api/contents/mine.txt`, { headers: { Accept: 'application/json' } });
    expect(file.status).toBe(200);
    expect((JSON.parse(file.text) as { content: string }).content).toBe('my own notes\n');
    expect(hub.output()).toMatch(new RegExp(`server started again student=${name} registration=${id}`));
    const health = db.prepare('SELECT server_problem AS problem, server_failures AS failures FROM registrations WHERE id = ?').get(id);
    expect(health).toEqual({ problem: null, failures: 0 });
  });
});

test('a server that cannot be started again is shown down on the dashboard and the registration, until it is back', async () => {
  const { id, student: name } = registration;
  // The participant's own Jupyter configuration makes the server exit as it starts: a real spawn failure.
  const home = path.join(hub.dataDir, 'homes', name);
  const config = path.join(home, '.jupyter', 'jupyter_server_config.py');
  fs.mkdirSync(path.dirname(config), { recursive: true });
  fs.writeFileSync(config, 'import os\nos._exit(3)\n', { mode: 0o644 });
  process.kill(serverPid(name)!, 'SIGKILL');

  const gaveUp = await until('the give-up in the audit trail', () => serverAudit(id).find((a) => a.action === 'server.gave-up'), 200_000);
  expect(JSON.parse(gaveUp.details)).toMatchObject({ student: name, attempts: 1, error: expect.any(String) });
  expect(hub.output()).toMatch(new RegExp(`gave up starting it again student=${name} registration=${id}`));
  expect(await serverOf(name)).toBeNull();

  const admin = new Browser(hub.url);
  await admin.hubLogin(hub.admin.name, hub.admin.password);
  const dashboard = await admin.request('/services/wod/admin/');
  expect(dashboard.status).toBe(200);
  expect(dashboard.text).toMatch(/<b>1<\/b><span>servers down<\/span>/);
  const list = dashboard.text.match(/<table data-testid="servers-down">[\s\S]*?<\/table>/)?.[0];
  expect(list).toContain(`href="/services/wod/admin/registrations/${id}"`);
  expect(list).toContain(name);
  expect(list).toMatch(/did not start again after 1 attempt/);
  const page = await admin.request(`/services/wod/admin/registrations/${id}`);
  const server = page.text.match(/<dd data-testid="server">([\s\S]*?)<\/dd>/)?.[1];
  expect(server).toMatch(/<span class="state failed">down<\/span> the server is down and did not start again after 1 attempt/);
  expect(page.text).toMatch(/server\.gave-up/);

  // the cause removed and the server started (here by a hub admin): the problem goes away by itself
  fs.rmSync(config);
  expect((await hubApi(`/users/${name}/server`, { method: 'POST' })).status).toBeLessThan(300);
  await until('the hub to report the server ready', async () => (await serverOf(name))?.ready);
  await until('the problem to be cleared', () => serverAudit(id).find((a) => a.action === 'server.recovered'));
  const again = await admin.request('/services/wod/admin/');
  expect(again.text).not.toContain('data-testid="servers-down"');
  expect(again.text).toMatch(/<b>0<\/b><span>servers down<\/span>/);
  expect((await admin.request(`/services/wod/admin/registrations/${id}`)).text).toMatch(/<dd data-testid="server">no problem/);
}, 360_000);

test("ending the registration: CLEANUP's stop of the server is not undone", async () => {
  const { id, student: name } = registration;
  const restarts = () => serverAudit(id).filter((a) => a.action === 'server.restarted').length;
  const before = restarts();
  expect((await api(`/admin/registrations/${id}/end`, { method: 'POST' })).status).toBe(200);
  await until('the registration to be cleaned', async () => ((await (await api(`/admin/registrations/${id}`)).json()) as { state: string }).state === 'cleaned');
  expect(await serverOf(name)).toBeNull();
  expect(restarts()).toBe(before);
});
