/**
 * Warm seats against a real hub: a workshop with `warm: 2` has two students prepared before anyone
 * registers (their servers running, no login possible); a registration takes one, skips what was
 * done, gets content rendered for its participant, and the seat is refilled; lowering the target
 * live releases the surplus.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Browser } from '../support/browser';
import { adminToken, restApi, type RunningHub, startHub } from '../support/hub';
import { credentialsIn, waitForMail } from '../support/outbox';
import { query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
let token: string;
const workshops = tempWorkshops();

beforeAll(async () => {
  const dir = writeWorkshop(workshops, 'WKSHP-Warm', { range: [1, 5], capacity: 5, warm: 2 });
  fs.writeFileSync(path.join(dir, 'who.py'), "WHO = '{{ STUDENT }}'\nSURVEY = '{{ SURVEYURL }}'\n");
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  token = await adminToken(hub);
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const api = (p: string, init: RequestInit = {}) => restApi(hub, token, p, init);
const warmSeats = () => query<{ id: number }>(hub.dataDir, `SELECT id FROM students WHERE state = 'free' AND warm_workshop_id IS NOT NULL ORDER BY id`).map((r) => r.id);
const serverReady = async (student: string) => {
  const res = await fetch(`${hub.hubApiUrl}/users/${student}`, { headers: { Authorization: `token ${token}` } });
  return res.ok && !!((await res.json()) as { servers: Record<string, { ready: boolean }> }).servers['']?.ready;
};

test('warm seats are prepared before anyone registers: server running, no login', async () => {
  expect(await until(warmSeats, (ids) => ids.length === 2, 'two warm seats', 90_000)).toEqual([1, 2]);
  expect(await serverReady('student1')).toBe(true);
  expect(await serverReady('student2')).toBe(true);
  // no password yet: nobody logs in as a warm seat, whatever they try
  for (const password of ['', 'student1', 'x'.repeat(16)]) expect((await new Browser(hub.url).hubLogin('student1', password)).status).toBe(403);
  const { items } = (await (await api('/admin/workshops')).json()) as { items: { folder: string; warm: number; warmReady: number }[] };
  expect(items.find((w) => w.folder === 'WKSHP-Warm')).toMatchObject({ warm: 2, warmReady: 2 });
});

test('a registration takes a warm seat, skips what was prepared, gets content for its participant; the seat is refilled', async () => {
  const res = await api('/registrations', {
    method: 'POST',
    body: JSON.stringify({ email: 'ada@example.com', name: 'Ada', company: 'ACME', workshop: 'WKSHP-Warm', acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { registration: { id: number } }).registration.id;
  const mail = await waitForMail(hub.dataDir, (m) => !!m.subject?.includes('is ready'));
  const { password } = credentialsIn(mail);
  const [reg] = query<{ student_id: number }>(hub.dataDir, 'SELECT student_id FROM registrations WHERE id = ?', id);
  expect(reg.student_id).toBe(1);
  const steps = query<{ step: string }>(
    hub.dataDir,
    `SELECT s.step FROM job_steps s JOIN jobs j ON j.id = s.job_id WHERE j.registration_id = ? AND s.ok = 1 ORDER BY s.id`,
    id,
  ).map((r) => r.step);
  expect(steps).toEqual(['deploying', 'password', 'directory', 'content', 'compiled', 'post-copy', 'limits', 'server', 'credentials']);
  // the content is the participant's: their student and their own survey page
  const who = fs.readFileSync(path.join(hub.dataDir, 'homes', 'student1', 'WKSHP-Warm', 'who.py'), 'utf8');
  expect(who).toMatch(/^WHO = 'student1'\nSURVEY = 'http:\/\/127\.0\.0\.1:\d+\/services\/wod\/status\/\S+#feedback'\n$/);
  expect((await new Browser(hub.url).hubLogin('student1', password)).status).not.toBe(403);
  // the pool refills: another free student is prepared
  expect(await until(warmSeats, (ids) => ids.length === 2, 'the warm seats refilled', 90_000)).toEqual([2, 3]);
});

test('lowering the target live releases the surplus: its server stops, its mark goes', async () => {
  const res = await api('/admin/workshops/WKSHP-Warm', { method: 'PATCH', body: JSON.stringify({ warm: 1 }) });
  expect(res.status).toBe(200);
  expect(await until(warmSeats, (ids) => ids.length === 1, 'one warm seat left', 60_000)).toEqual([2]);
  await until(
    () => serverReady('student3'),
    (ready) => !ready,
    'the released seat stopped',
    60_000,
  );
  expect(query(hub.dataDir, `SELECT state FROM students WHERE id = 3`)).toEqual([{ state: 'free' }]);
});

test('an event adds seats for its time, through the admin API; cancelled, they go again', async () => {
  const now = Date.now();
  const body = (o: object) =>
    JSON.stringify({ workshop: 'WKSHP-Warm', seats: 2, startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(now + 600_000).toISOString(), ...o });
  expect((await api('/admin/warm/events', { method: 'POST', body: body({ seats: 99 }) })).status).toBe(422); // more than the workshop can have at once
  expect((await api('/admin/warm/events', { method: 'POST', body: body({ endsAt: new Date(now - 1000).toISOString() }) })).status).toBe(422);
  const res = await api('/admin/warm/events', { method: 'POST', body: body({ note: 'the 9 o’clock class' }) });
  expect(res.status).toBe(201);
  const event = (await res.json()) as { id: number; active: boolean };
  expect(event.active).toBe(true);
  const state = async () => (await (await api('/admin/warm')).json()) as { workshops: { folder: string; target: number }[]; events: { id: number }[] };
  expect((await state()).workshops.find((w) => w.folder === 'WKSHP-Warm')?.target).toBe(3);
  expect((await state()).events.map((e) => e.id)).toEqual([event.id]);
  expect(await until(warmSeats, (ids) => ids.length === 3, 'the event’s seats warm', 90_000)).toHaveLength(3);
  expect((await api(`/admin/warm/events/${event.id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await api(`/admin/warm/events/${event.id}`, { method: 'DELETE' })).status).toBe(404);
  expect(await until(warmSeats, (ids) => ids.length === 1, 'back to one warm seat', 60_000)).toHaveLength(1);
});
