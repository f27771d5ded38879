/**
 * Locations with three real hubs on this machine: a portal wod and two backend wods, `lyon` and
 * `paris`, each a JupyterHub with the wod service. Registrations made at the portal are seated at
 * the workshop's location, fall back to its alternate when that is full or down, and nothing is
 * lost while a backend is down; the participant's journey (mails, status page, badge) is the
 * portal's, their JupyterLab the backend's. Checked through the portal's mails and database, the
 * backends' databases, and a real login at the backend.
 */
import fs from 'node:fs';
import type { ParsedMail } from 'mailparser';
import Database from 'better-sqlite3';
import nodemailer from 'nodemailer';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { Browser } from '../support/browser';
import { type Locations, startLocations } from '../support/locations';
import { credentialsIn, outboxMails, waitForMail } from '../support/outbox';
import { query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';
import { sealerOf } from '../support/hub';

jest.setTimeout(240_000);

let loc: Locations;
const workshops = tempWorkshops();

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-Lyon', { name: 'Lyon workshop', location: 'lyon', alternateLocation: ['paris'], range: [1, 5], capacity: 5, badgeImg: null });
  // one seat at each place: the second registration takes the alternate's
  writeWorkshop(workshops, 'WKSHP-Small', { name: 'Small workshop', location: 'lyon', alternateLocation: ['paris'], range: [6, 6], capacity: 1 });
  writeWorkshop(workshops, 'WKSHP-Paris', { name: 'Paris workshop', location: 'paris', range: [7, 10], capacity: 4 });
  loc = await startLocations(workshops, { portalEnv: { WOD_LOCATIONS_FAILOVER_SECONDS: '3' } });
});
afterAll(async () => {
  await loc?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

async function register(email: string, workshop: string): Promise<number> {
  const res = await fetch(`${loc.portal.url}/services/wod/api/v1/registrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, name: 'Ada Lovelace', company: 'Engines', workshop, acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { registration: { id: number } }).registration.id;
}
const mailTo = (email: string, subject: RegExp, timeoutMs = 90_000) =>
  waitForMail(loc.portal.dataDir, (m) => (m.to as { text: string }).text === email && subject.test(m.subject ?? ''), timeoutMs);
const portalRow = (id: number) =>
  query<{ state: string; location: string | null; routing: string | null; reroutes: number; student: string | null }>(
    loc.portal.dataDir,
    'SELECT state, location, routing, reroutes, remote_student AS student FROM registrations WHERE id = ?',
    id,
  )[0];
const seatedAt = (dataDir: string, ref: number) =>
  query<{ id: number; state: string; student: string | null }>(
    dataDir,
    `SELECT r.id, r.state, s.name AS student FROM registrations r LEFT JOIN students s ON s.id = r.student_id WHERE r.portal = 'portal' AND r.external_id = ?`,
    String(ref),
  )[0];
const startLinkIn = (m: ParsedMail) => (m.text ?? '').match(/(http\S+\/status\/\S+\/start)/)?.[1] ?? null;

test('a registration at the portal is seated at its location: credentials from the portal, JupyterLab at the backend, the end and the badge back at the portal', async () => {
  const id = await register('ada@example.com', 'WKSHP-Lyon');
  await mailTo('ada@example.com', /being prepared/);
  const creds = await mailTo('ada@example.com', /is ready/);
  const { student, password } = credentialsIn(creds);
  // the login is the backend's hub, the start link the portal's, which asks lyon for one at the click
  expect(creds.text).toContain(`${loc.backends.lyon.url}/hub/login`);
  const start = startLinkIn(creds);
  expect(start).toMatch(new RegExp(`^${loc.portal.url}/services/wod/status/`));
  expect(portalRow(id)).toMatchObject({ state: 'ready', location: 'lyon', routing: 'accepted', student });
  expect(seatedAt(loc.backends.lyon.dataDir, id)).toMatchObject({ state: 'ready', student });
  expect(seatedAt(loc.backends.paris.dataDir, id)).toBeUndefined();
  // no mail to the participant from the backend
  expect((await outboxMails(loc.backends.lyon.dataDir)).filter((m) => (m.to as { text: string }).text === 'ada@example.com')).toEqual([]);

  // the portal's start link logs them in at lyon's hub, into their JupyterLab there
  const browser = new Browser(loc.backends.lyon.url);
  const clicked = await fetch(start!, { redirect: 'manual' });
  expect(clicked.status).toBe(303);
  const login = clicked.headers.get('location')!;
  expect(login.startsWith(`${loc.backends.lyon.url}/hub/wod-login?token=`)).toBe(true);
  const landed = await browser.request(new URL(login).pathname + new URL(login).search);
  expect(landed.status).toBe(200);
  expect(landed.url).toContain(`/user/${student}/`);
  // and the password works there too
  const byPassword = new Browser(loc.backends.lyon.url);
  await byPassword.hubLogin(student, password);

  // the participant ends it at the portal's status page: lyon cleans the seat, the portal thanks them
  const token = statusToken(sealerOf(loc.portal), id);
  const ended = await fetch(`${loc.portal.url}/services/wod/status/${token}/end`, { method: 'POST', body: new URLSearchParams({ confirm: 'yes' }), redirect: 'manual' });
  expect(ended.status).toBe(303);
  await until(
    () => seatedAt(loc.backends.lyon.dataDir, id)?.state,
    (s) => s === 'cleaned',
    'the seat at lyon cleaned',
    90_000,
  );
  const thanks = await mailTo('ada@example.com', /Thank you for taking Lyon workshop/);
  expect(thanks.text).toContain(`${loc.portal.url}/services/wod/badges/workshop/WKSHP-Lyon`);
  expect(portalRow(id).state).toBe('cleaned');
  // the student is free at lyon again
  expect(query(loc.backends.lyon.dataDir, `SELECT state FROM students WHERE name = ?`, student)[0]).toEqual({ state: 'free' });
});

test("a location that is full sends the registration to the workshop's alternate", async () => {
  const first = await register('first@example.com', 'WKSHP-Small');
  await mailTo('first@example.com', /is ready/);
  const second = await register('second@example.com', 'WKSHP-Small');
  const creds = await mailTo('second@example.com', /is ready/);
  expect(creds.text).toContain(`${loc.backends.paris.url}/hub/login`);
  expect(portalRow(first)).toMatchObject({ location: 'lyon' });
  expect(portalRow(second)).toMatchObject({ location: 'paris', state: 'ready' });
  // its credentials came from paris just before paris marks it ready
  await until(
    () => seatedAt(loc.backends.paris.dataDir, second)?.state,
    (st) => st === 'ready',
    'the seat at paris ready',
  );
  // both full now: the portal refuses, as a full workshop here would
  await until(
    async () => (await fetch(`${loc.portal.url}/services/wod/api/v1/workshops/WKSHP-Small`)).json() as Promise<{ seats: number }>,
    (w) => w.seats === 0,
    'the portal seeing both places full',
  );
  const third = await fetch(`${loc.portal.url}/services/wod/api/v1/registrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'third@example.com', name: 'T', company: 'C', workshop: 'WKSHP-Small', acceptTerms: true }),
  });
  expect(third.status).toBe(409);
});

test('a backend down: registrations accepted meanwhile wait or move to the alternate, and none is lost when it is back', async () => {
  await loc.backends.paris.stop();
  // Paris has no alternate: it waits for paris; Lyon's alternate is paris, and lyon is up: unaffected
  const waiting = await register('wait@example.com', 'WKSHP-Paris');
  const unaffected = await register('lyon2@example.com', 'WKSHP-Lyon');
  await mailTo('lyon2@example.com', /is ready/);
  // told it waits, once its wait is as long as a failover
  const delayed = await mailTo('wait@example.com', /takes a little longer/);
  expect(delayed.text).toMatch(/no free seat or is not answering/);
  expect(portalRow(waiting)).toMatchObject({ state: 'registered', location: 'paris', routing: 'pending' });
  expect(portalRow(unaffected)).toMatchObject({ state: 'ready', location: 'lyon' });

  await loc.restart('paris');
  const creds = await mailTo('wait@example.com', /is ready/);
  expect(creds.text).toContain(`${loc.backends.paris.url}/hub/login`);
  await until(
    () => seatedAt(loc.backends.paris.dataDir, waiting)?.state,
    (st) => st === 'ready',
    'the seat at paris ready',
  );
  // every registration the portal placed at paris is there, after the restart as before, and no other
  const atParis = (dir: string, sql: string) => query<{ id: number }>(dir, sql).map((r) => r.id);
  expect(atParis(loc.backends.paris.dataDir, `SELECT CAST(external_id AS INTEGER) AS id FROM registrations WHERE portal = 'portal' ORDER BY 1`)).toEqual(
    atParis(loc.portal.dataDir, `SELECT id FROM registrations WHERE location = 'paris' ORDER BY 1`),
  );
});

test('a backend that falls silent: a registration waiting for it moves to the alternate once that has a free seat, and the backend lets it go when it is back', async () => {
  // both silent: it waits at its location, lyon
  await Promise.all([loc.backends.lyon.stop(), loc.backends.paris.stop()]);
  const id = await register('moved@example.com', 'WKSHP-Lyon');
  const delayed = await mailTo('moved@example.com', /takes a little longer/);
  expect(delayed.text).toMatch(/no free seat or is not answering/);
  expect(portalRow(id)).toMatchObject({ state: 'registered', location: 'lyon', routing: 'pending' });
  // paris is back, lyon still silent past the failover: it moves to paris
  await loc.restart('paris');
  const creds = await mailTo('moved@example.com', /is ready/);
  expect(creds.text).toContain(`${loc.backends.paris.url}/hub/login`);
  expect(portalRow(id)).toMatchObject({ state: 'ready', location: 'paris', reroutes: 1 });
  // told once: the mail that said it waits was the one
  expect((await outboxMails(loc.portal.dataDir)).filter((m) => (m.to as { text: string }).text === 'moved@example.com' && /longer/.test(m.subject ?? ''))).toHaveLength(1);
  expect(query(loc.portal.dataDir, `SELECT COUNT(*) AS n FROM location_commands WHERE registration_id = ? AND command = 'cancel' AND location = 'lyon'`, id)[0]).toEqual({ n: 1 });
  await loc.restart('lyon');
  // lyon is told to let it go: it never had it, and nothing is seated there for it
  await until(
    () => query(loc.portal.dataDir, `SELECT COUNT(*) AS n FROM location_commands WHERE registration_id = ?`, id)[0],
    (r) => r.n === 0,
    'the cancel delivered to lyon',
    60_000,
  );
  expect(seatedAt(loc.backends.lyon.dataDir, id)).toBeUndefined();
  expect(portalRow(id)).toMatchObject({ state: 'ready', location: 'paris' });
});

test("the backend's clock runs the journey: its reminder and its end come to the participant from the portal, while an api-db drives the same backend by mail", async () => {
  const id = await register('clock@example.com', 'WKSHP-Paris');
  await mailTo('clock@example.com', /is ready/);
  // an original api-db's order to paris at the same time, through its mail API: paris's own registration, mailed by paris
  const credential = JSON.parse(await loc.backends.paris.cli('mail-api', 'credentials', '--json')) as { user: string; password: string };
  await nodemailer
    .createTransport({ host: '127.0.0.1', port: loc.backends.paris.ports.mailApi, ignoreTLS: true, auth: { user: credential.user, pass: credential.password } })
    .sendMail({ from: 'wodadmin@localhost', to: 'wod@x', subject: 'CREATE 10 901 order@example.com', text: 'WKSHP-Paris' });
  await waitForMail(loc.backends.paris.dataDir, (m) => (m.to as { text: string }).text === 'order@example.com' && /is ready/.test(m.subject ?? ''));
  expect(query(loc.portal.dataDir, `SELECT COUNT(*) AS n FROM participants WHERE email = 'order@example.com'`)[0]).toEqual({ n: 0 });

  // 30 minutes left at paris: paris's timers remind, the portal mails it, with its own start link
  const paris = new Database(`${loc.backends.paris.dataDir}/wod.sqlite`);
  const ref = seatedAt(loc.backends.paris.dataDir, id);
  paris.prepare('UPDATE registrations SET deadline_at = ? WHERE id = ?').run(new Date(Date.now() + 30 * 60_000).toISOString(), ref.id);
  const reminder = await mailTo('clock@example.com', /minutes left/);
  expect(startLinkIn(reminder)).toMatch(new RegExp(`^${loc.portal.url}/services/wod/status/`));
  // past the deadline there: paris ends and cleans it, the portal thanks them
  paris.prepare('UPDATE registrations SET deadline_at = ? WHERE id = ?').run(new Date(Date.now() - 1000).toISOString(), ref.id);
  paris.close();
  await mailTo('clock@example.com', /Thank you for taking Paris workshop/);
  expect(portalRow(id).state).toBe('cleaned');
  expect(query(loc.portal.dataDir, 'SELECT end_reason AS reason FROM registrations WHERE id = ?', id)[0]).toEqual({ reason: 'deadline' });
  // the order's registration is paris's alone: never told to the portal
  expect(query(loc.backends.paris.dataDir, `SELECT portal, state FROM registrations WHERE external_id = '901'`)[0]).toEqual({ portal: null, state: 'ready' });
});
