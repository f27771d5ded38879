/**
 * system-users mode, when the tests run as root (as CI does): each student is a real Linux account
 * with a 0700 home it owns, and one student cannot read another's files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Browser, labConfig } from '../support/browser';
import { type RunningHub, startHub } from '../support/hub';
import { credentialsIn, outboxMails } from '../support/outbox';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const asRoot = process.getuid?.() === 0;
(asRoot ? describe : describe.skip)('system-users mode (root)', () => {
  let hub: RunningHub;
  const workshops = tempWorkshops();
  // /tmp, not a 0700 temporary folder: students must be able to reach their homes.
  const homeRoot = path.join(os.tmpdir(), `wod-students-${crypto.randomBytes(4).toString('hex')}`);
  const uidBase = 61000 + crypto.randomInt(3000);

  const removeAccounts = () => {
    for (const n of [91, 92]) spawnSync('userdel', [`student${n}`]);
    for (const n of [91, 92]) spawnSync('groupdel', [`student${n}`]);
  };

  beforeAll(async () => {
    removeAccounts(); // left by an interrupted run
    writeWorkshop(workshops, 'WKSHP-Sys', { range: [91, 92], capacity: 2 });
    hub = await startHub({
      env: { WOD_WORKSHOPS_DIR: workshops, WOD_STUDENTS_MODE: 'system-users', WOD_STUDENTS_HOME_ROOT: homeRoot, WOD_STUDENTS_UID_BASE: String(uidBase) },
    });
  });
  afterAll(async () => {
    await hub?.stop();
    removeAccounts();
    fs.rmSync(homeRoot, { recursive: true, force: true });
    fs.rmSync(workshops, { recursive: true, force: true });
  });

  test('two students: real accounts, private homes, working logins', async () => {
    for (const email of ['one@example.com', 'two@example.com']) {
      const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, name: 'S', company: 'C', workshop: 'WKSHP-Sys', acceptTerms: true }),
      });
      expect(res.status).toBe(201);
    }
    const until = Date.now() + 120_000;
    const credentialMails = async () => (await outboxMails(hub.dataDir)).filter((m) => m.subject?.includes('is ready'));
    while ((await credentialMails()).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 300));
    const mails = await credentialMails();
    expect(mails).toHaveLength(2);

    for (const n of [91, 92]) {
      const home = path.join(homeRoot, `student${n}`);
      const stat = fs.statSync(home);
      expect(stat.uid).toBe(uidBase + n);
      expect(stat.mode & 0o777).toBe(0o700);
      expect(fs.statSync(path.join(home, 'WKSHP-Sys', '0-ReadMeFirst.ipynb')).uid).toBe(uidBase + n);
      expect(execFileSync('id', ['-u', `student${n}`], { encoding: 'utf8' }).trim()).toBe(String(uidBase + n));
    }
    // student91 cannot read student92's home
    const peek = spawnSync('runuser', ['-u', 'student91', '--', 'ls', path.join(homeRoot, 'student92')], { encoding: 'utf8' });
    expect(peek.status).not.toBe(0);
    expect(peek.stderr).toMatch(/Permission denied/);

    // the student's server runs as the student
    const creds = credentialsIn(mails.find((m) => (m.to as { text: string }).text === 'one@example.com')!);
    const browser = new Browser(hub.url);
    const lab = await browser.hubLogin(creds.student, creds.password);
    expect(lab.status).toBe(200);
    const owner = spawnSync('pgrep', ['-u', creds.student, '-f', 'jupyterhub-singleuser'], { encoding: 'utf8' });
    expect(owner.stdout.trim()).not.toBe('');
    // ... and, as the student, finds and serves wod's lab extension from .venv
    const config = labConfig<{ baseUrl: string; federated_extensions: { name: string; load: string }[] }>(lab);
    const ext = config.federated_extensions.find((e) => e.name === '@wod/labextension')!;
    expect(ext).toBeDefined();
    const bundle = await browser.request(`${config.baseUrl}lab/extensions/${ext.name}/${ext.load}`, { headers: { Accept: '*/*' } });
    expect(bundle.status).toBe(200);
  });
});
