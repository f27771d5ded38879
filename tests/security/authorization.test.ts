/**
 * The authorization matrix, against one real running product: every route of the REST API (read
 * from the OpenAPI document the service serves) and every route of the admin panel (read from the
 * admin router itself), with every kind of credential. A new route is covered without a new test.
 *
 * Admin routes answer 401 without a credential, 403 to anything that does not carry
 * custom:wod:admin (a student's JupyterLab token, a plain hub user, a hub admin's token narrowed to
 * `access:services!service=wod`, a hub admin's own JupyterLab token, a user made hub admin later
 * with the flag alone), and let the full admin token in. Student routes (/me…) need a student:
 * anyone else without a workshop gets 404. Public routes are public. Through the OAuth cookie, the
 * panel's pages refuse whoever lacks the scope and open to an admin.
 * Every cell where a credential must be refused is an attack in the security ledger.
 */
import fs from 'node:fs';
import { loadConfig } from '../../hub-service/src/config/load';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { adminRouter, routesOf } from '../../hub-service/src/web/admin';
import type { WebDeps } from '../../hub-service/src/web/deps';
import { attack } from '../support/attacks';
import { Browser, labConfig } from '../support/browser';
import { type RunningHub, sealerOf, startHub } from '../support/hub';
import { credentialsIn, waitForMail } from '../support/outbox';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const FOLDER = 'WKSHP-Matrix';
const STUDENT_EMAIL = 'student@example.com';
const TARGET_EMAIL = 'target@example.com';
const HTTP_METHODS = new Set(['get', 'put', 'post', 'patch', 'delete']);

type Kind = 'api' | 'panel';
/** `location`: the location API, below the service, which takes only tokens issued for a peer wod */
type Audience = 'admin' | 'student' | 'public' | 'location';
interface Route {
  kind: Kind;
  method: string;
  /** as the app declares it: `/admin/jobs/{id}` (OpenAPI) or `/jobs/:id` (Express) */
  template: string;
  audience: Audience;
}
type Expect = 401 | 403 | 404 | 'allowed';

/** The credentials of the matrix, in the order they are tried (the full admin last: its calls change things). */
const CREDENTIALS = [
  'no credential',
  "a student's JupyterLab token",
  'a plain hub user',
  "an admin's token narrowed to access:services!service=wod",
  "an admin's own JupyterLab token",
  'a user made hub admin later (admin flag only)',
  'the full admin token',
] as const;
type Credential = (typeof CREDENTIALS)[number];

let hub: RunningHub;
const workshops = tempWorkshops();
const tokens: Partial<Record<Credential, string>> = {};
const browsers = {} as Record<'student' | 'admin' | 'bob', Browser>;
let carol: { password: string };
const routes: Route[] = [];
/** path parameter values, by `<segment before>/<name>` or `<name>` */
const values: Record<string, string> = {};

const hubApi = (p: string, init: RequestInit = {}) =>
  fetch(`${hub.url}/hub/api${p}`, { ...init, headers: { Authorization: `token ${tokens['the full admin token']}`, 'Content-Type': 'application/json', ...init.headers } });
const wodApi = (p: string, init: RequestInit = {}) =>
  fetch(`${hub.url}/services/wod/api/v1${p}`, {
    ...init,
    headers: { Authorization: `token ${tokens['the full admin token']}`, 'Content-Type': 'application/json', ...init.headers },
  });
const password = async (name: string) => (await hub.cli('accounts', 'password', name)).match(/password (\S+)/)![1];

async function register(email: string): Promise<number> {
  const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, name: 'Matrix Person', company: 'ACME', workshop: FOLDER, acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { registration: { id: number } }).registration.id;
}

/** Starts the admin's own server and opens its JupyterLab: the page's token is the finding's credential. */
async function adminLabToken(): Promise<string> {
  const name = hub.admin.name;
  const started = await hubApi(`/users/${name}/server`, { method: 'POST', body: '{}' });
  expect([201, 202]).toContain(started.status);
  for (const until = Date.now() + 90_000; ;) {
    const user = (await (await hubApi(`/users/${name}`)).json()) as { servers?: Record<string, { ready: boolean }> };
    if (user.servers?.['']?.ready) break;
    if (Date.now() > until) throw new Error("the admin's server did not become ready");
    await new Promise((r) => setTimeout(r, 250));
  }
  return labConfig<{ token: string }>(await browsers.admin.request(`/user/${name}/lab`)).token;
}

beforeAll(async () => {
  writeWorkshop(workshops, FOLDER, { range: [1, 6], capacity: 6, priority: 1 });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });

  browsers.admin = new Browser(hub.url);
  await browsers.admin.hubLogin(hub.admin.name, hub.admin.password);
  tokens['the full admin token'] = await browsers.admin.hubToken(hub.admin.name);
  tokens["an admin's token narrowed to access:services!service=wod"] = await browsers.admin.hubToken(hub.admin.name, ['access:services!service=wod']);

  browsers.bob = new Browser(hub.url);
  await browsers.bob.hubLogin('bob', await password('bob'));
  tokens['a plain hub user'] = await browsers.bob.hubToken('bob');

  // carol logs in as a plain user; a hub admin then makes her one through the hub's API.
  carol = { password: await password('carol') };
  const carolBrowser = new Browser(hub.url);
  await carolBrowser.hubLogin('carol', carol.password);
  expect((await hubApi('/users/carol', { method: 'PATCH', body: JSON.stringify({ admin: true }) })).status).toBe(200);
  tokens['a user made hub admin later (admin flag only)'] = await carolBrowser.hubToken('carol');

  // A student in their JupyterLab, and a second registration for the routes that take an id.
  await register(STUDENT_EMAIL);
  const target = await register(TARGET_EMAIL);
  const mail = await waitForMail(hub.dataDir, (m) => (m.to as { text: string }).text === STUDENT_EMAIL && !!m.subject?.includes('is ready'), 120_000);
  const creds = credentialsIn(mail);
  browsers.student = new Browser(hub.url);
  tokens["a student's JupyterLab token"] = labConfig<{ token: string }>(await browsers.student.hubLogin(creds.student, creds.password)).token;
  tokens["an admin's own JupyterLab token"] = await adminLabToken();

  const sealer = sealerOf(hub);
  const firstId = async (p: string) => String(((await (await wodApi(p)).json()) as { items: { id: number }[] }).items.at(-1)!.id);
  Object.assign(values, {
    folder: FOLDER,
    token: statusToken(sealer, target),
    'registrations/id': String(target),
    'mails/id': await firstId('/admin/mails?limit=500'),
    'jobs/id': await firstId('/admin/jobs?limit=500'),
  });

  // The routes, from the app itself.
  const doc = (await (await fetch(`${hub.url}/services/wod/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: Record<string, unknown>[] }>> };
  for (const [template, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!HTTP_METHODS.has(method)) continue;
      const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
      const audience: Audience = schemes.includes('locationToken')
        ? 'location'
        : template.startsWith('/admin') || schemes.includes('adminCookie')
          ? 'admin'
          : template.startsWith('/me') || schemes.includes('hubToken')
            ? 'student'
            : 'public';
      routes.push({ kind: 'api', method: method.toUpperCase(), template, audience });
    }
  }
  // The admin router as main.ts builds it; only its route table is read.
  const noop = () => undefined;
  const panel = adminRouter({ config: loadConfig({ env: {} }), auth: { requireUser: noop, requireWodAdmin: noop, requireCsrf: noop, logout: noop } } as unknown as WebDeps);
  routes.push(...routesOf(panel).map((r) => ({ kind: 'panel' as const, method: r.method, template: r.path, audience: 'admin' as const })));
}, 360_000);

afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

/** Where a route's template starts: the location API's are below the service already (their own server in the document). */
const baseOf = (route: Route) => `/services/wod${route.audience === 'location' ? '' : route.kind === 'api' ? '/api/v1' : '/admin'}`;

/** The URL of a route, its parameters filled with real values. */
function urlOf(route: Route): string {
  const filled = route.template.replace(/\{(\w+)\}|:(\w+)/g, (_m, a: string | undefined, b: string | undefined, offset: number, whole: string) => {
    const name = (a ?? b)!;
    const before = whole.slice(0, offset).split('/').filter(Boolean).pop();
    return encodeURIComponent(values[`${before}/${name}`] ?? values[name] ?? '1');
  });
  return `${hub.url}${baseOf(route)}${filled}`;
}

const survey = { rating: 4, good: 'the labs', improve: '', recommend: true };
/** Bodies that make sense, where a route takes one (a route without one gets an empty body). */
const BODIES: Record<string, Record<string, unknown>> = {
  // the student is registered already: the public desk's own answer (409, or 429 once the same
  // address has tried too often), without a new registration
  'api POST /registrations': { email: STUDENT_EMAIL, name: 'Matrix Person', company: 'ACME', workshop: FOLDER, acceptTerms: true },
  'api PUT /status/{token}/feedback': survey,
  'api PUT /me/progress': { executed: 0, total: 1 },
  'api PUT /me/survey': survey,
  'api PATCH /admin/workshops/{folder}': { priority: 2 },
  'api POST /admin/registrations/{id}/extend': { minutes: 10 },
  'api POST /admin/actions': { verb: 'RESET', workshop: FOLDER, students: '6' },
  'panel POST /workshops/:folder': { active: 'on', capacity: '6', priority: '3' },
  'panel POST /registrations/:id/end': { confirm: 'yes' },
  'panel POST /registrations/:id/extend': { minutes: '10' },
  'panel POST /actions': { verb: 'RESET', workshop: FOLDER, students: '6' },
};

/** Sends one request of the matrix with a hub token (or none); CSRF does not apply to tokens. */
async function call(route: Route, token: string | undefined): Promise<number> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `token ${token}`;
  let body: string | undefined;
  if (route.method !== 'GET') {
    const given = BODIES[`${route.kind} ${route.method} ${route.template}`] ?? {};
    if (route.kind === 'panel') {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(Object.entries(given).map(([k, v]) => [k, String(v)])).toString();
    } else {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(given);
    }
  }
  const res = await fetch(urlOf(route), { method: route.method, headers, body, redirect: 'manual' });
  await res.arrayBuffer();
  return res.status;
}

function expected(route: Route, credential: Credential): Expect {
  if (route.audience === 'public') return 'allowed';
  // no hub credential, an admin's included, is a location token
  if (route.audience === 'location') return 401;
  if (credential === 'no credential') return 401;
  if (route.audience === 'student') return credential === "a student's JupyterLab token" ? 'allowed' : 404;
  return credential === 'the full admin token' ? 'allowed' : 403;
}

const meets = (status: number, want: Expect) => (want === 'allowed' ? status < 500 && status !== 401 && status !== 403 : status === want);
const label = (route: Route) => `${route.method} ${baseOf(route)}${route.template}`;

test('the routes come from the app: the OpenAPI document and the admin router, each audience present', () => {
  const count = (kind: Kind, audience: Audience) => routes.filter((r) => r.kind === kind && r.audience === audience).length;
  expect(count('api', 'admin')).toBeGreaterThanOrEqual(15);
  expect(count('api', 'student')).toBeGreaterThanOrEqual(3);
  expect(count('api', 'public')).toBeGreaterThanOrEqual(5);
  expect(count('api', 'location')).toBeGreaterThanOrEqual(10);
  expect(count('panel', 'admin')).toBeGreaterThanOrEqual(15);
  expect(routes.filter((r) => r.kind === 'panel').map((r) => `${r.method} ${r.template}`)).toEqual(expect.arrayContaining(['GET /', 'POST /actions', 'GET /jobs/:id']));
});

describe.each(CREDENTIALS)('with %s', (credential) => {
  test('every route answers as its audience requires', async () => {
    const wrong: string[] = [];
    for (const route of routes) {
      const want = expected(route, credential);
      const status = await call(route, tokens[credential]);
      const check = () => {
        if (!meets(status, want)) throw new Error(`${label(route)}: HTTP ${status}, expected ${want}`);
      };
      if (want === 'allowed') {
        try {
          check();
        } catch (e) {
          wrong.push((e as Error).message);
        }
      } else {
        await attack(`${credential}: ${label(route)} (expects ${want})`, check).catch((e: Error) => wrong.push(e.message));
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('the admin panel through the OAuth cookie', () => {
  const pages = () => routes.filter((r) => r.kind === 'panel' && r.method === 'GET');
  const adminApi = () => routes.filter((r) => r.kind === 'api' && r.audience === 'admin' && r.method === 'GET');
  /**
   * A browser walks the OAuth flow (on its first request) and asks for every admin page and every
   * admin API read with the session cookie: an admin gets the pages (200) and the reads (not
   * refused); anyone else gets 403 everywhere, the pages with the refusal page.
   */
  const walk = async (who: string, browser: Browser, admin: boolean) => {
    const wrong: string[] = [];
    for (const route of [...pages(), ...adminApi()]) {
      const check = async () => {
        const page = await browser.request(urlOf(route), route.kind === 'api' ? { headers: { Accept: 'application/json' } } : {});
        const problem = `${label(route)} as ${who}: HTTP ${page.status} (${page.trail.join(' -> ')})`;
        if (!admin && (page.status !== 403 || (route.kind === 'panel' && !page.text.includes('Not an administrator')))) throw new Error(`${problem}, expected the 403 refusal`);
        if (admin && (route.kind === 'panel' ? page.status !== 200 : !meets(page.status, 'allowed'))) throw new Error(`${problem}, expected it served`);
      };
      if (!admin) await attack(`OAuth session of ${who}: ${label(route)}`, check).catch((e: Error) => wrong.push(e.message));
      else await check().catch((e: Error) => wrong.push(e.message));
    }
    expect(wrong).toEqual([]);
  };

  test('a browser without a session is sent to the hub login, never shown a page', async () => {
    const wrong: string[] = [];
    for (const route of pages()) {
      await attack(`anonymous browser: ${label(route)}`, async () => {
        const page = await new Browser(hub.url).request(urlOf(route), { follow: false });
        const to = new URL(page.headers.get('location') ?? '/', hub.url).pathname;
        if (page.status !== 302 || to !== '/hub/api/oauth2/authorize') throw new Error(`${label(route)}: HTTP ${page.status} to ${to}`);
      }).catch((e: Error) => wrong.push(e.message));
    }
    expect(wrong).toEqual([]);
  });

  test('a plain hub user who walks the OAuth flow gets 403, pages and forms', async () => {
    await walk('a plain hub user', browsers.bob, false);
    const wrong: string[] = [];
    for (const route of routes.filter((r) => r.kind === 'panel' && r.method !== 'GET')) {
      await attack(`OAuth session of a plain hub user: ${label(route)}`, async () => {
        const page = await browsers.bob.request(urlOf(route), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '', follow: false });
        if (page.status !== 403) throw new Error(`${label(route)}: HTTP ${page.status}`);
      }).catch((e: Error) => wrong.push(e.message));
    }
    expect(wrong).toEqual([]);
  });

  test('a student who walks the OAuth flow gets 403', async () => {
    await walk('a student', browsers.student, false);
  });

  test('a user made hub admin later, with the flag alone, gets 403', async () => {
    const browser = new Browser(hub.url);
    await browser.hubLogin('carol', carol.password);
    await walk('a user made hub admin later', browser, false);
  });

  test('an admin who walks the OAuth flow gets every page', async () => {
    const browser = new Browser(hub.url);
    await browser.hubLogin(hub.admin.name, hub.admin.password);
    await walk('the admin', browser, true);
  });

  test('the user made hub admin later gets wod once a hub admin adds them to the wod-admins group', async () => {
    expect((await hubApi('/groups/wod-admins/users', { method: 'POST', body: JSON.stringify({ users: ['carol'] }) })).status).toBe(200);
    const browser = new Browser(hub.url);
    await browser.hubLogin('carol', carol.password);
    const page = await browser.request('/services/wod/admin/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-testid="admin-user">carol<');
    const token = await browser.hubToken('carol');
    expect((await fetch(`${hub.url}/services/wod/api/v1/admin/workshops`, { headers: { Authorization: `token ${token}` } })).status).toBe(200);
  });
});
