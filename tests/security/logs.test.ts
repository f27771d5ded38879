/**
 * No log lets its reader act as someone else: a whole participant journey against one real hub
 * (register, the mails, the status page, the start link good and tampered, the password, a failed
 * login, an admin with a hub token on the REST API), then every log is searched for every secret
 * issued on the way: the hub's, the proxy's, the service's and the students' servers' output, and
 * every file in the data folder but the outbox (which is the mail itself) and the databases.
 */
import fs from 'node:fs';
import path from 'node:path';
import { attack } from '../support/attacks';
import { Browser } from '../support/browser';
import { type RunningHub, startHub } from '../support/hub';
import { credentialsIn, waitForMail } from '../support/outbox';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
const workshops = tempWorkshops();

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-Logs', { range: [1, 3], capacity: 3 });
  // the service logs JSON lines here (log.format): the search below covers that format too
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_LOG_FORMAT: 'json' } });
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

/** Every file of the data folder a log could be in: not the outbox, not the databases. */
function logFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (full !== path.join(hub.dataDir, 'outbox')) out.push(...logFiles(full));
    } else if (entry.isFile() && !/\.sqlite(-wal|-shm|-journal)?$/.test(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

test('a whole journey leaves no token and no password in any log', async () => {
  const secrets: Record<string, string> = { 'the admin password': hub.admin.password };
  const visitor = new Browser(hub.url);

  // register through the portal: the "check your mail" page's ticket is in its path
  const registered = await visitor.request('/services/wod/workshops/WKSHP-Logs/register', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email: 'ada@example.com', name: 'Ada Lovelace', company: 'Analytical', acceptTerms: 'on' }).toString(),
  });
  expect(registered.status).toBe(200);
  const ticket = registered.trail.map((u) => u.match(/\/services\/wod\/registered\/([^/?]+)/)?.[1]).find(Boolean)!;
  expect(ticket).toMatch(/^\d+\.[\w-]{20,}$/);
  secrets['the "check your mail" ticket'] = ticket;

  // the credentials mail: password, start link, status link
  const mail = await waitForMail(hub.dataDir, (m) => !!m.subject?.includes('is ready'), 90_000);
  const creds = credentialsIn(mail);
  const startToken = new URL(creds.startUrl!).searchParams.get('token')!;
  const statusToken = (mail.text ?? '').match(/\/services\/wod\/status\/([\w.-]+)/)![1];
  Object.assign(secrets, { "the student's password": creds.password, 'the start link token': startToken, 'the status link token': statusToken });

  // the status page, in the portal and the REST API, and its end form refused for want of a confirmation
  expect((await visitor.request(`/services/wod/status/${statusToken}`)).status).toBe(200);
  expect((await fetch(`${hub.url}/services/wod/api/v1/status/${statusToken}`)).status).toBe(200);
  expect(
    (await visitor.request(`/services/wod/status/${statusToken}/end`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' })).status,
  ).toBe(422);

  // the start link, good and tampered
  const oneClick = await new Browser(hub.url).request(`/hub/wod-login?token=${startToken}`);
  expect(oneClick.status).toBe(200);
  expect(oneClick.url).toContain('/user/student1/lab');
  const last = startToken.slice(-1);
  const tampered = `${startToken.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`;
  secrets['a tampered start link token'] = tampered;
  const refused = await new Browser(hub.url).request(`/hub/wod-login?token=${tampered}`);
  expect(refused.status).toBe(403);
  expect(refused.text).toContain('This start link is not valid any more');

  // the password, right and wrong
  const student = new Browser(hub.url);
  expect((await student.hubLogin(creds.student, creds.password)).url).toContain(`/user/${creds.student}/lab`);
  const wrong = await new Browser(hub.url).hubLogin(creds.student, `${creds.password}x`);
  expect(wrong.status).toBe(403);
  expect(wrong.text).toMatch(/Invalid username or password/i);

  // an admin, a hub token, the REST API with it
  const admin = new Browser(hub.url);
  await admin.hubLogin(hub.admin.name, hub.admin.password);
  const token = await admin.hubToken(hub.admin.name);
  secrets['a hub API token'] = token;
  const list = await fetch(`${hub.url}/services/wod/api/v1/admin/registrations`, { headers: { Authorization: `token ${token}` } });
  expect(list.status).toBe(200);
  expect(JSON.stringify(await list.json())).toContain('ada@example.com');
  expect((await fetch(`${hub.hubApiUrl}/user`, { headers: { Authorization: `token ${token}` } })).status).toBe(200);

  // the requests were logged (the search below looks at the right place); `wod start` shows the
  // admin login once, on purpose, on the operator's terminal: that line aside
  const banner = /^.*Admin login \(shown once\): user \S+\s+password \S+$/gm;
  const output = hub.output().replace(banner, '');
  expect(output).toMatch(/GET \/services\/wod\/status\/\[redacted\]/);
  expect(output).toMatch(/GET \/hub\/wod-login\?token=\[secret\]/);
  const serviceLines = output.split('\n').filter((l) => l.startsWith('{'));
  const requests = serviceLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.name === 'wod.http');
  expect(requests.length).toBeGreaterThan(5);
  expect(requests[0]).toMatchObject({ level: expect.any(String), time: expect.any(String), msg: expect.stringMatching(/^\d{3} [A-Z]+ \//), ms: expect.any(Number) });
  const files = logFiles(hub.dataDir);
  expect(files.map((f) => path.basename(f))).toContain('test-run.log');

  for (const [name, secret] of Object.entries(secrets)) {
    await attack(`reading the logs for ${name}`, () => {
      expect(secret.length).toBeGreaterThanOrEqual(12);
      expect(output).not.toContain(secret);
      const found = files.filter((f) => fs.readFileSync(f, 'latin1').replace(banner, '').includes(Buffer.from(secret).toString('latin1')));
      expect(found).toEqual([]);
    });
  }
});
