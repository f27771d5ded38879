/**
 * REST API v1 over real HTTP, through the hub's proxy, against the service's real SQLite file:
 * 500 simultaneous registrations for 20 seats, validation, the participant's status, admin routes.
 */
import fs from 'node:fs';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { Browser } from '../support/browser';
import { adminToken, type RunningHub, sealerOf, startHub } from '../support/hub';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
let api: string;
let token: string;
const workshops = tempWorkshops();

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-Crowd', { range: [1, 40], capacity: 20, priority: 1 });
  writeWorkshop(workshops, 'WKSHP-Quiet', { range: [41, 50], capacity: 10, priority: 2, category: 'Infrastructure' });
  hub = await startHub({
    env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '100000', WOD_REGISTRATION_DENY_LIST: '@blocked.example' },
  });
  api = `${hub.url}/services/wod/api/v1`;
  token = await adminToken(hub);
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const register = (body: Record<string, unknown>) => fetch(`${api}/registrations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const person = (n: number, workshop = 'WKSHP-Crowd') => ({ email: `person${n}@example.com`, name: `Person ${n}`, company: 'ACME', workshop, acceptTerms: true });
const admin = (p: string, init: RequestInit = {}) =>
  fetch(`${api}/admin${p}`, { ...init, headers: { Authorization: `token ${token}`, 'Content-Type': 'application/json', ...init.headers } });

test('500 simultaneous registrations for 20 seats: exactly 20 succeed, no student twice, the rest are told it is full', async () => {
  const answers = await Promise.all(
    Array.from({ length: 500 }, async (_, i) => {
      const res = await register(person(i));
      return { status: res.status, body: (await res.json()) as { code?: string; message?: string; registration?: { id: number } } };
    }),
  );
  const created = answers.filter((a) => a.status === 201);
  const full = answers.filter((a) => a.status === 409);
  expect(created).toHaveLength(20);
  expect(full).toHaveLength(480);
  expect(full.every((a) => a.body.code === 'full' && /full at the moment/.test(a.body.message!))).toBe(true);

  const list = (await (await admin('/registrations?workshop=WKSHP-Crowd&limit=500')).json()) as { total: number; items: { student: string; state: string }[] };
  expect(list.total).toBe(20);
  const students = list.items.map((r) => r.student);
  expect(new Set(students).size).toBe(20);
  const pool = (await (await admin('/pool?workshop=WKSHP-Crowd')).json()) as { allocated: number; free: number };
  expect(pool).toMatchObject({ allocated: 20, free: 20 });
  const catalog = (await (await fetch(`${api}/workshops`)).json()) as { items: { folder: string; seats: number; full: boolean }[] };
  expect(catalog.items.find((w) => w.folder === 'WKSHP-Crowd')).toMatchObject({ seats: 0, full: true });
});

test('bad input gets 422 with field messages and stores nothing', async () => {
  const before = ((await (await admin('/registrations?workshop=WKSHP-Quiet')).json()) as { total: number }).total;
  const res = await register({ email: 'not-an-email', workshop: 'WKSHP-Quiet' });
  expect(res.status).toBe(422);
  const body = (await res.json()) as { errors: { field: string; message: string }[] };
  expect(body.errors.map((e) => e.field).sort()).toEqual(['acceptTerms', 'company', 'email', 'name']);
  const denied = await register({ ...person(900, 'WKSHP-Quiet'), email: 'x@blocked.example' });
  expect(denied.status).toBe(422);
  expect(((await denied.json()) as { message: string }).message).toMatch(/not accepted/);
  const unknown = await register(person(901, 'WKSHP-Nope'));
  expect(unknown.status).toBe(404);
  const malformed = await fetch(`${api}/registrations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"email": ' });
  expect(malformed.status).toBe(400);
  expect(((await (await admin('/registrations?workshop=WKSHP-Quiet')).json()) as { total: number }).total).toBe(before);
});

test('one running registration per email; the status link shows it and can end it', async () => {
  const first = await register(person(1000, 'WKSHP-Quiet'));
  expect(first.status).toBe(201);
  const { registration } = (await first.json()) as { registration: { id: number } };
  const again = await register(person(1000, 'WKSHP-Quiet'));
  expect(again.status).toBe(409);
  expect(await again.json()).toMatchObject({ code: 'already-registered' });

  const sealer = sealerOf(hub);
  const token = statusToken(sealer, registration.id);
  const status = await (await fetch(`${api}/status/${token}`)).json();
  expect(status).toMatchObject({ id: registration.id, running: true, workshop: { folder: 'WKSHP-Quiet' } });
  expect(['registered', 'deploying', 'ready']).toContain((status as { state: string }).state); // its CREATE job is under way
  expect(JSON.stringify(status)).not.toMatch(/password/i);
  expect((await fetch(`${api}/status/${registration.id}.forged-forged-forged-forged`)).status).toBe(404);

  const ended = await fetch(`${api}/status/${token}/end`, { method: 'POST' });
  expect(ended.status).toBe(200);
  expect(await ended.json()).toMatchObject({ state: 'ended', running: false });
  expect((await fetch(`${api}/status/${token}/end`, { method: 'POST' })).status).toBe(409);
  expect((await register(person(1000, 'WKSHP-Quiet'))).status).toBe(201);
});

describe('admin API', () => {
  test('needs a hub token of an admin', async () => {
    expect((await fetch(`${api}/admin/workshops`, { headers: { Accept: 'application/json' } })).status).toBe(401);
    const password = (await hub.cli('accounts', 'password', 'eve')).match(/password (\S+)/)![1];
    const eve = new Browser(hub.url);
    await eve.hubLogin('eve', password);
    const token = await eve.hubToken('eve');
    expect((await fetch(`${api}/admin/workshops`, { headers: { Authorization: `token ${token}` } })).status).toBe(403);
  });

  test('workshops: list, update (pinned), invalid update refused, import', async () => {
    const list = (await (await admin('/workshops')).json()) as { items: { folder: string; range: number[] }[] };
    expect(list.items.map((w) => w.folder)).toEqual(['WKSHP-Crowd', 'WKSHP-Quiet']);
    const patched = await admin('/workshops/WKSHP-Quiet', { method: 'PATCH', body: JSON.stringify({ capacity: 5, priority: 0 }) });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ capacity: 5, priority: 0, pinned: ['capacity', 'priority'] });
    const tooBig = await admin('/workshops/WKSHP-Quiet', { method: 'PATCH', body: JSON.stringify({ capacity: 11 }) });
    expect(tooBig.status).toBe(422);
    const wrong = await admin('/workshops/WKSHP-Quiet', { method: 'PATCH', body: JSON.stringify({ capacity: 'x', colour: 'red' }) });
    expect(wrong.status).toBe(422);
    expect(((await wrong.json()) as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
    expect((await admin('/workshops/WKSHP-Nope', { method: 'PATCH', body: JSON.stringify({ capacity: 1 }) })).status).toBe(404);

    writeWorkshop(workshops, 'WKSHP-New', { range: [60, 62], capacity: 3 });
    const report = await (await admin('/workshops/import', { method: 'POST' })).json();
    expect(report).toMatchObject({ inserted: ['WKSHP-New'], problems: [] });
    const after = (await (await admin('/workshops')).json()) as { items: { folder: string; capacity: number }[] };
    expect(after.items.find((w) => w.folder === 'WKSHP-Quiet')!.capacity).toBe(5); // the pin survived the import
  });

  test('registrations: search, detail, end; pool by range', async () => {
    // person1000 registered twice above: the first ended, the second runs
    const found = (await (await admin('/registrations?q=person1000%40example.com')).json()) as { items: { id: number; state: string }[]; total: number };
    expect(found.total).toBe(2);
    const mine = found.items.find((r) => !['ended', 'cleaned'].includes(r.state))!;
    expect(await (await admin(`/registrations/${mine.id}`)).json()).toMatchObject({ id: mine.id, participant: { email: 'person1000@example.com' } });
    const end = await admin(`/registrations/${mine.id}/end`, { method: 'POST' });
    expect(await end.json()).toMatchObject({ state: 'ended', endReason: 'admin' });
    expect((await admin('/registrations?state=bogus')).status).toBe(422);
    expect((await admin('/registrations/999999')).status).toBe(404);
    const pool = (await (await admin('/pool?first=1&last=5')).json()) as { range: number[]; students: unknown[] };
    expect(pool.range).toEqual([1, 5]);
    expect(pool.students).toHaveLength(5);
    expect((await admin('/pool?first=5&last=1')).status).toBe(422);
  });
});

test('the OpenAPI document and its docs page are served', async () => {
  const doc = (await (await fetch(`${api}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
  expect(doc.openapi).toBe('3.1.0');
  expect(Object.keys(doc.paths)).toContain('/registrations');
  const page = await fetch(`${api}/docs`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('id="register"');
  expect((await fetch(`${api}/nothing-here`)).status).toBe(404);
});
