/** The hub client's retry and error rules, against a scripted local HTTP server. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HubApiError, HubClient, retryDelay } from '../../hub-service/src/hub/client';
import { freePorts } from '../support/ports';

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };
let replies: Reply[] = [];
const seen: { method: string; url: string; auth?: string; body: string }[] = [];
let server: http.Server;
let apiUrl: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      const r = replies.shift() ?? { status: 500, body: { message: 'script ran out' } };
      res.writeHead(r.status, { 'Content-Type': 'application/json', ...r.headers });
      res.end(r.body === undefined ? '' : JSON.stringify(r.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hub/api`;
});
afterAll(() => new Promise((r) => server.close(r)));
beforeEach(() => {
  replies = [];
  seen.length = 0;
});

function client(retries = 3) {
  const sleeps: number[] = [];
  const c = new HubClient({ apiUrl, token: 'service-token', retries, sleep: async (ms) => void sleeps.push(ms) });
  return { c, sleeps };
}

test('sends the service token and parses the answer', async () => {
  const server = { name: '', ready: true, pending: null, url: '/user/student1/', started: null, last_activity: null, progress_url: '' };
  replies = [{ status: 200, body: { name: 'student1', admin: false, groups: [], server: '/user/student1/', pending: null, last_activity: null, servers: { '': server } } }];
  const { c } = client();
  expect(await c.getServer('student1')).toEqual(server);
  expect(seen[0]).toMatchObject({ method: 'GET', url: '/hub/api/users/student1', auth: 'token service-token' });
});

test("429 is retried after the hub's Retry-After, 5xx with backoff", async () => {
  replies = [
    { status: 429, body: { message: 'Too many users trying to log in right now' }, headers: { 'Retry-After': '3' } },
    { status: 502, body: { message: 'proxy error' } },
    { status: 201, body: { name: 'student1' } },
  ];
  const { c, sleeps } = client();
  expect(await c.startServer('student1')).toBe('ready');
  expect(seen).toHaveLength(3);
  expect(sleeps[0]).toBe(3000);
  expect(sleeps[1]).toBeGreaterThan(0);
  expect(JSON.parse(seen[0].body)).toEqual({ user_options: {} });
});

test('gives up after the retries with the last status and message', async () => {
  replies = Array.from({ length: 3 }, () => ({ status: 503, body: { message: 'hub is restarting' } }));
  const { c } = client(2);
  const err = await c.stopServer('x').catch((e) => e);
  expect(err).toBeInstanceOf(HubApiError);
  expect(err.status).toBe(503);
  expect(err.message).toBe('JupyterHub DELETE /users/x/server failed: HTTP 503: hub is restarting');
  expect(seen).toHaveLength(3);
});

test('other 4xx answers are not retried; 404 on reads means absent', async () => {
  replies = [{ status: 403, body: { message: 'Action is not authorized' } }];
  const { c } = client();
  await expect(c.ensureUser('g')).rejects.toThrow(/POST \/users\/g failed: HTTP 403: Action is not authorized/);
  expect(seen).toHaveLength(1);
  replies = [{ status: 404, body: { message: 'No such user' } }];
  expect(await c.getServer('nobody')).toBeNull();
});

test('an existing user is fetched instead of created twice', async () => {
  replies = [
    { status: 409, body: { message: 'exists' } },
    { status: 200, body: { name: 'student1' } },
  ];
  const { c } = client();
  expect((await c.ensureUser('student1')).name).toBe('student1');
  expect(seen.map((s) => s.method)).toEqual(['POST', 'GET']);
});

test('an unreachable hub is retried, then reported', async () => {
  const { sleeps } = client();
  const [closed] = await freePorts(1);
  const c = new HubClient({ apiUrl: `http://127.0.0.1:${closed}/hub/api`, token: 't', retries: 1, sleep: async (ms) => void sleeps.push(ms) });
  const err = await c.info().catch((e) => e);
  expect(err).toBeInstanceOf(HubApiError);
  expect(err.message).toMatch(/GET \/ failed: no answer: .*ECONNREFUSED/);
  expect(sleeps).toHaveLength(1);
});

test('waitForServer fails fast when the spawn ends without a server', async () => {
  replies = [
    { status: 200, body: { name: 's', servers: { '': { ready: false, pending: 'spawn' } } } },
    { status: 200, body: { name: 's', servers: {} } },
  ];
  const { c } = client();
  await expect(c.waitForServer('s', 10_000, 1)).rejects.toThrow(/spawn failed/);
});

test('retryDelay reads seconds and HTTP dates, else backs off exponentially', () => {
  expect(retryDelay('2', 0)).toBe(2000);
  expect(retryDelay(new Date(10_000).toUTCString(), 0, 4_000)).toBe(6_000);
  const d0 = retryDelay(null, 0);
  const d3 = retryDelay(null, 3);
  expect(d0).toBeGreaterThanOrEqual(187.5);
  expect(d3).toBeGreaterThanOrEqual(1500);
});

test('startServer refuses an option named like a key JupyterHub reads from the body itself, before any call', async () => {
  const { c } = client(0);
  for (const key of ['display_name', 'user_options']) {
    await expect(c.startServer('student1', { [key]: 'x', wod_maintenance: true })).rejects.toThrow(`start student1's server: ${key} cannot be a user option`);
  }
  expect(seen).toEqual([]);
});
