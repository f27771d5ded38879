/**
 * A participant attacks from their own JupyterLab: code in a real kernel and commands in a real
 * terminal, running as the participant's real uid. When the tests run as root (as CI does): in
 * `local` mode nothing of theirs is root, and in `system-users` mode they reach nothing but their
 * own home and JupyterLab: not another home, not the data folder, not /proc of the hub or the
 * service, not the mail API, not the internal ports with anything but their own rights.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { findProcesses } from '../../hub-service/src/lifecycle/processes';
import { Browser } from '../support/browser';
import { attack } from '../support/attacks';
import { type RunningHub, startHub } from '../support/hub';
import { type Lab, openLab } from '../support/lab';
import { credentialsIn, outboxMails } from '../support/outbox';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const asRoot = process.getuid?.() === 0;

async function registerAndOpen(hub: RunningHub, workshop: string, emails: string[]): Promise<Map<string, { student: string; password: string }>> {
  for (const email of emails) {
    const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, name: 'Eve', company: 'C', workshop, acceptTerms: true }),
    });
    expect(res.status).toBe(201);
  }
  const until = Date.now() + 120_000;
  const ready = async () => (await outboxMails(hub.dataDir)).filter((m) => m.subject?.includes('is ready'));
  while ((await ready()).length < emails.length && Date.now() < until) await new Promise((r) => setTimeout(r, 300));
  const mails = await ready();
  expect(mails).toHaveLength(emails.length);
  return new Map(mails.map((m) => [(m.to as { text: string }).text, credentialsIn(m)]));
}

/** Python run by the participant: prints one line per probe, REFUSED or WORKED with what it got. */
const probes = (checks: Record<string, string>) =>
  [
    'import os, socket, smtplib, urllib.request, json',
    'def probe(name, f):',
    '    try:',
    '        got = f()',
    '        print(name, "WORKED", repr(got)[:80])',
    '    except Exception as e:',
    '        code = getattr(e, "code", None) or getattr(e, "smtp_code", None)',
    '        print(name, "REFUSED", type(e).__name__ + (f":{code}" if code else ""))',
    ...Object.entries(checks).map(([name, expr]) => `probe(${JSON.stringify(name)}, lambda: ${expr})`),
  ].join('\n');

/** Each probe's verdict: `WORKED`, or `REFUSED <why>` when the refusal is one of the system's own (no bug of the probe's). */
function outcomes(output: string): Map<string, string> {
  const refusal = /^(PermissionError|HTTPError:(401|403|404)|SMTP(SenderRefused|AuthenticationError|RecipientsRefused|DataError):5\d\d)$/;
  return new Map(
    output
      .trim()
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter((w) => w.length >= 2)
      .map(([name, verdict, why]) => [name, verdict === 'REFUSED' && !refusal.test(why ?? '') ? `FAILED ${why}` : verdict]),
  );
}

(asRoot ? describe : describe.skip)('local mode started as root', () => {
  let hub: RunningHub;
  let lab: Lab;
  const workshops = tempWorkshops();

  beforeAll(async () => {
    writeWorkshop(workshops, 'WKSHP-Local', { range: [1, 2], capacity: 2 });
    hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops } });
    const creds = (await registerAndOpen(hub, 'WKSHP-Local', ['eve@example.com'])).get('eve@example.com')!;
    lab = await openLab(hub.url, creds.student, creds.password);
  });
  afterAll(async () => {
    await hub?.stop();
    fs.rmSync(workshops, { recursive: true, force: true });
  });

  test('no participant process runs as root: not the server, not a kernel, not a terminal', async () => {
    await attack('local as root: a kernel runs as root', async () => {
      expect(Number((await lab.kernel('import os; print(os.getuid(), os.geteuid())')).trim().split(' ')[0])).not.toBe(0);
    });
    await attack('local as root: a terminal runs as root', async () => {
      expect((await lab.terminal('id -u')).match(/^\d+$/m)?.[0]).not.toBe('0');
    });
    await attack('local as root: any process of a student is root', async () => {
      const pids = findProcesses(hub.hubApiUrl, 'JUPYTERHUB_USER=student1');
      expect(pids.length).toBeGreaterThan(0);
      for (const pid of pids) expect(fs.statSync(`/proc/${pid}`).uid).not.toBe(0);
    });
    await attack('local as root: the server passes --allow-root', async () => {
      for (const pid of findProcesses(hub.hubApiUrl, 'JUPYTERHUB_USER=student1')) expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toMatch(/allow-root/);
    });
    const secrets = fs.readdirSync(path.join(hub.dataDir, 'secrets')).map((f) => path.join(hub.dataDir, 'secrets', f));
    const files = [path.join(hub.dataDir, 'wod.sqlite'), path.join(hub.dataDir, 'jupyterhub.sqlite'), ...secrets];
    const seen = outcomes(
      await lab.kernel(
        probes({
          list_data: `os.listdir(${JSON.stringify(hub.dataDir)})`,
          ...Object.fromEntries(files.map((f, i) => [`read_${i}`, `open(${JSON.stringify(f)}, "rb").read(16)`])),
        }),
      ),
    );
    for (const [name, verdict] of seen) await attack(`local as root: a kernel reads the data folder (${name})`, () => expect(verdict).toBe('REFUSED'));
    expect(seen.size).toBe(files.length + 1);
  });

  test('a copy of the database would give nobody a way in: no live link or password in any stored mail', async () => {
    const db = new Database(path.join(hub.dataDir, 'wod.sqlite'), { readonly: true });
    try {
      // the reminder carries a start link: bring it on
      const rw = new Database(path.join(hub.dataDir, 'wod.sqlite'));
      rw.prepare(`UPDATE registrations SET deadline_at = ? WHERE state IN ('ready', 'reminded')`).run(new Date(Date.now() + 30 * 60_000).toISOString());
      rw.close();
      const until = Date.now() + 30_000;
      const sent = (kind: string) => db.prepare(`SELECT 1 FROM mails WHERE kind = ? AND state = 'sent'`).get(kind);
      while (!sent('reminder') && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
      expect(sent('reminder')).toBeDefined();
      const rows = db.prepare('SELECT kind, subject, text, html FROM mails').all() as { kind: string; subject: string; text: string | null; html: string | null }[];
      expect(rows.map((r) => r.kind).sort()).toEqual(['credentials', 'reminder', 'welcome']);
      await attack('a stored mail holds a live status link, start link or password', () => {
        for (const r of rows) expect(`${r.subject}\n${r.text ?? ''}\n${r.html ?? ''}`).not.toMatch(/\/status\/\d+\.[\w-]{20,}|wod-login\?token=\d|password: \S/);
      });
      // ... while the reminder as delivered has a start link that works
      const reminder = (await outboxMails(hub.dataDir)).find((m) => m.subject?.includes('minutes left'))!;
      const link = reminder.text!.match(/(http\S+\/hub\/wod-login\?token=\S+)/)![1];
      expect((await new Browser(hub.url).request(new URL(link).pathname + new URL(link).search)).status).toBe(200);
    } finally {
      db.close();
    }
  });

  test('after a whole start and a deployment, nothing in the data folder is open to others', async () => {
    const open: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const f = path.join(dir, e.name);
        const mode = fs.lstatSync(f).mode & 0o777;
        if (f === path.join(hub.dataDir, 'homes')) {
          if (mode !== 0o711) open.push(`${f} ${mode.toString(8)}`);
          for (const home of fs.readdirSync(f)) if ((fs.statSync(path.join(f, home)).mode & 0o777) !== 0o700) open.push(`${f}/${home}`);
          continue;
        }
        if (mode & 0o077) open.push(`${f} ${mode.toString(8)}`);
        if (e.isDirectory()) walk(f);
      }
    };
    walk(hub.dataDir);
    await attack('local as root: a file of the data folder open to others', () => {
      expect(fs.statSync(hub.dataDir).mode & 0o777).toBe(0o711); // passable to reach the homes, never listed
      expect(open).toEqual([]);
    });
  });
});

(asRoot ? describe : describe.skip)('system-users mode: a participant reaches nothing but their own JupyterLab', () => {
  let hub: RunningHub;
  let eve: Lab;
  let eveStudent: string;
  let other: string;
  const workshops = tempWorkshops();
  const homeRoot = path.join(os.tmpdir(), `wod-students-${crypto.randomBytes(4).toString('hex')}`);
  const uidBase = 64100 + crypto.randomInt(1000);
  const numbers = [93, 94];
  const removeAccounts = () => {
    for (const n of numbers) spawnSync('userdel', [`student${n}`]);
    for (const n of numbers) spawnSync('groupdel', [`student${n}`]);
  };

  beforeAll(async () => {
    removeAccounts();
    writeWorkshop(workshops, 'WKSHP-Iso', { range: [93, 94], capacity: 2 });
    hub = await startHub({
      env: { WOD_WORKSHOPS_DIR: workshops, WOD_STUDENTS_MODE: 'system-users', WOD_STUDENTS_HOME_ROOT: homeRoot, WOD_STUDENTS_UID_BASE: String(uidBase) },
    });
    const creds = await registerAndOpen(hub, 'WKSHP-Iso', ['eve@example.com', 'bob@example.com']);
    eveStudent = creds.get('eve@example.com')!.student;
    other = creds.get('bob@example.com')!.student;
    eve = await openLab(hub.url, eveStudent, creds.get('eve@example.com')!.password);
  });
  afterAll(async () => {
    await hub?.stop();
    removeAccounts();
    fs.rmSync(homeRoot, { recursive: true, force: true });
    fs.rmSync(workshops, { recursive: true, force: true });
  });

  test('the kernel and the terminal run as the student, never root', async () => {
    const uid = String(uidBase + Number(eveStudent.replace('student', '')));
    await attack('system-users: the kernel is not the student', async () => expect((await eve.kernel('import os; print(os.getuid())')).trim()).toBe(uid));
    await attack('system-users: the terminal is not the student', async () => expect((await eve.terminal('id -u')).match(/^\d+$/m)?.[0]).toBe(uid));
  });

  test('files: another home, the data folder, its databases, secrets and outbox are out of reach', async () => {
    const data = hub.dataDir;
    const targets: Record<string, string> = {
      other_home: `os.listdir(${JSON.stringify(path.join(homeRoot, other))})`,
      other_notebook: `open(${JSON.stringify(path.join(homeRoot, other, 'WKSHP-Iso', '0-ReadMeFirst.ipynb'))}).read(10)`,
      data_folder: `os.listdir(${JSON.stringify(data)})`,
      secrets_folder: `os.listdir(${JSON.stringify(path.join(data, 'secrets'))})`,
      outbox: `os.listdir(${JSON.stringify(path.join(data, 'outbox'))})`,
    };
    for (const f of ['wod.sqlite', 'wod.sqlite-wal', 'wod.sqlite-shm', 'jupyterhub.sqlite', 'test-run.log'])
      targets[`file_${f.replace(/\W/g, '_')}`] = `open(${JSON.stringify(path.join(data, f))}, "rb").read(16)`;
    for (const f of fs.readdirSync(path.join(data, 'secrets'))) targets[`secret_${f.replace(/\W/g, '_')}`] = `open(${JSON.stringify(path.join(data, 'secrets', f))}).read()`;
    for (const f of fs.readdirSync(path.join(data, 'outbox')).slice(0, 3))
      targets[`mail_${f.replace(/\W/g, '_')}`] = `open(${JSON.stringify(path.join(data, 'outbox', f))}).read(10)`;
    const seen = outcomes(await eve.kernel(probes(targets)));
    expect([...seen.keys()].sort()).toEqual(Object.keys(targets).sort());
    for (const [name, verdict] of seen) await attack(`system-users: the student reads ${name}`, () => expect(verdict).toBe('REFUSED'));
  });

  test("/proc: the hub's, the proxy's, the service's and another student's environment are out of reach", async () => {
    const hubProcs = findProcesses(hub.hubApiUrl).filter((pid) => fs.statSync(`/proc/${pid}`).uid === 0);
    const otherProcs = findProcesses(hub.hubApiUrl, `JUPYTERHUB_USER=${other}`);
    expect(hubProcs.length).toBeGreaterThan(0); // the service (and what else the hub started as root)
    expect(otherProcs.length).toBeGreaterThan(0);
    const proxy = spawnSync('pgrep', ['-f', `configurable-http-proxy.*${hub.ports.proxyApi}`], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean)
      .map(Number);
    const hubPid = spawnSync('pgrep', ['-f', `jupyterhub -f .*`], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean)
      .map(Number)
      .filter((p) => fs.readFileSync(`/proc/${p}/environ`).includes(`WOD_DATA_DIR=${hub.dataDir}`));
    const pids = [...new Set([...hubProcs, ...otherProcs, ...proxy, ...hubPid])];
    const targets = Object.fromEntries(
      pids.flatMap((pid) => [
        [`environ_${pid}`, `open("/proc/${pid}/environ", "rb").read()`],
        [`fd_${pid}`, `os.listdir("/proc/${pid}/fd")`],
      ]),
    );
    const seen = outcomes(await eve.kernel(probes(targets)));
    expect(seen.size).toBe(pids.length * 2);
    for (const [name, verdict] of seen) await attack(`system-users: the student reads /proc ${name}`, () => expect(verdict).toBe('REFUSED'));
    // what anyone may read of a process, its command line, holds no secret of wod's
    const secrets = fs.readdirSync(path.join(hub.dataDir, 'secrets')).map((f) => fs.readFileSync(path.join(hub.dataDir, 'secrets', f), 'utf8').trim());
    await attack('system-users: a secret in a command line', () => {
      for (const pid of pids) for (const s of secrets) expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(s);
    });
  });

  test("ports: no mail order, and the hub's, the proxy's and the service's internal APIs give the student only their own rights", async () => {
    const { hubApi, proxyApi, service, mailApi } = hub.ports;
    const order = (auth: string) =>
      `(lambda s: (${auth} s.sendmail("wodadmin@localhost", ["wod@localhost"], "Subject: CLEANUP ${Number(other.replace('student', ''))} 0\\r\\n\\r\\nWKSHP-Iso\\r\\n")))(smtplib.SMTP("127.0.0.1", ${mailApi}, timeout=10))`;
    const get = (url: string, token = true) =>
      `urllib.request.urlopen(urllib.request.Request("${url}", headers=${token ? `{"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]}` : '{}'}), timeout=10).read(200)`;
    const post = (url: string, body = '{}') =>
      `urllib.request.urlopen(urllib.request.Request("${url}", data=b'${body}', method="POST", headers={"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"], "Content-Type": "application/json"}), timeout=10).read(200)`;
    const hubApiUrl = `http://127.0.0.1:${hubApi}/hub/api`;
    const targets: Record<string, string> = {
      mail_order_plain: order(''),
      mail_order_forged_login: order('s.login("wod", "wod") or'),
      hub_list_users: get(`${hubApiUrl}/users`),
      hub_other_user: get(`${hubApiUrl}/users/${other}`),
      hub_other_tokens: get(`${hubApiUrl}/users/${other}/tokens`),
      hub_start_other: post(`${hubApiUrl}/users/${other}/server`),
      hub_make_admin: post(`${hubApiUrl}/users`, `{"usernames": ["mallory"], "admin": true}`),
      proxy_routes: get(`http://127.0.0.1:${proxyApi}/api/routes`, false),
      service_internal_login: `urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:${service}/services/wod/internal/start-links", data=b'{"token": "x"}', method="POST", headers={"Content-Type": "application/json"}), timeout=10).read(200)`,
      service_admin_api: get(`http://127.0.0.1:${service}/services/wod/api/v1/admin/registrations`),
      other_lab: get(`http://127.0.0.1:${hub.ports.public}/user/${other}/api/contents`),
    };
    const seen = outcomes(await eve.kernel(probes(targets)));
    expect([...seen.keys()].sort()).toEqual(Object.keys(targets).sort());
    for (const [name, verdict] of seen) await attack(`system-users: the student's process: ${name}`, () => expect(verdict).toBe('REFUSED'));
    // and nothing happened to the other student's registration
    const mine = outcomes(await eve.kernel(probes({ own_lab: get(`http://127.0.0.1:${hub.ports.public}/user/${eveStudent}/api/contents`) })));
    expect(mine.get('own_lab')).toBe('WORKED');
  });
});
