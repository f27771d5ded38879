/**
 * What the admin panel and GET /admin/locations say of locations, over a real SQLite file without
 * hubs: the counts of registrations at each backend and from each portal (locations/stats.ts), the
 * health and seats as the portal last heard them (locations/health.ts) presented in the document's
 * shape (web/locations-view.ts), a peer's last error said plainly (locations/trouble.ts), and the
 * catalog's lint of workshops naming a location nobody knows (catalog/problems.ts checkLocation).
 */
import fs from 'node:fs';
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { checkLocation } from '../../hub-service/src/catalog/problems';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { loadConfig } from '../../hub-service/src/config/load';
import { LocationHealth } from '../../hub-service/src/locations/health';
import { Peers } from '../../hub-service/src/locations/peers';
import { registrationsAtBackend, registrationsFromPortal } from '../../hub-service/src/locations/stats';
import { troubleOf } from '../../hub-service/src/locations/trouble';
import type { Logger } from '../../hub-service/src/log';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { presentLocations } from '../../hub-service/src/web/locations-view';
import { openApiDocument } from '../../hub-service/src/web/openapi';
import { type OpenApiDocument, ResponseChecker } from '../support/openapi';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const roots: string[] = [];
afterAll(() => roots.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {}, child: () => quiet } as unknown as Logger;

function setup() {
  const root = tempWorkshops();
  roots.push(root);
  writeWorkshop(root, 'WKSHP-Lyon', { location: 'lyon', range: [1, 5], capacity: 5 });
  const config = loadConfig({
    env: {
      WOD_DATA_DIR: root,
      WOD_LOCATIONS_NAME: 'portal',
      WOD_LOCATIONS_BACKENDS: JSON.stringify([
        { name: 'lyon', url: 'https://lyon.example.org' },
        { name: 'paris', url: 'https://paris.example.org' },
      ]),
      WOD_LOCATIONS_PORTALS: JSON.stringify([{ name: 'hq', url: 'https://hq.example.org' }]),
    },
  });
  const db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 5);
  importWorkshops(db, scanWorkshops({ dir: root }, 5), 'test');
  const peers = new Peers(config);
  const health = new LocationHealth(peers, quiet, 5);
  // a portal's desk whose backends have not answered yet: every registration waits for lyon
  const registrations = new Registrations(db, {}, { placesOf: () => ['lyon', 'paris'], availability: () => 'unknown', routed: () => {} });
  const register = (email: string, routedFrom?: { portal: string; ref: number }) =>
    registrations.register({ email, name: 'Ada', company: 'ACME', workshop: 'WKSHP-Lyon' }, { source: 'portal', routedFrom }).id;
  return { db, config, peers, health, register };
}

test('a backend counts what waits for it, what runs there, and what was moved there; ended ones not', () => {
  const { db, register } = setup();
  const [waiting, running, moved, ended] = ['a', 'b', 'c', 'd'].map((x) => register(`${x}@example.com`));
  const set = db.prepare('UPDATE registrations SET routing = ?, reroutes = ?, state = ? WHERE id = ?');
  set.run('accepted', 0, 'ready', running);
  set.run('accepted', 1, 'deploying', moved);
  set.run('accepted', 0, 'ended', ended);
  expect(waiting).toBeGreaterThan(0);
  expect(registrationsAtBackend(db, 'lyon')).toEqual({ waiting: 1, running: 2, rerouted: 1 });
  expect(registrationsAtBackend(db, 'paris')).toEqual({ waiting: 0, running: 0, rerouted: 0 });
});

test('a portal counts its registrations seated here, running or not, and the updates it has not taken', () => {
  const { db, register } = setup();
  const first = register('e@example.com', { portal: 'hq', ref: 11 });
  register('f@example.com', { portal: 'hq', ref: 12 });
  db.prepare(`UPDATE registrations SET state = 'cleaned' WHERE id = ?`).run(first);
  // the triggers marked both changed; hq took the first's
  expect(registrationsFromPortal(db, 'hq')).toEqual({ running: 1, total: 2, updatesWaiting: 2 });
  db.prepare('DELETE FROM location_updates WHERE registration_id = ?').run(first);
  expect(registrationsFromPortal(db, 'hq')).toEqual({ running: 1, total: 2, updatesWaiting: 1 });
  expect(registrationsFromPortal(db, 'elsewhere')).toEqual({ running: 0, total: 0, updatesWaiting: 0 });
});

test('the view: up with its seats summed over active workshops, down with its error said plainly, unknown until asked; as the document says', () => {
  const { db, config, peers, health, register } = setup();
  peers.issue('lyon');
  peers.accept('lyon', `wodloc_${'a'.repeat(43)}`);
  register('g@example.com');
  health.answered('lyon', {
    latencyMs: 12,
    seats: {
      location: 'lyon',
      workshops: [
        { folder: 'WKSHP-Lyon', active: true, capacity: 5, seats: 3 },
        { folder: 'WKSHP-Old', active: false, capacity: 4, seats: 4 },
        { folder: 'WKSHP-More', active: true, capacity: 2, seats: 2 },
      ],
      jobs: { queued: 1, running: 2 },
    },
  });
  health.silent('paris', 'paris does not answer: connect ECONNREFUSED 10.0.0.9:443');
  const view = presentLocations(db, { peers, health }, 'portal');
  expect(view.name).toBe('portal');
  const [lyon, paris] = view.backends;
  expect(lyon).toMatchObject({
    name: 'lyon',
    status: 'up',
    error: null,
    trouble: null,
    latencyMs: 12,
    freeSeats: 5,
    registrations: { waiting: 1, running: 0, rerouted: 0 },
    tokens: { issued: true, accepted: true },
  });
  expect(lyon.seenAt).toEqual(expect.any(String));
  expect(paris).toMatchObject({ status: 'down', error: expect.stringContaining('ECONNREFUSED'), freeSeats: null, seats: null, tokens: { issued: false, accepted: false } });
  expect(paris.trouble).toMatch(/^nothing listens at its URL \(connection refused\)/);
  expect(view.portals).toEqual([
    { name: 'hq', url: 'https://hq.example.org', registrations: { running: 0, total: 0 }, updatesWaiting: 0, tokens: { issued: false, accepted: false } },
  ]);

  const checker = new ResponseChecker(openApiDocument(config) as unknown as OpenApiDocument);
  expect(checker.problems('/admin/locations', 'get', 200, JSON.parse(JSON.stringify(view)))).toEqual([]);
  // before any poll a backend is unknown, without figures
  const fresh = presentLocations(db, { peers, health: new LocationHealth(peers, quiet, 5) }, 'portal');
  expect(fresh.backends.map((b) => [b.status, b.seenAt, b.freeSeats])).toEqual([
    ['unknown', null, null],
    ['unknown', null, null],
  ]);
  expect(checker.problems('/admin/locations', 'get', 200, JSON.parse(JSON.stringify(fresh)))).toEqual([]);
});

test.each([
  ["no token from lyon yet: run 'wod locations accept lyon' with the one it issued", /^no token of lyon accepted here yet: run 'wod locations issue portal' there/],
  ['lyon answered 401: a location token issued here for a portal is needed', /^lyon refuses the token we present \(HTTP 401\): run 'wod locations issue portal' there/],
  ['lyon answered 502', /proxy in front of lyon answers, the wod service behind it does not/],
  ['lyon answered 500: internal error', /^lyon fails \(HTTP 500\): read its log$/],
  ['lyon does not answer: getaddrinfo ENOTFOUND lyon.example.org', /host name does not resolve/],
  ['lyon does not answer: The operation was aborted due to timeout', /no answer in time/],
  ['lyon does not answer: self-signed certificate', /TLS certificate is not trusted here: .*self-signed/],
  ['something new', /^something new$/],
])('the error %p is said plainly', (error, said) => {
  expect(troubleOf('lyon', error, 'portal')).toMatch(said);
});

describe('workshops naming a location', () => {
  const at = { location: { file: 'W/wod.yml', line: 3 }, alternateLocation: { file: 'W/wod.yml', line: 4 } };
  const portal = { locations: { name: 'portal', backends: [{ name: 'lyon', url: 'https://lyon.example.org' }] } };

  test('a location or alternate nobody here knows is a warning on a portal, naming the known ones', () => {
    expect(checkLocation({ location: 'lyom', alternateLocation: ['lyon', 'pariss', 'portal'] }, portal, at)).toEqual([
      expect.objectContaining({ severity: 'warning', field: 'location', line: 3, message: expect.stringContaining('lyom'), fix: expect.stringContaining('portal, lyon') }),
      expect.objectContaining({ severity: 'warning', field: 'alternateLocation', line: 4, message: expect.stringContaining('pariss is neither') }),
    ]);
  });

  test('known names, no location, or a wod that routes nothing: no problem', () => {
    expect(checkLocation({ location: 'lyon', alternateLocation: ['portal'] }, portal, at)).toEqual([]);
    expect(checkLocation({ location: null, alternateLocation: [] }, portal, at)).toEqual([]);
    // the original's files name their own hosts: on a wod without backends every workshop runs here
    expect(checkLocation({ location: 'backend.example.org', alternateLocation: [] }, { locations: { name: undefined, backends: [] } }, at)).toEqual([]);
  });
});
