/**
 * The handlers' real answers against the OpenAPI document the service serves, on one real hub:
 * every GET operation (read from the document, so a new one is covered or the test says so) and
 * the cheap POST, PUT and PATCH ones, answering success and refusals, each JSON body validated
 * against the operation's documented response schema for its status. The schemas are closed, so a
 * field the handler adds without the document, or one the document promises and the handler
 * drops, fails. The hub is also a location (a backend of the portal `hq`, a fake on this test's
 * side that takes what the hub tells it, and a portal of `lyon`, which never answers), so that the
 * location API's operations are called with the tokens issued for each side.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Sealer } from '../../hub-service/src/auth/seal';
import { LOCATION_API } from '../../hub-service/src/locations/peers';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { Browser, labConfig } from '../support/browser';
import { adminToken, type RunningHub, sealerOf, startHub } from '../support/hub';
import { type OpenApiDocument, ResponseChecker } from '../support/openapi';
import { credentialsIn, waitForMail } from '../support/outbox';
import { freePorts } from '../support/ports';
import { until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const FOLDER = 'WKSHP-Shapes';
const HTTP_METHODS = new Set(['get', 'put', 'post', 'patch', 'delete']);

let hub: RunningHub;
let api: string;
let checker: ResponseChecker;
const workshops = tempWorkshops();
const tokens = { admin: '', student: '', portal: '', backend: '' };
/** The location API's paths, below the service (the document gives them their own server). */
const LOCATION = `/${LOCATION_API}`;
/** The portal's id of the registration it routes here. */
const REF = 501;
let fakePortal: http.Server;
/** Path parameters by `<segment before>/<name>` or `<name>`, as the authorization test fills them. */
const values: Record<string, string> = {};
const ids = { lab: 0, other: 0 };
let sealer: Sealer;
/** Every answer checked, as `METHOD template status`. */
const checked = new Set<string>();
const problems: string[] = [];

/** The portal `hq`: takes every update and credentials the hub sends it, as a portal answers them. */
async function startFakePortal(): Promise<string> {
  fakePortal = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      const sent = JSON.parse(text || '{}') as { updates?: { ref: number }[] };
      const answer = req.url?.endsWith('/updates') ? { results: (sent.updates ?? []).map((u) => ({ ref: u.ref, result: 'applied' })) } : { result: 'applied' };
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => fakePortal.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(fakePortal.address() as AddressInfo).port}`;
}

/** A token `peer` issued for the hub, accepted through the CLI as an operator would. */
async function acceptToken(peer: string, token: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-token-'));
  fs.writeFileSync(path.join(dir, 'token'), token, { mode: 0o600 });
  await hub.cli('locations', 'accept', peer, '--token-file', path.join(dir, 'token'));
  fs.rmSync(dir, { recursive: true, force: true });
}

beforeAll(async () => {
  writeWorkshop(workshops, FOLDER, { range: [1, 4], capacity: 4, priority: 1 });
  const [silent] = await freePorts(1);
  hub = await startHub({
    env: {
      WOD_WORKSHOPS_DIR: workshops,
      WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000',
      WOD_LOCATIONS_NAME: 'shapes',
      WOD_LOCATIONS_PORTALS: JSON.stringify([{ name: 'hq', url: await startFakePortal() }]),
      WOD_LOCATIONS_BACKENDS: JSON.stringify([{ name: 'lyon', url: `http://127.0.0.1:${silent}` }]),
    },
  });
  api = `${hub.url}/services/wod/api/v1`;
  tokens.admin = await adminToken(hub);
  tokens.portal = (await hub.cli('locations', 'issue', 'hq')).trim();
  tokens.backend = (await hub.cli('locations', 'issue', 'lyon')).trim();
  await acceptToken('hq', `wodloc_${'h'.repeat(43)}`);
  const doc = (await (await fetch(`${api}/openapi.json`)).json()) as OpenApiDocument;
  checker = new ResponseChecker(doc);
  sealer = sealerOf(hub);

  // A student in their JupyterLab (for /me), and a second registration to end.
  ids.lab = (await call('POST', '/registrations', { body: person('lab@example.com'), expect: 201 })) as number;
  ids.other = (await call('POST', '/registrations', { body: person('other@example.com'), expect: 201 })) as number;
  // a registration hq routes here, seated like any other
  await call('POST', `${LOCATION}/registrations`, { body: seatRequest(REF), expect: 201 });
  const mail = await waitForMail(hub.dataDir, (m) => (m.to as { text: string }).text === 'lab@example.com' && !!m.subject?.includes('is ready'), 120_000);
  const creds = credentialsIn(mail);
  tokens.student = labConfig<{ token: string }>(await new Browser(hub.url).hubLogin(creds.student, creds.password)).token;

  const jobs = (await (await admin('/admin/jobs?limit=500')).json()) as { items: { id: number }[] };
  const mails = (await (await admin('/admin/mails?limit=500')).json()) as { items: { id: number; kind: string }[] };
  const lab = (await (await admin(`/admin/registrations/${ids.lab}`)).json()) as { participant: { id: number } };
  Object.assign(values, {
    folder: FOLDER,
    token: statusToken(sealer, ids.lab),
    'registrations/id': String(ids.lab),
    'jobs/id': String(jobs.items.at(-1)!.id),
    // a mail with a stored body, so that it can be sent again
    'mails/id': String(mails.items.find((m) => m.kind === 'welcome')!.id),
    'participants/id': String(lab.participant.id),
    'registrations/ref': String(REF),
  });
}, 360_000);

afterAll(async () => {
  await hub?.stop();
  fakePortal?.close();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const person = (email: string) => ({ email, name: 'Shape Person', company: 'ACME', workshop: FOLDER, acceptTerms: true });
const seatRequest = (ref: number) => ({ ref, workshop: FOLDER, email: `routed${ref}@example.com`, name: 'Routed Person', company: 'ACME', language: null });
const admin = (p: string) => fetch(`${api}${p}`, { headers: { Authorization: `token ${tokens.admin}` } });

/** The credential an operation's audience needs. */
function credentialFor(template: string): string | undefined {
  // the portal side of the location API is called by backends, the rest of it by portals
  if (template === `${LOCATION}/updates` || template === `${LOCATION}/credentials`) return tokens.backend;
  if (template.startsWith(LOCATION)) return tokens.portal;
  if (template.startsWith('/admin')) return tokens.admin;
  if (template.startsWith('/me')) return tokens.student;
  return undefined;
}

/** A template with its path parameters filled from `values` (or given ones). */
function fill(template: string, given: Record<string, string> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_m, name: string, offset: number, whole: string) => {
    const before = whole.slice(0, offset).split('/').filter(Boolean).pop();
    return encodeURIComponent(given[name] ?? values[`${before}/${name}`] ?? values[name]);
  });
}

interface Call {
  body?: unknown;
  query?: string;
  params?: Record<string, string>;
  /** the credential to send instead of the audience's (null: none) */
  token?: string | null;
  expect: number;
}

/**
 * Calls one documented operation, checks its status and validates its body against the document;
 * returns the registration id of a 201, else the parsed body.
 */
async function call(method: string, template: string, c: Call): Promise<unknown> {
  const token = c.token === undefined ? credentialFor(template) : (c.token ?? undefined);
  const headers: Record<string, string> = { Accept: 'application/json' };
  const located = template.startsWith(LOCATION);
  if (token) headers.Authorization = located ? `Bearer ${token}` : `token ${token}`;
  if (c.body !== undefined) headers['Content-Type'] = 'application/json';
  // the location API's server is the service itself
  const base = located ? `${hub.url}/services/wod` : api;
  const res = await fetch(`${base}${fill(template, c.params)}${c.query ?? ''}`, { method, headers, body: c.body === undefined ? undefined : JSON.stringify(c.body) });
  const text = await res.text();
  const what = `${method} ${template}${c.query ?? ''}`;
  expect(`${what} ${res.status}`).toBe(`${what} ${c.expect}`);
  const isJson = res.headers.get('Content-Type')?.startsWith('application/json') ?? false;
  if (res.status !== 204) expect(`${what}: ${isJson ? 'JSON' : res.headers.get('Content-Type')}`).toBe(`${what}: JSON`);
  const body: unknown = text ? JSON.parse(text) : null;
  problems.push(...(checker?.problems(template, method, res.status, body) ?? []));
  checked.add(`${method} ${template} ${res.status}`);
  const registered = (body as { registration?: { id: number } } | null)?.registration;
  return res.status === 201 && registered ? registered.id : body;
}

/** The GET operations of the document that take no path parameter need nothing more; the pool needs a range. */
const QUERIES: Record<string, string> = { '/admin/pool': `?workshop=${FOLDER}` };

test('every GET operation answers what the document says, for success', async () => {
  const gets = Object.entries(checker.doc.paths)
    .filter(([, ops]) => 'get' in ops)
    .map(([p]) => p);
  expect(gets.length).toBeGreaterThan(10);
  for (const template of gets) await call('GET', template, { query: QUERIES[template], expect: 200 });
  // the pool over first..last, and pages with a filter
  await call('GET', '/admin/pool', { query: '?first=1&last=2', expect: 200 });
  await call('GET', '/admin/registrations', { query: `?state=ready&workshop=${FOLDER}`, expect: 200 });
  await call('GET', '/admin/jobs', { query: `?registration=${ids.lab}`, expect: 200 });
  await call('GET', '/admin/mails', { query: `?registration=${ids.lab}`, expect: 200 });
  await call('GET', '/admin/participants', { query: '?email=lab@example.com', expect: 200 });
  expect(problems).toEqual([]);
});

test('refusals answer the documented error shape: 401, 403, 404, 422', async () => {
  await call('GET', '/workshops/{folder}', { params: { folder: 'WKSHP-Nope' }, expect: 404 });
  await call('GET', '/status/{token}', { params: { token: 'not-a-token' }, expect: 404 });
  await call('GET', '/admin/registrations/{id}', { params: { id: '99999' }, expect: 404 });
  await call('GET', '/admin/jobs/{id}', { params: { id: '99999' }, expect: 404 });
  await call('GET', '/admin/mails/{id}', { params: { id: '99999' }, expect: 404 });
  await call('GET', '/admin/pool', { query: '?workshop=WKSHP-Nope', expect: 404 });
  await call('GET', '/admin/pool', { expect: 422 });
  await call('GET', '/admin/registrations', { query: '?limit=0', expect: 422 });
  await call('GET', '/admin/jobs', { query: '?state=sleeping', expect: 422 });
  await call('GET', '/admin/mails', { query: '?offset=-1', expect: 422 });
  await call('GET', '/admin/surveys', { query: '?limit=9999', expect: 422 });
  await call('GET', '/admin/participants/{id}', { params: { id: '99999' }, expect: 404 });
  await call('GET', '/admin/participants', { query: '?limit=0', expect: 422 });
  await call('GET', '/admin/workshops', { token: null, expect: 401 });
  await call('GET', '/admin/workshops', { token: tokens.student, expect: 403 });
  await call('GET', '/me', { token: null, expect: 401 });
  await call('GET', '/me', { token: tokens.admin, expect: 404 });
  expect(problems).toEqual([]);
});

test('the cheap changes answer what the document says, for success and refusal', async () => {
  // registration: a refused duplicate (already-registered carries the other workshop), invalid fields
  const dup = (await call('POST', '/registrations', { body: person('lab@example.com'), expect: 409 })) as { code: string };
  expect(dup.code).toBe('already-registered');
  await call('POST', '/registrations', { body: { email: 'nope' }, expect: 422 });
  await call('POST', '/registrations', { body: { ...person('x@example.com'), workshop: 'WKSHP-Nope' }, expect: 404 });

  // the participant's survey and the student's lab
  const survey = { rating: 4, good: 'the labs', improve: '', recommend: true };
  await call('PUT', '/status/{token}/feedback', { body: survey, expect: 200 });
  await call('PUT', '/status/{token}/feedback', { body: { rating: 9 }, expect: 422 });
  await call('PUT', '/me/progress', { body: { executed: 1, total: 3 }, expect: 204 });
  await call('PUT', '/me/progress', { body: { executed: 4, total: 3 }, expect: 422 });
  await call('PUT', '/me/survey', { body: survey, expect: 200 });
  await call('PUT', '/me/survey', { body: {}, expect: 422 });
  // now with progress and a survey answer on the registration, the page shows them
  await call('GET', '/admin/registrations/{id}', { expect: 200 });
  await call('GET', '/admin/surveys', { expect: 200 });
  await call('GET', '/me', { expect: 200 });
  // more time: this workshop's wod.yml has no extend
  for (const template of ['/me/extend', '/status/{token}/extend']) expect(((await call('POST', template, { expect: 409 })) as { code: string }).code).toBe('not-allowed');

  // admin changes
  await call('PATCH', '/admin/workshops/{folder}', { body: { priority: 2 }, expect: 200 });
  await call('PATCH', '/admin/workshops/{folder}', { body: {}, expect: 422 });
  await call('PATCH', '/admin/workshops/{folder}', { params: { folder: 'WKSHP-Nope' }, body: { priority: 2 }, expect: 404 });
  await call('POST', '/admin/workshops/import', { expect: 200 });
  // an event later today (no seat warmed by it during this test), then cancelled
  const [later, after] = [1, 2].map((h) => new Date(Date.now() + h * 3_600_000).toISOString());
  const event = (await call('POST', '/admin/warm/events', { body: { workshop: FOLDER, seats: 1, startsAt: later, endsAt: after }, expect: 201 })) as { id: number };
  await call('POST', '/admin/warm/events', { body: { workshop: FOLDER, seats: 1, startsAt: after, endsAt: later }, expect: 422 });
  await call('GET', '/admin/warm', { expect: 200 });
  await call('DELETE', '/admin/warm/events/{id}', { params: { id: String(event.id) }, expect: 204 });
  await call('DELETE', '/admin/warm/events/{id}', { params: { id: '99999' }, expect: 404 });
  await call('POST', '/admin/registrations/{id}/extend', { body: { minutes: 5 }, expect: 200 });
  await call('POST', '/admin/registrations/{id}/extend', { body: { minutes: 0 }, expect: 422 });
  await call('POST', '/admin/mails/{id}/resend', { expect: 202 });
  await call('POST', '/admin/mails/{id}/resend', { params: { id: '99999' }, expect: 404 });
  await call('POST', '/admin/actions', { body: { verb: 'RESET', workshop: FOLDER, students: 'all' }, expect: 422 });
  const pool = (await call('GET', '/admin/pool', { query: `?workshop=${FOLDER}`, expect: 200 })) as { students: { id: number; state: string }[] };
  const free = pool.students.find((st) => st.state === 'free')!;
  await call('POST', '/admin/actions', { body: { verb: 'RESET', workshop: FOLDER, students: String(free.id) }, expect: 202 });
  await call('POST', '/admin/pool/{id}/retry', { params: { id: String(free.id) }, expect: 409 });

  // ending: by the participant's link, then again (already ended), by an admin (already ended)
  const other = statusToken(sealer, ids.other);
  await call('POST', '/status/{token}/end', { params: { token: other }, expect: 200 });
  await call('POST', '/status/{token}/end', { params: { token: other }, expect: 409 });
  await call('GET', '/status/{token}', { params: { token: other }, expect: 200 });
  await call('POST', '/admin/registrations/{id}/end', { params: { id: String(ids.other) }, expect: 409 });
  await call('POST', '/admin/registrations/{id}/end', { params: { id: '99999' }, expect: 404 });
  // erasing: refused while the workshop runs or before it is cleaned, unknown participants
  await call('DELETE', '/admin/participants/{id}', { expect: 409 });
  await call('DELETE', '/admin/participants/{id}', { params: { id: '99999' }, expect: 404 });
  await until(
    async () => ((await (await admin(`/admin/registrations/${ids.other}`)).json()) as { state: string }).state,
    (s) => s === 'cleaned',
    'the ended registration to be cleaned',
    90_000,
  );
  await call('GET', '/admin/registrations/{id}', { params: { id: String(ids.other) }, expect: 200 });
  await call('POST', '/admin/registrations/{id}/credentials', { params: { id: String(ids.other) }, expect: 409 });
  const ended = (await (await admin(`/admin/registrations/${ids.other}`)).json()) as { participant: { id: number } };
  await call('DELETE', '/admin/participants/{id}', { params: { id: String(ended.participant.id) }, expect: 200 });
  await call('POST', '/admin/registrations/{id}/end', { expect: 200 });
  expect(problems).toEqual([]);
});

test("the location API answers what the document says, each side only to its peers' tokens", async () => {
  const seat = `${LOCATION}/registrations/{ref}`;
  // backend side, for the portal hq: the same registration sent again, refusals
  await call('POST', `${LOCATION}/registrations`, { body: seatRequest(REF), expect: 200 });
  await call('POST', `${LOCATION}/registrations`, { body: { ...seatRequest(REF + 1), workshop: 'WKSHP-Nope' }, expect: 404 });
  await call('POST', `${LOCATION}/registrations`, { body: { ref: REF + 1, workshop: FOLDER }, expect: 422 });
  await call('GET', seat, { params: { ref: '99999' }, expect: 404 });
  await call('GET', seat, { params: { ref: 'abc' }, expect: 422 });
  // neither side's token opens the other's routes, nor does a hub token
  await call('GET', `${LOCATION}/seats`, { token: null, expect: 401 });
  await call('GET', `${LOCATION}/seats`, { token: tokens.backend, expect: 401 });
  await call('GET', `${LOCATION}/seats`, { token: tokens.admin, expect: 401 });
  await call('POST', `${LOCATION}/updates`, { token: tokens.portal, body: { updates: [] }, expect: 401 });

  await until(
    async () => ((await call('GET', seat, { expect: 200 })) as { state: string }).state,
    (s) => s === 'ready',
    'the routed registration to be ready',
    120_000,
  );
  await call('POST', `${seat}/extend`, { body: { minutes: 5 }, expect: 200 });
  await call('POST', `${seat}/extend`, { body: { minutes: 0 }, expect: 422 });
  const link = (await call('POST', `${seat}/start-link`, { expect: 200 })) as { url: string | null };
  expect(link.url).toMatch(/^http/);
  await call('POST', `${seat}/credentials`, { expect: 200 });
  await call('POST', `${seat}/end`, { body: { reason: 'admin' }, expect: 200 });
  await call('POST', `${seat}/end`, { body: { reason: 'admin' }, expect: 409 });
  await call('POST', `${seat}/end`, { body: { reason: 'bored' }, expect: 422 });
  await call('DELETE', seat, { expect: 204 });
  await call('DELETE', seat, { params: { ref: '99999' }, expect: 404 });

  // portal side, for the backend lyon: nothing of it is seated there
  const results = (await call('POST', `${LOCATION}/updates`, { body: { updates: [] }, expect: 200 })) as { results: unknown[] };
  expect(results.results).toEqual([]);
  await call('POST', `${LOCATION}/updates`, { body: { updates: [{ ref: 1 }] }, expect: 422 });
  const credentials = { ref: 99999, key: 'create-1', student: 'student1', password: 'a-long-password', deadlineAt: new Date().toISOString() };
  await call('POST', `${LOCATION}/credentials`, { body: credentials, expect: 404 });
  await call('POST', `${LOCATION}/credentials`, { body: { ...credentials, password: 'x' }, expect: 422 });

  // the admin's view of it: hq with its registration, lyon not answering
  const locations = (await call('GET', '/admin/locations', { expect: 200 })) as {
    backends: { name: string; status: string }[];
    portals: { name: string; registrations: { total: number } }[];
  };
  expect(locations.backends.map((b) => [b.name, b.status === 'up'])).toEqual([['lyon', false]]);
  expect(locations.portals).toEqual([expect.objectContaining({ name: 'hq', registrations: { running: expect.any(Number), total: 1 } })]);
  expect(problems).toEqual([]);
});

test('every documented operation was called', () => {
  const operations = Object.entries(checker.doc.paths).flatMap(([p, ops]) =>
    Object.keys(ops)
      .filter((m) => HTTP_METHODS.has(m))
      .map((m) => `${m.toUpperCase()} ${p}`),
  );
  const called = new Set([...checked].map((c) => c.split(' ').slice(0, 2).join(' ')));
  expect(operations.filter((op) => !called.has(op))).toEqual([]);
});

test("the docs page names each response's schema", async () => {
  const res = await fetch(`${api}/docs`);
  expect(res.status).toBe(200);
  const page = await res.text();
  for (const name of ['Me', 'Status', 'RegistrationPage', 'Error']) expect(page).toContain(`<code>${name}</code>`);
});
