/**
 * The metrics against a real hub: the token `wod metrics token` prints scrapes both
 * /services/wod/metrics and the hub's /hub/metrics, and the figures move with what really happens: a
 * registration through the public API, to ready; a refused one; a failed hub login.
 */
import { Browser } from '../support/browser';
import { type RunningHub, startHub } from '../support/hub';
import { valueOf } from '../support/prometheus';
import { query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const FOLDER = 'WKSHP-Metrics';
let hub: RunningHub;
let token: string;
const workshops = tempWorkshops();

beforeAll(async () => {
  writeWorkshop(workshops, FOLDER, { range: [1, 3], capacity: 3 });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  token = (await hub.cli('metrics', 'token')).trim();
});
afterAll(async () => {
  await hub?.stop();
});

async function scrape(): Promise<string> {
  const res = await fetch(`${hub.url}/services/wod/metrics`, { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

const register = (body: Record<string, unknown>) =>
  fetch(`${hub.url}/services/wod/api/v1/registrations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

test('a real registration moves the registrations, the provision time, the seats, the jobs and the request durations', async () => {
  const before = await scrape();
  const res = await register({ email: 'lin@example.com', name: 'Lin', company: 'ACME', workshop: FOLDER, acceptTerms: true });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { registration: { id: number } }).registration.id;
  await until(
    () => query<{ state: string }>(hub.dataDir, 'SELECT state FROM registrations WHERE id = ?', id)[0].state,
    (state) => state === 'ready' || state === 'failed',
    'the registration ready',
    120_000,
  ).then((state) => expect(state).toBe('ready'));
  // the CREATE job is done a moment after its last step made the registration ready
  const after = await until(
    scrape,
    (text) => valueOf(text, 'wod_jobs', { verb: 'CREATE', state: 'done' }) > valueOf(before, 'wod_jobs', { verb: 'CREATE', state: 'done' }),
    'the CREATE job done',
  );

  const moved = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
  expect(moved('wod_registrations_total', { workshop: FOLDER, outcome: 'registered' })).toBe(1);
  expect(moved('wod_provision_duration_seconds_count', { workshop: FOLDER })).toBe(1);
  const seconds = valueOf(after, 'wod_provision_duration_seconds_sum', { workshop: FOLDER });
  const [row] = query<{ created_at: string; ready_at: string }>(hub.dataDir, 'SELECT created_at, ready_at FROM registrations WHERE id = ?', id);
  expect(seconds).toBeCloseTo((Date.parse(row.ready_at) - Date.parse(row.created_at)) / 1000, 1);
  expect(moved('wod_seats', { state: 'allocated' })).toBe(1);
  expect(moved('wod_jobs', { verb: 'CREATE', state: 'done' })).toBe(1);
  expect(moved('wod_job_step_duration_seconds_count', { verb: 'CREATE', step: 'credentials' })).toBe(1);
  expect(valueOf(after, 'wod_request_duration_seconds_count', { handler: '/api/v1/registrations', method: 'POST', code: '201' })).toBeGreaterThanOrEqual(1);
});

test('a refused registration and a failed login move their outcomes', async () => {
  const before = await scrape();
  expect((await register({ email: 'not an address', name: 'Lin', company: 'ACME', workshop: FOLDER, acceptTerms: true })).status).toBe(422);
  expect((await register({ email: 'kim@example.com', name: 'Kim', company: 'ACME', workshop: 'WKSHP-Nowhere', acceptTerms: true })).status).toBe(404);
  expect((await new Browser(hub.url).hubLogin('student2', 'not-the-password')).status).toBe(403);
  const after = await scrape();
  const moved = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
  expect(moved('wod_registrations_total', { workshop: 'unknown', outcome: 'invalid' })).toBe(1);
  expect(moved('wod_registrations_total', { workshop: 'unknown', outcome: 'unknown-workshop' })).toBe(1);
  expect(moved('wod_logins_total', { outcome: 'refused' })).toBe(1);
  expect(after).not.toContain('WKSHP-Nowhere');
});

test("the same token scrapes the hub's own /hub/metrics", async () => {
  const res = await fetch(`${hub.url}/hub/metrics`, { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('jupyterhub_');
});
