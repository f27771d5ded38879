/**
 * Honest progress and capacity on the running service: a registration queued behind others (the
 * lifecycle is paused, so CREATE jobs wait) sees its place on its status page and in the status
 * API; the admin API, the dashboard and `wod capacity` say what a seat costs, or that it is not
 * measured yet.
 */
import fs from 'node:fs';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { Browser } from '../support/browser';
import { adminToken, type RunningHub, sealerOf, startHub } from '../support/hub';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
const workshops = tempWorkshops();
const ids: number[] = [];

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-One', { name: 'Workshop one', range: [1, 5], capacity: 5, priority: 1 });
  writeWorkshop(workshops, 'WKSHP-Two', { name: 'Workshop two', range: [6, 10], capacity: 5, priority: 2 });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_LIFECYCLE_PAUSED: 'true', WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  for (const [n, workshop] of [
    [1, 'WKSHP-One'],
    [2, 'WKSHP-Two'],
    [3, 'WKSHP-One'],
  ] as const) {
    const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: `p${n}@example.com`, name: `P ${n}`, company: 'ACME', workshop, acceptTerms: true }),
    });
    expect(res.status).toBe(201);
    ids.push(((await res.json()) as { registration: { id: number } }).registration.id);
  }
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const link = (id: number) => statusToken(sealerOf(hub), id);

test('a registration queued behind two others says so, in the status API and on its page, which reloads itself', async () => {
  const status = async (id: number) => (await (await fetch(`${hub.url}/services/wod/api/v1/status/${link(id)}`)).json()) as { state: string; queue: unknown };
  const third = await status(ids[2]!);
  expect(third.state).toBe('registered');
  expect(third.queue).toEqual({ state: 'queued', ahead: 2, step: null, stepLabel: null, estimateSeconds: null, samples: 0, paused: true });
  expect((await status(ids[0]!)).queue).toMatchObject({ ahead: 0 });

  const page = await new Browser(hub.url).request(`/services/wod/status/${link(ids[2]!)}`);
  expect(page.status).toBe(200);
  expect(page.text).toContain('<p class="queue" data-testid="queue">2 registrations ahead of you; preparation is paused by the operators for now; your place is kept.</p>');
  expect(page.text).toContain('data-refresh-seconds="5"');
  const first = await new Browser(hub.url).request(`/services/wod/status/${link(ids[0]!)}`);
  expect(first.text).toContain('You are next in the queue; preparation is paused');
});

test('capacity: the admin API, the dashboard and wod capacity say a seat is not measured yet, and the memory available', async () => {
  const token = await adminToken(hub);
  const res = await fetch(`${hub.url}/services/wod/api/v1/admin/capacity`, { headers: { Authorization: `token ${token}` } });
  expect(res.status).toBe(200);
  const figures = (await res.json()) as Record<string, unknown>;
  expect(figures).toMatchObject({ measuredAt: null, perSeatBytes: null, samples: 0, byWorkshop: [], seatsMore: null, reserveBytes: 256 * 1024 * 1024 });
  expect(figures.availableBytes).toBeGreaterThan(0);
  expect((await fetch(`${hub.url}/services/wod/api/v1/admin/capacity`, { headers: { Accept: 'application/json' } })).status).toBe(401);

  const admin = new Browser(hub.url);
  await admin.hubLogin('admin', hub.admin.password);
  const dashboard = await admin.request('/services/wod/admin/');
  expect(dashboard.text).toContain('<h2 id="capacity">Capacity</h2>');
  expect(dashboard.text).toMatch(/<dt>memory per working seat<\/dt><dd>not measured yet/);
  expect(dashboard.text).toMatch(/<dt>memory available<\/dt><dd>[\d.]+ [MG]iB \(256 MiB kept in reserve\)<\/dd>/);
  expect(dashboard.text).toContain('<dt>seats more</dt><dd>not known yet</dd>');

  const said = await hub.cli('capacity');
  expect(said).toContain('memory per working seat: not measured yet');
  expect(JSON.parse(await hub.cli('capacity', '--json'))).toMatchObject({ perSeatBytes: null, seatsMore: null });
});
