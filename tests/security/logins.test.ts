/**
 * Password guessing against a real hub, through its login form: a flood of wrong passwords for
 * admin does not lock the real admin out, one guess sprayed over many names is slowed, a success
 * clears the count, and X-Forwarded-For claims are believed only from the hub's own proxy (a
 * student's process calling the hub directly is its own client, whatever it claims).
 *
 * Different client addresses are real ones: the test binds its side of each connection to
 * 127.0.0.N, and the hub's proxy reports that address. No proxy is listed (trustedProxies is empty),
 * so a forged header must change nothing.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { attack } from '../support/attacks';
import { type RunningHub, startHub } from '../support/hub';

let hub: RunningHub;

beforeAll(async () => {
  hub = await startHub({ env: { WOD_REGISTRATION_PER_IP_PER_MINUTE: '3' } });
});
afterAll(async () => {
  await hub?.stop();
});

interface Answer {
  status: number;
  text: string;
  headers: http.IncomingHttpHeaders;
}

function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; from?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, localAddress: init.from, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** The hub's login form, as a browser fills it, from client address `from` (127.0.0.N). */
async function formLogin(username: string, password: string, opts: { from?: string; forwardedFor?: string } = {}): Promise<Answer> {
  const extra: Record<string, string> = opts.forwardedFor ? { 'X-Forwarded-For': opts.forwardedFor } : {};
  const form = await send(`${hub.url}/hub/login`, { from: opts.from, headers: { ...extra, 'Sec-Fetch-Mode': 'navigate' } });
  const xsrf = form.text.match(/name="_xsrf" value="([^"]+)"/)?.[1];
  if (!xsrf) throw new Error(`no _xsrf in the login form (HTTP ${form.status})`);
  const cookie = [form.headers['set-cookie'] ?? []]
    .flat()
    .map((c) => c.split(';')[0])
    .join('; ');
  const body = new URLSearchParams({ _xsrf: xsrf, username, password }).toString();
  return send(`${hub.url}/hub/login`, {
    method: 'POST',
    from: opts.from,
    body,
    headers: { ...extra, Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(Buffer.byteLength(body)), 'Sec-Fetch-Mode': 'navigate' },
  });
}

const loggedIn = (a: Answer) => a.status === 302 && [a.headers['set-cookie'] ?? []].flat().some((c) => c.startsWith('jupyterhub-session-id='));
const invalid = (a: Answer) => a.status === 403 && /Invalid username or password/i.test(a.text);
const throttled = (a: Answer) => a.status === 429 && /Too many attempts, try later/.test(a.text) && Number(a.headers['retry-after']) > 0;

test('30 wrong passwords for admin from one address do not lock the real admin out at theirs', async () => {
  await attack('a flood of wrong passwords for admin locks the owner out', async () => {
    const answers: Answer[] = [];
    for (let i = 0; i < 30; i++) answers.push(await formLogin('admin', `wrong-${i}`, { from: '127.0.0.1' }));
    // the flood itself is slowed: five tries, then refusals with a Retry-After
    expect(answers.slice(0, 5).every(invalid)).toBe(true);
    expect(answers.slice(5).every(throttled)).toBe(true);
    expect(Number(answers[5].headers['retry-after'])).toBeLessThanOrEqual(60);
    // refused before the password is looked at: even the right one, from there
    expect(throttled(await formLogin('admin', hub.admin.password, { from: '127.0.0.1' }))).toBe(true);
    // the admin, elsewhere, logs in
    expect(loggedIn(await formLogin('admin', hub.admin.password, { from: '127.0.0.2' }))).toBe(true);
  });

  await attack('a forged X-Forwarded-For gets the guesser out of its count', async () => {
    for (const forged of ['198.51.100.1', '198.51.100.2', '127.0.0.2']) {
      expect(throttled(await formLogin('admin', 'wrong', { from: '127.0.0.1', forwardedFor: forged }))).toBe(true);
    }
  });
});

test('one password sprayed across 40 names from one address is slowed after 30', async () => {
  await attack('one guess sprayed over many names is not slowed', async () => {
    const answers: Answer[] = [];
    for (let i = 0; i < 40; i++) answers.push(await formLogin(`ghost${i}`, 'Winter2026!', { from: '127.0.0.3' }));
    expect(answers.slice(0, 30).every(invalid)).toBe(true);
    expect(answers.slice(30).every(throttled)).toBe(true);
    // another address is not concerned
    expect(invalid(await formLogin('ghost40', 'Winter2026!', { from: '127.0.0.4' }))).toBe(true);
  });
});

test("a success clears the pair's count", async () => {
  await attack("failures before the owner's login still count against them after it", async () => {
    for (let i = 0; i < 4; i++) expect(invalid(await formLogin('admin', `typo-${i}`, { from: '127.0.0.5' }))).toBe(true);
    expect(loggedIn(await formLogin('admin', hub.admin.password, { from: '127.0.0.5' }))).toBe(true);
    for (let i = 0; i < 5; i++) expect(invalid(await formLogin('admin', `typo-again-${i}`, { from: '127.0.0.5' }))).toBe(true);
    // the count started afresh at the success: only now, at five, is the pair refused
    expect(throttled(await formLogin('admin', 'typo', { from: '127.0.0.5' }))).toBe(true);
  });
});

test('registrations are limited by the same client address', async () => {
  await attack('a forged X-Forwarded-For gets around the registration limit', async () => {
    const register = (from: string, forwardedFor?: string) =>
      send(`${hub.url}/services/wod/api/v1/registrations`, {
        method: 'POST',
        from,
        body: '{}',
        headers: { 'Content-Type': 'application/json', ...(forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {}) },
      });
    // an empty registration is refused (422), and counted
    for (let i = 0; i < 3; i++) expect((await register('127.0.0.6', `203.0.113.${i}`)).status).toBe(422);
    expect((await register('127.0.0.6', '203.0.113.99')).status).toBe(429);
    expect((await register('127.0.0.7')).status).toBe(422);
  });
});

// A student has a shell on this host: their processes run as another Linux user (here: nobody).
(process.getuid?.() === 0 ? test : test.skip)("a local user calling the hub's own port is its own client, whatever X-Forwarded-For it sends", async () => {
  await attack("a student's process forges X-Forwarded-For on the hub's internal port to escape the count", async () => {
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wod-forger-')), 'forge.js');
    fs.chmodSync(path.dirname(script), 0o755);
    // Six wrong passwords for admin, each claiming another address: believed, each would be a first try.
    fs.writeFileSync(
      script,
      `const http = require('http');
const base = process.argv[2];
const send = (method, headers, body) => new Promise((resolve, reject) => {
  const req = http.request(base + '/hub/login', { method, headers, agent: false }, (res) => {
    let text = ''; res.on('data', (c) => (text += c)); res.on('end', () => resolve({ status: res.statusCode, text, cookies: res.headers['set-cookie'] || [] }));
  });
  req.on('error', reject); req.end(body);
});
(async () => {
  const statuses = [];
  for (let i = 0; i < 6; i++) {
    const forged = { 'X-Forwarded-For': '198.51.100.' + (10 + i), 'Sec-Fetch-Mode': 'navigate' };
    const form = await send('GET', forged);
    const xsrf = form.text.match(/name="_xsrf" value="([^"]+)"/)[1];
    const body = new URLSearchParams({ _xsrf: xsrf, username: 'admin', password: 'guess' + i }).toString();
    const cookie = form.cookies.map((c) => c.split(';')[0]).join('; ');
    const res = await send('POST', { ...forged, Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) }, body);
    statuses.push(res.status);
  }
  process.stdout.write(JSON.stringify(statuses));
})().catch((e) => { console.error(e); process.exit(1); });
`,
      { mode: 0o644 },
    );
    const child = spawn(process.execPath, [script, `http://127.0.0.1:${hub.ports.hubApi}`], { uid: 65534, gid: 65534 });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise((r) => child.on('close', r));
    fs.rmSync(path.dirname(script), { recursive: true, force: true });
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(JSON.parse(out)).toEqual([403, 403, 403, 403, 403, 429]);
    expect(hub.output()).toMatch(/login refused: too many failures user=admin client=local-uid-65534/);
    // and the admin logs in as ever
    expect(loggedIn(await formLogin('admin', hub.admin.password, { from: '127.0.0.8' }))).toBe(true);
  });
});
