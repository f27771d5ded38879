/**
 * Who may read /services/wod/metrics, and what it tells them: only a hub token with read:metrics or
 * the wod admin scope (not a student's JupyterLab token, not a plain hub user's, not a hub admin's
 * token narrowed to access:services!service=wod); the text never names a participant nor carries a
 * status link's token; the metrics token is a 0600 secret no student account reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { attack } from '../support/attacks';
import { Browser, labConfig } from '../support/browser';
import { type RunningHub, startHub } from '../support/hub';
import { openLab } from '../support/lab';
import { credentialsIn, waitForMail } from '../support/outbox';
import { valueOf } from '../support/prometheus';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const asRoot = process.getuid?.() === 0;
const FOLDER = 'WKSHP-Watched';
const EMAIL = 'ursula.franklin@example.com';
const NAME = 'Ursula Franklin';
let hub: RunningHub;
let metricsToken: string;
let student: { student: string; password: string };
let statusToken: string;
const tokens: Record<string, string> = {};
const workshops = tempWorkshops();

const scrape = (token?: string) => fetch(`${hub.url}/services/wod/metrics`, { headers: token ? { Authorization: `token ${token}` } : {} });

beforeAll(async () => {
  writeWorkshop(workshops, FOLDER, { range: [1, 3], capacity: 3 });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  metricsToken = (await hub.cli('metrics', 'token')).trim();

  const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: EMAIL, name: NAME, company: 'Toronto', workshop: FOLDER, acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  const ready = await waitForMail(hub.dataDir, (m) => !!m.subject?.includes('is ready'), 120_000);
  student = credentialsIn(ready);
  statusToken = (ready.text ?? '').match(/\/services\/wod\/status\/([A-Za-z0-9_.~-]+)/)![1];

  const admin = new Browser(hub.url);
  await admin.hubLogin(hub.admin.name, hub.admin.password);
  tokens["an admin's token narrowed to access:services!service=wod"] = await admin.hubToken(hub.admin.name, ['access:services!service=wod']);
  const bob = new Browser(hub.url);
  await bob.hubLogin('bob', (await hub.cli('accounts', 'password', 'bob')).match(/password (\S+)/)![1]);
  tokens['a plain hub user'] = await bob.hubToken('bob');
  tokens["a student's JupyterLab token"] = labConfig<{ token: string }>(await new Browser(hub.url).hubLogin(student.student, student.password)).token;
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

test('without a token: 401', async () => {
  await attack('metrics without a token', async () => {
    const res = await scrape();
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ status: 401 });
  });
  await attack('metrics with a made-up token', async () => expect((await scrape('f'.repeat(32))).status).toBe(401));
});

test('a token without read:metrics or the wod admin scope: 403', async () => {
  expect(Object.keys(tokens)).toHaveLength(3);
  for (const [credential, token] of Object.entries(tokens)) {
    await attack(`metrics with ${credential}`, async () => {
      const res = await scrape(token);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ status: 403, message: expect.stringContaining('read:metrics') });
    });
  }
  // the metrics token itself opens nothing else of wod
  await attack('the metrics token used on the admin API', async () =>
    expect((await fetch(`${hub.url}/services/wod/api/v1/admin/registrations`, { headers: { Authorization: `token ${metricsToken}` } })).status).toBe(401),
  );
});

test("the scraped text names no participant and carries no status link's token", async () => {
  // the status page visited with its token: its request is timed, under the route template
  expect((await fetch(`${hub.url}/services/wod/status/${statusToken}`)).status).toBe(200);
  const res = await scrape(metricsToken);
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(valueOf(text, 'wod_registrations_total', { workshop: FOLDER, outcome: 'registered' })).toBe(1);
  expect(valueOf(text, 'wod_request_duration_seconds_count', { handler: '/status/:token', method: 'GET', code: '200' })).toBeGreaterThanOrEqual(1);
  await attack('the metrics name the participant', () => {
    for (const personal of [EMAIL, 'ursula', 'franklin', 'toronto']) expect(text.toLowerCase()).not.toContain(personal);
  });
  await attack("the metrics carry a status link's token", () => expect(text).not.toContain(statusToken));
  await attack("the metrics carry the student's password", () => expect(text).not.toContain(student.password));
});

test('the metrics token is a 0600 secret of the data folder', async () => {
  const file = path.join(hub.dataDir, 'secrets', 'metrics-token');
  await attack('the metrics token file open to others', () => expect(fs.statSync(file).mode & 0o777).toBe(0o600));
  expect(fs.readFileSync(file, 'utf8').trim()).toBe(metricsToken);
});

(asRoot ? test : test.skip)("a student's kernel cannot read the metrics token", async () => {
  const lab = await openLab(hub.url, student.student, student.password);
  const file = path.join(hub.dataDir, 'secrets', 'metrics-token');
  const out = await lab.kernel(
    ['try:', `    print("WORKED", len(open(${JSON.stringify(file)}).read()))`, 'except Exception as e:', '    print("REFUSED", type(e).__name__)'].join('\n'),
  );
  await attack('a student reads the metrics token', () => expect(out.trim()).toBe('REFUSED PermissionError'));
});
