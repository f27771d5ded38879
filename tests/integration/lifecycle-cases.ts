/**
 * The lifecycle's cases, run by lifecycle.test.ts in the default student mode and by
 * lifecycle-remote.test.ts in remote mode (the same assertions, another hub).
 *
 * The lifecycle against a real hub: a registration becomes a running, personalised JupyterLab
 * reachable with the mailed password and the start link; ending it leaves no trace of the student;
 * a workshop whose templates fail is purged and its seat freed.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';
import path from 'node:path';
import { findProcesses } from '../../hub-service/src/lifecycle/processes';
import { Browser, labConfig } from '../support/browser';
import { adminToken, restApi, type RunningHub, startHub } from '../support/hub';
import { credentialsIn, outboxMails, waitForMail } from '../support/outbox';
import { jobsSettled, query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

export interface LifecycleMode {
  /** on top of the cases' own settings */
  env?: Record<string, string>;
  /** what a wipe may leave in a home, empty (remote mode: the checkpoints folder the server makes again) */
  wipeLeaves?: string[];
}

export function lifecycleCases(mode: LifecycleMode = {}): void {
  const notebook = (cells: object[]) => JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells });
  let hub: RunningHub;
  let token: string;
  const workshops = tempWorkshops();

  beforeAll(async () => {
    const dir = writeWorkshop(
      workshops,
      'WKSHP-Life',
      { range: [1, 5], capacity: 5 },
      {
        notebook: notebook([
          { cell_type: 'markdown', id: 'm', metadata: {}, source: ['Welcome {{ STUDENT }} to {{ WORKSHOP }} ({{ MODEWS }}) {% raw %}{{ literal }}{% endraw %}'] },
          { cell_type: 'code', id: 'c1', metadata: {}, execution_count: null, outputs: [], source: ['print("{{ STDID }}")'] },
          { cell_type: 'code', id: 'c2', metadata: {}, execution_count: null, outputs: [], source: ['1 + 1'] },
        ]),
      },
    );
    fs.writeFileSync(path.join(dir, 'data.sh'), 'for {{ STUDENT }}: {{ GREETING }}\n');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'copied as it is: {{ STUDENT }}\n');
    fs.writeFileSync(path.join(dir, 'vars.yml'), 'GREETING: hello\n');
    fs.writeFileSync(path.join(dir, 'create'), '#!/bin/sh\necho "creating for $STUDENT in $WORKSHOP"\necho "TOKEN=t-$STDID" >> "$WOD_VARS_FILE"\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'token.py'), 'token {{ TOKEN }}\n');
    fs.writeFileSync(path.join(dir, 'survey.py'), "SURVEY = '{{ SURVEYURL }}'\n");
    // lint cannot know what a hook hands over (a warning); here the hook fails to, so every CREATE fails
    const broken = writeWorkshop(
      workshops,
      'WKSHP-Broken',
      { range: [6, 8], capacity: 3 },
      {
        notebook: notebook([{ cell_type: 'markdown', id: 'm', metadata: {}, source: ['{{ FROM_THE_HOOK }}'] }]),
      },
    );
    fs.writeFileSync(path.join(broken, 'create'), '#!/bin/sh\n# forgets: echo FROM_THE_HOOK=x >> "$WOD_VARS_FILE"\n', { mode: 0o755 });
    hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000', ...mode.env } });
    token = await adminToken(hub);
  });
  afterAll(async () => {
    await hub?.stop();
    fs.rmSync(workshops, { recursive: true, force: true });
  });

  const api = (p: string, init: RequestInit = {}) => restApi(hub, token, p, init);

  async function register(email: string, workshop: string): Promise<number> {
    const res = await api('/registrations', { method: 'POST', body: JSON.stringify({ email, name: 'Test Person', company: 'ACME', workshop, acceptTerms: true }) });
    expect(res.status).toBe(201);
    return ((await res.json()) as { registration: { id: number } }).registration.id;
  }

  async function waitForState(id: number, states: string[], timeoutMs = 90_000): Promise<{ state: string; student: string; completion: number | null; deadlineAt: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await api(`/admin/registrations/${id}`).catch(() => null);
      // while the service restarts, the proxy answers for it
      const r = res?.ok ? ((await res.json()) as { state: string; student: string; completion: number | null; deadlineAt: string }) : null;
      if (r && states.includes(r.state)) return r;
      if (Date.now() > deadline) throw new Error(`registration ${id} is ${r?.state ?? 'unknown'}, not ${states.join('/')}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  test('a registration ends, without any hand, with a running personalised JupyterLab; CLEANUP leaves no trace', async () => {
    const id = await register('ada@example.com', 'WKSHP-Life');
    const ready = await waitForState(id, ['ready']);
    expect(ready.student).toBe('student1');
    expect(Date.parse(ready.deadlineAt) - Date.now()).toBeGreaterThan(110 * 60_000); // 2 hours from now

    // the home holds the rendered workshop, the workspace, and nothing of wod's own files
    const home = path.join(hub.dataDir, 'homes', 'student1');
    const nb = fs.readFileSync(path.join(home, 'WKSHP-Life', '0-ReadMeFirst.ipynb'), 'utf8');
    expect(nb).toContain('Welcome student1 to WKSHP-Life (WKSHP) {{ literal }}');
    expect(nb).toContain('print(\\"1\\")');
    expect(fs.readFileSync(path.join(home, 'WKSHP-Life', 'data.sh'), 'utf8')).toBe('for student1: hello\n');
    expect(fs.readFileSync(path.join(home, 'WKSHP-Life', 'notes.txt'), 'utf8')).toBe('copied as it is: {{ STUDENT }}\n');
    expect(fs.readFileSync(path.join(home, 'WKSHP-Life', 'token.py'), 'utf8')).toBe('token t-1\n');
    // SURVEYURL, with no workshops.surveyUrl set: the participant's own status page, at its survey
    const survey = fs.readFileSync(path.join(home, 'WKSHP-Life', 'survey.py'), 'utf8').match(/^SURVEY = '(\S+)#feedback'\n$/)![1];
    expect(survey.startsWith(`${hub.url}/services/wod/status/`)).toBe(true);
    expect((await fetch(survey)).status).toBe(200);
    for (const hidden of ['wod.yml', 'vars.yml', 'create']) expect(fs.existsSync(path.join(home, 'WKSHP-Life', hidden))).toBe(false);
    expect(fs.existsSync(path.join(home, '.jupyter', 'lab', 'workspaces', 'default-37a8.jupyterlab-workspace'))).toBe(true);
    expect(fs.statSync(home).mode & 0o777).toBe(0o700);

    // the credentials mail, and the password in no log and nowhere in the database
    const mail = await waitForMail(hub.dataDir, (m) => !!m.subject?.includes('is ready'));
    expect((mail.to as { text: string }).text).toBe('ada@example.com');
    const creds = credentialsIn(mail);
    expect(creds.student).toBe('student1');
    expect(creds.password).toMatch(/^[a-zA-Z2-9]{16}$/);
    expect(hub.output()).not.toContain(creds.password);
    expect(fs.readFileSync(path.join(hub.dataDir, 'wod.sqlite')).includes(Buffer.from(creds.password))).toBe(false);

    // login with the password through the hub's form lands in JupyterLab on the first notebook
    const browser = new Browser(hub.url);
    const lab = await browser.hubLogin('student1', creds.password);
    expect(lab.status).toBe(200);
    expect(lab.url).toBe(`${hub.url}/user/student1/lab/tree/WKSHP-Life/0-ReadMeFirst.ipynb`);
    expect(lab.text).toContain('jupyter-config-data');

    // the one-click start link does the same in a fresh browser
    const oneClick = await new Browser(hub.url).request(new URL(creds.startUrl!).pathname + new URL(creds.startUrl!).search);
    expect(oneClick.status).toBe(200);
    expect(oneClick.url).toBe(`${hub.url}/user/student1/lab/tree/WKSHP-Life/0-ReadMeFirst.ipynb`);
    expect((await new Browser(hub.url).request('/hub/wod-login?token=1.99999999999.forgedforgedforgedforged')).status).toBe(403);

    // the student ran one of the two code cells
    const file = path.join(home, 'WKSHP-Life', '0-ReadMeFirst.ipynb');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    json.cells[1].execution_count = 1;
    fs.writeFileSync(file, JSON.stringify(json));

    const end = await api(`/admin/registrations/${id}/end`, { method: 'POST' });
    expect(end.status).toBe(200);
    const cleaned = await waitForState(id, ['cleaned']);
    expect(cleaned.completion).toBe(0.5);
    expect(fs.readdirSync(home).filter((f) => !(mode.wipeLeaves ?? []).includes(f))).toEqual([]);
    for (const f of mode.wipeLeaves ?? []) expect(fs.readdirSync(path.join(home, f))).toEqual([]);
    expect((await new Browser(hub.url).hubLogin('student1', creds.password)).status).toBe(403);
    expect((await new Browser(hub.url).request(new URL(creds.startUrl!).pathname + new URL(creds.startUrl!).search)).status).toBe(403);
    const pool = (await (await api('/admin/pool?workshop=WKSHP-Life')).json()) as { free: number; allocated: number };
    expect(pool).toMatchObject({ free: 5, allocated: 0 });
    const server = await fetch(`${hub.hubApiUrl}/users/student1`, { headers: { Authorization: `token ${token}` } });
    expect(((await server.json()) as { servers: object }).servers).toEqual({});
  });

  test('a template error fails CREATE with the file and variable named, purges the student and frees the seat', async () => {
    const id = await register('bob@example.com', 'WKSHP-Broken');
    const failed = await waitForState(id, ['failed']);
    expect(failed.state).toBe('failed');
    const jobs = (await (await api(`/admin/registrations/${id}`)).json()) as { student: string };
    expect(jobs.student).toBe('student6');
    // the registration fails first; the PURGE it queued frees the seat right after
    await until(
      async () => ((await (await api('/admin/pool?workshop=WKSHP-Broken')).json()) as { free: number }).free,
      (free) => free === 3,
      'the seat of the failed CREATE freed',
    );
    const home = path.join(hub.dataDir, 'homes', 'student6');
    expect(fs.existsSync(path.join(home, 'WKSHP-Broken'))).toBe(false);
    expect(fs.readdirSync(home).filter((f) => f.startsWith('.wod-deploying'))).toEqual([]);
    expect(hub.output()).toMatch(/0-ReadMeFirst\.ipynb:1: undefined variable FROM_THE_HOOK/);
  });

  test('kill -9 of the service during CREATE: the hub restarts it, the job resumes and completes exactly once', async () => {
    const dir = path.join(workshops, 'WKSHP-Slow');
    writeWorkshop(workshops, 'WKSHP-Slow', { range: [10, 12], capacity: 3 });
    fs.writeFileSync(path.join(dir, 'create'), '#!/bin/sh\necho "slow create for $STUDENT"\nsleep 3\n', { mode: 0o755 });
    await api('/admin/workshops/import', { method: 'POST' });
    const id = await register('crash@example.com', 'WKSHP-Slow');
    // wait until the create hook runs, then kill the service outright
    const servicePid = () => findProcesses(hub.hubApiUrl, 'JUPYTERHUB_SERVICE_NAME=wod')[0];
    const before = servicePid();
    const db = new Database(path.join(hub.dataDir, 'wod.sqlite'), { readonly: true });
    const inCreateHook = () =>
      db.prepare(`SELECT 1 FROM job_steps s JOIN jobs j ON j.id = s.job_id WHERE j.registration_id = ? AND s.step = 'content' AND s.finished_at IS NULL`).get(id);
    await until(
      () => !!inCreateHook(),
      (v) => v,
      'the create hook to run',
      30_000,
      100,
    );
    process.kill(before, 'SIGKILL');

    const ready = await waitForState(id, ['ready'], 120_000);
    expect(servicePid()).not.toBe(before);
    expect(ready.student).toBe('student10');
    const detail = (await (await api(`/admin/registrations/${id}`)).json()) as { id: number };
    expect(detail.id).toBe(id);
    const isCredentials = (m: ParsedMail) => (m.to as { text: string }).text === 'crash@example.com' && !!m.subject?.includes('is ready');
    await waitForMail(hub.dataDir, isCredentials);
    // The CREATE sends the credentials itself: once it is over (resumed and finished), a second sending would be in the outbox.
    await jobsSettled(hub.dataDir, id, ['CREATE'], 120_000);
    const mails = (await outboxMails(hub.dataDir)).filter(isCredentials);
    expect(mails).toHaveLength(1);
    expect(query(hub.dataDir, `SELECT state FROM mails WHERE registration_id = ? AND kind = 'credentials'`, id)).toEqual([{ state: 'sent' }]);
    const creds = credentialsIn(mails[0]);
    const lab = await new Browser(hub.url).hubLogin(creds.student, creds.password);
    expect(lab.status).toBe(200);
    expect(hub.output()).toMatch(/resuming interrupted jobs count=1/);
    const jobs = db.prepare(`SELECT verb, state, attempts FROM jobs WHERE registration_id = ?`).all(id);
    expect(jobs).toEqual([{ verb: 'CREATE', state: 'done', attempts: 2 }]);
    db.close();
  });

  test('wod action: a mailed CREATE order gives a working JupyterLab and prints the credentials; CLEANUP takes it back', async () => {
    const out = await hub.cli('action', 'CREATE', 'WKSHP-Life', '3', '--timeout', '120');
    expect(out).toMatch(/→ mail order "CREATE 3 0 wod-operator@localhost" \/ WKSHP-Life/);
    expect(out).toMatch(/250 .*queued as jobs/);
    expect(out).toMatch(/student3 ✓ content/);
    expect(out).toMatch(/CREATE student3: done/);
    const password = out.match(/password: (\S+)/)![1];
    const lab = await new Browser(hub.url).hubLogin('student3', password);
    expect(lab.url).toBe(`${hub.url}/user/student3/lab/tree/WKSHP-Life/0-ReadMeFirst.ipynb`);

    const cleanup = await hub.cli('action', 'CLEANUP', 'WKSHP-Life', '3', '--direct', '--timeout', '120');
    expect(cleanup).toMatch(/CLEANUP student3: done/);
    expect((await new Browser(hub.url).hubLogin('student3', password)).status).toBe(403);
    await expect(hub.cli('action', 'PURGE', 'WKSHP-Life', '3,4')).rejects.toThrow(/PURGE takes one student/);
    await expect(hub.cli('action', 'CREATE', 'WKSHP-Life', '99')).rejects.toThrow(/550 .*student 99 is out of range/);
  });

  test('admin API: jobs with their step logs, and running a verb from the panel', async () => {
    const list = (await (await api('/admin/jobs?verb=CREATE&state=done')).json()) as { items: { id: number; student: string }[]; total: number };
    expect(list.total).toBeGreaterThan(0);
    const job = (await (await api(`/admin/jobs/${list.items.at(-1)!.id}`)).json()) as { steps: { step: string; ok: boolean; output: string | null }[] };
    expect(job.steps.map((s) => s.step)).toEqual(expect.arrayContaining(['password', 'content', 'server', 'credentials']));
    expect(job.steps.find((s) => s.step === 'content')!.output).toMatch(/creating for student1 in WKSHP-Life/);
    expect(JSON.stringify(job)).not.toMatch(/password: /);

    const run = await api('/admin/actions', { method: 'POST', body: JSON.stringify({ verb: 'PURGE', workshop: 'WKSHP-Life', students: '4' }) });
    expect(run.status).toBe(202);
    const { jobs } = (await run.json()) as { jobs: number[] };
    const done = await until(
      async () => ((await (await api(`/admin/jobs/${jobs[0]}`)).json()) as { state: string }).state,
      (st) => st === 'done' || st === 'failed',
      'the PURGE to finish',
      60_000,
      200,
    );
    expect(done).toBe('done');
    const bad = await api('/admin/actions', { method: 'POST', body: JSON.stringify({ verb: 'CREATE', workshop: 'WKSHP-Life', students: '77' }) });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { message: string }).message).toMatch(/out of range/);
  });

  test("the deadline is the service's: past it, the server stops, the seat is freed and logins are refused", async () => {
    const id = await register('late@example.com', 'WKSHP-Life');
    await waitForState(id, ['ready']);
    const mail = await waitForMail(hub.dataDir, (m) => (m.to as { text: string }).text === 'late@example.com' && !!m.subject?.includes('is ready'));
    const creds = credentialsIn(mail);
    expect(mail.text).toMatch(/status page.*\/services\/wod\/status\/\d+\.[\w-]+/);
    expect((await new Browser(hub.url).hubLogin(creds.student, creds.password)).status).toBe(200);
    // the clock runs out (set back in the database, as time would)
    const db = new Database(path.join(hub.dataDir, 'wod.sqlite'));
    db.prepare(`UPDATE registrations SET deadline_at = ? WHERE id = ?`).run(new Date(Date.now() - 1000).toISOString(), id);
    db.close();
    const cleaned = await waitForState(id, ['cleaned'], 60_000);
    expect(cleaned.state).toBe('cleaned');
    expect((await new Browser(hub.url).hubLogin(creds.student, creds.password)).status).toBe(403);
    const r = (await (await api(`/admin/registrations/${id}`)).json()) as { endReason: string };
    expect(r.endReason).toBe('deadline');
  });

  test('two orders for one student run one after the other, in order', async () => {
    const credential = JSON.parse(await hub.cli('mail-api', 'credentials', '--json')) as { user: string; password: string };
    const send = (subject: string) =>
      nodemailer
        .createTransport({ host: '127.0.0.1', port: hub.ports.mailApi, ignoreTLS: true, auth: { user: credential.user, pass: credential.password } })
        .sendMail({ from: 'wodadmin@localhost', to: 'wod@x', subject, text: 'WKSHP-Life' });
    await send('CREATE 5 900 order@example.com');
    await send('CLEANUP 5 900');
    const db = new Database(path.join(hub.dataDir, 'wod.sqlite'), { readonly: true });
    const jobs = () =>
      db.prepare(`SELECT verb, state, started_at AS startedAt, finished_at AS finishedAt FROM jobs WHERE student_id = 5 AND source = 'mail' ORDER BY id`).all() as {
        verb: string;
        state: string;
        startedAt: string;
        finishedAt: string;
      }[];
    await until(jobs, (js) => js.length === 2 && js.every((j) => j.state === 'done' || j.state === 'failed'), 'the CREATE and the CLEANUP to finish', 90_000);
    const [create, cleanup] = jobs();
    db.close();
    expect([create.verb, create.state, cleanup.verb, cleanup.state]).toEqual(['CREATE', 'done', 'CLEANUP', 'done']);
    expect(Date.parse(cleanup.startedAt)).toBeGreaterThanOrEqual(Date.parse(create.finishedAt));
  });

  test("a student's JupyterLab talks to the service with the page's own token, about its own registration only", async () => {
    const id = await register('lab@example.com', 'WKSHP-Life');
    const mail = await waitForMail(hub.dataDir, (m) => (m.to as { text: string }).text === 'lab@example.com' && !!m.subject?.includes('is ready'));
    const creds = credentialsIn(mail);
    const lab = await new Browser(hub.url).hubLogin(creds.student, creds.password);
    const config = labConfig<{ token: string }>(lab);
    const me = (init: RequestInit = {}, p = '') =>
      fetch(`${hub.url}/services/wod/api/v1/me${p}`, { ...init, headers: { Authorization: `token ${config.token}`, 'Content-Type': 'application/json' } });
    const mine = (await (await me()).json()) as { registration: number; secondsLeft: number; workshop: { folder: string } };
    expect(mine).toMatchObject({ registration: id, workshop: { folder: 'WKSHP-Life' } });
    expect(mine.secondsLeft).toBeGreaterThan(3600);
    expect((await me({ method: 'PUT', body: JSON.stringify({ executed: 1, total: 2 }) }, '/progress')).status).toBe(204);
    expect((await me({ method: 'PUT', body: JSON.stringify({ executed: 3, total: 2 }) }, '/progress')).status).toBe(422);
    const survey = await me({ method: 'PUT', body: JSON.stringify({ rating: 5, good: 'clear', improve: '', recommend: true }) }, '/survey');
    expect(survey.status).toBe(200);
    const seen = (await (await api(`/admin/registrations/${id}`)).json()) as { progress: { executed: number; total: number } };
    expect(seen.progress).toMatchObject({ executed: 1, total: 2 });
    // the admin's own token is not a student's: no workshop
    expect((await fetch(`${hub.url}/services/wod/api/v1/me`, { headers: { Authorization: `token ${token}` } })).status).toBe(404);
    expect((await fetch(`${hub.url}/services/wod/api/v1/me`, { headers: { Accept: 'application/json' } })).status).toBe(401);
    // Once the seat is cleaned, the page's token is revoked: the next participant's data is out of its reach.
    expect((await api(`/admin/registrations/${id}/end`, { method: 'POST' })).status).toBe(200);
    await waitForState(id, ['cleaned']);
    expect((await me()).status).toBe(401);
    expect((await me({ method: 'PUT', body: JSON.stringify({ executed: 2, total: 2 }) }, '/progress')).status).toBe(401);
  });
}
