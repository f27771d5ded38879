/**
 * The foundation against a real JupyterHub: health through the proxy, the authenticator shim's call
 * path, hub OAuth into the admin panel (admin, wod-admin, non-admin), CSRF, and the hub client
 * driving a real single-user server.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HubApiError, HubClient } from '../../hub-service/src/hub/client';
import { Browser } from '../support/browser';
import { type RunningHub, startHub } from '../support/hub';

let hub: RunningHub;

beforeAll(async () => {
  hub = await startHub({ env: { WOD_ACCOUNTS_WOD_ADMINS: 'trainer' } });
});
afterAll(async () => {
  await hub?.stop();
});

describe('health', () => {
  test('answers ok through the proxy with version, database and hub state', async () => {
    const res = await fetch(`${hub.url}/services/wod/health`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      status: 'ok',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      database: { ok: true, schemaVersion: expect.any(Number) },
      hub: { ok: true, version: '6.1.1' },
    });
  });
});

describe('authenticator shim call path', () => {
  const secret = () => fs.readFileSync(path.join(hub.dataDir, 'secrets', 'auth-secret'), 'utf8').trim();
  const ask = (base: string, body: unknown, auth?: string) =>
    fetch(`${base}/internal/logins`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: `Bearer ${auth}` } : {}) },
      body: JSON.stringify(body),
    });

  test('the service says yes to the right password and no to a wrong one', async () => {
    const yes = await ask(hub.serviceUrl, { username: 'admin', password: hub.admin.password }, secret());
    expect(yes.status).toBe(200);
    expect(await yes.json()).toEqual({ name: 'admin' });
    const no = await ask(hub.serviceUrl, { username: 'admin', password: 'not-the-password' }, secret());
    expect(no.status).toBe(401);
    const bad = await ask(hub.serviceUrl, { username: 'admin' }, secret());
    expect(bad.status).toBe(400);
  });

  test('without the shared secret, or through the public proxy, the route does not exist', async () => {
    expect((await ask(hub.serviceUrl, { username: 'admin', password: hub.admin.password })).status).toBe(404);
    expect((await ask(hub.serviceUrl, { username: 'admin', password: hub.admin.password }, 'x'.repeat(64))).status).toBe(404);
    const viaProxy = await ask(`${hub.url}/services/wod`, { username: 'admin', password: hub.admin.password }, secret());
    expect(viaProxy.status).toBe(404);
  });

  test('guessing: after 5 failed logins a (name, address) is refused for a while, even with the right password; not from elsewhere', async () => {
    const password = (await hub.cli('accounts', 'password', 'carol')).match(/password (\S+)/)![1];
    for (let i = 0; i < 5; i++) expect((await ask(hub.serviceUrl, { username: 'carol', password: `guess${i}` }, secret())).status).toBe(401);
    const refused = await ask(hub.serviceUrl, { username: 'carol', password }, secret());
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await new Browser(hub.url).hubLogin('carol', password)).status).toBe(200); // through the hub: another client address
    expect((await ask(hub.serviceUrl, { username: 'admin', password: hub.admin.password }, secret())).status).toBe(200);
  });

  test("the hub's login form accepts what the service accepts, and only that", async () => {
    const refused = await new Browser(hub.url).hubLogin('admin', 'wrong password');
    expect(refused.status).toBe(403);
    expect(refused.text).toMatch(/Invalid username or password/i);

    const browser = new Browser(hub.url);
    const page = await browser.hubLogin('admin', hub.admin.password);
    expect(browser.cookie('jupyterhub-session-id')).toBeDefined();
    expect(page.trail.some((u) => u.startsWith('/services/wod/'))).toBe(true);
  });
});

describe('admin panel through hub OAuth', () => {
  test('an admin logs in through the real login form and lands on the admin page', async () => {
    const browser = new Browser(hub.url);
    const first = await browser.request('/services/wod/admin/', { follow: false });
    expect(first.status).toBe(302);
    const authorize = new URL(first.headers.get('location')!, hub.url);
    expect(authorize.pathname).toBe('/hub/api/oauth2/authorize');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);

    const page = await browser.hubLogin('admin', hub.admin.password, authorize.pathname + authorize.search);
    expect(page.status).toBe(200);
    expect(page.url).toBe(`${hub.url}/services/wod/admin/`);
    expect(page.text).toContain('data-testid="admin-user">admin<');
    expect(page.text).toContain('6.1.1');
    const session = browser.cookie('service-wod')!;
    expect(session.raw).toMatch(/HttpOnly/i);
    expect(session.path).toBe('/services/wod/');
    expect(session.value).not.toContain('.'); // sealed, not a readable token
  });

  test('a holder of custom:wod:admin who is not a hub admin gets in too', async () => {
    const browser = new Browser(hub.url);
    await browser.hubLogin('trainer', hub.admin.password);
    const page = await browser.request('/services/wod/admin/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-testid="admin-user">trainer<');
  });

  test('any other logged-in user gets a clear 403 page', async () => {
    const password = (await hub.cli('accounts', 'password', 'bob')).match(/password (\S+)/)![1];
    const browser = new Browser(hub.url);
    await browser.hubLogin('bob', password);
    const page = await browser.request('/services/wod/admin/');
    expect(page.status).toBe(403);
    expect(page.text).toContain('Not an administrator');
    expect(page.text).toContain('logged in as bob');
  });

  test('a callback whose state does not match is refused', async () => {
    const browser = new Browser(hub.url);
    await browser.request('/services/wod/admin/', { follow: false });
    const page = await browser.request('/services/wod/oauth_callback?code=abc&state=forged', { follow: false });
    expect(page.status).toBe(403);
    expect(page.text).toContain('Try logging in again');
  });

  test('admin forms need the CSRF token of the session', async () => {
    const browser = new Browser(hub.url);
    await browser.hubLogin('admin', hub.admin.password);
    const page = await browser.request('/services/wod/admin/');
    const csrf = page.text.match(/name="_csrf" value="([^"]+)"/)![1];
    const form = { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, follow: false };
    const forged = await browser.request('/services/wod/admin/logout', { ...form, body: '_csrf=nope' });
    expect(forged.status).toBe(403);
    const real = await browser.request('/services/wod/admin/logout', { ...form, body: `_csrf=${encodeURIComponent(csrf)}` });
    expect(real.status).toBe(302);
    expect(real.headers.get('location')).toBe('/hub/logout');
  });

  test('API clients without a token get 401, with an admin token get in', async () => {
    const anonymous = await fetch(`${hub.url}/services/wod/admin/`, { headers: { Accept: 'application/json' } });
    expect(anonymous.status).toBe(401);
    const browser = new Browser(hub.url);
    await browser.hubLogin('admin', hub.admin.password);
    const token = await browser.hubToken('admin');
    const withToken = await fetch(`${hub.url}/services/wod/admin/`, { headers: { Authorization: `token ${token}` } });
    expect(withToken.status).toBe(200);
  });
});

describe('hub client against the real hub', () => {
  let client: HubClient;
  let token: string;
  /** The hub's REST API with the admin's token, for the calls a test makes and the service never does. */
  const hubApi = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${hub.hubApiUrl}${route}`, {
      method,
      headers: { Authorization: `token ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> | null };
  };
  beforeAll(async () => {
    const browser = new Browser(hub.url);
    await browser.hubLogin('admin', hub.admin.password);
    token = await browser.hubToken('admin');
    client = new HubClient({ apiUrl: hub.hubApiUrl, token });
  });

  test('creates a user, starts a real single-user server, sees it ready, stops it, deletes the user', async () => {
    const user = await client.ensureUser('student1');
    expect(user.name).toBe('student1');
    expect((await client.ensureUser('student1')).name).toBe('student1'); // idempotent

    await client.startServer('student1');
    const server = await client.waitForServer('student1', 90_000);
    expect(server.ready).toBe(true);
    expect(server.url).toBe('/user/student1/');
    // The server really answers, through the proxy, to a token of its owner.
    const made = await hubApi('POST', '/users/student1/tokens', { scopes: ['access:servers!user=student1'], expires_in: 600, note: 'test' });
    expect(made.status).toBe(201);
    const api = await fetch(`${hub.url}/user/student1/api/status`, { headers: { Authorization: `token ${made.body!.token as string}` } });
    expect(api.status).toBe(200);
    expect(fs.existsSync(path.join(hub.dataDir, 'homes', 'student1'))).toBe(true);
    expect((await hubApi('DELETE', `/users/student1/tokens/${made.body!.id as string}`)).status).toBe(204);

    await client.stopServer('student1');
    await client.waitForStopped('student1');
    expect(await client.getServer('student1')).toBeNull();
    expect((await hubApi('DELETE', '/users/student1')).status).toBe(204);
  });

  test('lists users', async () => {
    await client.ensureUser('student2');
    expect((await client.listUsers()).map((u) => u.name)).toEqual(expect.arrayContaining(['admin', 'student2']));
    expect((await hubApi('DELETE', '/users/student2')).status).toBe(204);
  });

  test('a refused call is a HubApiError naming the call and the hub message', async () => {
    const err = await client.startServer('no-such-user').catch((e) => e);
    expect(err).toBeInstanceOf(HubApiError);
    expect(err.status).toBe(404);
    expect(err.message).toMatch(/POST \/users\/no-such-user\/server failed: HTTP 404/);
  });
});
