/**
 * The admin panel of locations, on three real hubs (a portal, backends lyon and paris): the
 * portal's dashboard shows each backend up with its free seats per workshop and the portal's
 * registration running there, the same figures as JSON from GET /admin/locations, the
 * registrations list says where each one is seated, and lyon's dashboard shows the portal with
 * its registration running there and its updates taken.
 */
import fs from 'node:fs';
import { Browser } from '../support/browser';
import { adminToken, restApi } from '../support/hub';
import { type Locations, startLocations } from '../support/locations';
import { query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

jest.setTimeout(240_000);

let loc: Locations;
const workshops = tempWorkshops();
let id: number;

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-Lyon', { name: 'Lyon workshop', location: 'lyon', alternateLocation: ['paris'], range: [1, 3], capacity: 3 });
  writeWorkshop(workshops, 'WKSHP-Paris', { name: 'Paris workshop', location: 'paris', range: [4, 5], capacity: 2 });
  loc = await startLocations(workshops);
  const res = await fetch(`${loc.portal.url}/services/wod/api/v1/registrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'ada@example.com', name: 'Ada Lovelace', company: 'Engines', workshop: 'WKSHP-Lyon', acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  id = ((await res.json()) as { registration: { id: number } }).registration.id;
  await until(
    () => query<{ routing: string | null }>(loc.portal.dataDir, 'SELECT routing FROM registrations WHERE id = ?', id)[0].routing,
    (r) => r === 'accepted',
    'lyon to accept the registration',
    90_000,
  );
});
afterAll(async () => {
  await loc?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

/** The dashboard's row of a location, as text without tags. */
const rowOf = (page: string, name: string) =>
  (new RegExp(`<tr data-location="${name}"[\\s\\S]*?</tr>`).exec(page)?.[0] ?? '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

test("the portal's dashboard shows lyon and paris up, with their seats and the registration running at lyon", async () => {
  const admin = new Browser(loc.portal.url);
  await admin.hubLogin(loc.portal.admin.name, loc.portal.admin.password);
  const dashboard = async () => (await admin.request('/services/wod/admin/')).text;
  // lyon's seat is taken once its next poll says so
  const page = await until(dashboard, (p) => /WKSHP-Lyon 2 of 3/.test(rowOf(p, 'lyon')), "lyon's seats on the dashboard", 30_000);
  expect(page).toContain('<h2 id="locations">Locations</h2>');
  const lyon = rowOf(page, 'lyon');
  const paris = rowOf(page, 'paris');
  // name, URL, up; free seats in all (its other workshop: 2), then per workshop; the queue; waiting, running, rerouted
  expect(lyon).toMatch(new RegExp(`^lyon ${loc.backends.lyon.url} up .* UTC in \\d+ ms 4 WKSHP-Lyon 2 of 3 WKSHP-Paris 2 of 2 \\d+ queued, \\d+ running 0 1 0$`));
  expect(paris).toMatch(new RegExp(`^paris ${loc.backends.paris.url} up .* UTC in \\d+ ms 5 WKSHP-Lyon 3 of 3 WKSHP-Paris 2 of 2 \\d+ queued, \\d+ running 0 0 0$`));
  // a portal has no portals of its own
  expect(page).not.toContain('data-testid="location-portals"');

  const list = (await admin.request('/services/wod/admin/registrations')).text;
  expect(list).toMatch(/data-testid="location">at lyon</);
});

test('GET /admin/locations says the same as JSON', async () => {
  const token = await adminToken(loc.portal);
  const res = await restApi(loc.portal, token, '/admin/locations');
  expect(res.status).toBe(200);
  const view = (await res.json()) as {
    name: string;
    backends: { name: string; status: string; freeSeats: number; registrations: object; tokens: object; seats: { workshops: { folder: string; seats: number }[] } }[];
    portals: unknown[];
  };
  expect(view.name).toBe('portal');
  expect(view.portals).toEqual([]);
  const lyon = view.backends.find((b) => b.name === 'lyon')!;
  expect(lyon).toMatchObject({ status: 'up', freeSeats: 4, registrations: { waiting: 0, running: 1, rerouted: 0 }, tokens: { issued: true, accepted: true } });
  expect(lyon.seats.workshops.find((w) => w.folder === 'WKSHP-Lyon')!.seats).toBe(2);
  expect(view.backends.find((b) => b.name === 'paris')).toMatchObject({ status: 'up', freeSeats: 5, registrations: { waiting: 0, running: 0, rerouted: 0 } });
});

test("lyon's dashboard shows the portal, its registration running there, and no update left for it", async () => {
  const lyon = loc.backends.lyon;
  const admin = new Browser(lyon.url);
  await admin.hubLogin(lyon.admin.name, lyon.admin.password);
  const page = await until(
    async () => (await admin.request('/services/wod/admin/')).text,
    (p) => /all taken$/.test(rowOf(p, 'portal')),
    "the portal to take lyon's updates",
    30_000,
  );
  expect(rowOf(page, 'portal')).toMatch(new RegExp(`^portal ${loc.portal.url} 1 1 all taken$`));
  expect(page).not.toContain('data-testid="location-backends"');
});
