/**
 * `wod doctor` on locations (doctor/locations.ts): the judgement of one peer from its tokens and
 * its answer, pure; then the whole check against fake peers on real sockets: a backend that
 * answers its seats with the token it issued, one that refuses it, a portal that takes updates,
 * a peer nothing listens for, with their token files in a temporary data folder.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../hub-service/src/config/load';
import { evaluatePeer, isClearText, locationChecks, type PeerFacts } from '../../hub-service/src/doctor/locations';
import { Peers } from '../../hub-service/src/locations/peers';
import type { LocationSeats } from '../../hub-service/src/locations/protocol';
import { freePorts } from '../support/ports';

const seats: LocationSeats = {
  location: 'lyon',
  workshops: [
    { folder: 'WKSHP-A', active: true, capacity: 5, seats: 3 },
    { folder: 'WKSHP-B', active: false, capacity: 2, seats: 2 },
  ],
  jobs: { queued: 1, running: 0 },
};
const facts = (p: Partial<PeerFacts> = {}): PeerFacts => ({ name: 'lyon', role: 'backend', url: 'https://lyon.example.org', issued: true, accepted: true, ...p });

describe('one peer', () => {
  test('tokens both ways and an answer: OK with its free seats', () => {
    const c = evaluatePeer(facts(), { latencyMs: 8, seats }, 'portal');
    expect(c).toMatchObject({ name: 'location-lyon', status: 'OK' });
    expect(c.detail).toMatch(/answers in 8 ms: 3 free seat\(s\) in 1 active workshop\(s\), 1 job\(s\) queued; tokens issued and accepted$/);
  });

  test('a token missing either way fails, saying which command to run where', () => {
    const c = evaluatePeer(facts({ accepted: false, issued: false }), null, 'portal');
    expect(c.status).toBe('FAIL');
    expect(c.detail).toContain('no token of lyon accepted here');
    expect(c.detail).toContain('no token issued here for lyon');
    expect(c.fix).toContain("run 'wod locations issue portal' at lyon, then 'wod locations accept lyon' here");
    expect(c.fix).toContain("run 'wod locations issue lyon' here");
    expect(evaluatePeer(facts({ issued: false }), { latencyMs: 1, seats }, 'portal').status).toBe('FAIL');
  });

  test('no answer fails, with the cause said plainly', () => {
    const c = evaluatePeer(facts(), { error: 'lyon answered 401: a location token issued here for a portal is needed', refused: false }, 'portal');
    expect(c).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('does not answer: lyon answered 401') });
    expect(c.fix).toMatch(/^lyon refuses the token we present/);
  });

  test('plain http:// off this host warns; loopback and https do not', () => {
    expect(evaluatePeer(facts({ url: 'http://lyon.example.org' }), { latencyMs: 8, seats }, 'portal')).toMatchObject({
      status: 'WARN',
      detail: expect.stringContaining('cross the network in clear'),
      fix: expect.stringContaining('https://'),
    });
    expect(['http://127.0.0.1:8000', 'http://localhost:8000', 'http://[::1]:8000', 'https://lyon.example.org'].map(isClearText)).toEqual([false, false, false, false]);
    expect(['http://10.0.0.5:8000', 'http://lyon.example.org'].map(isClearText)).toEqual([true, true]);
  });
});

describe('every peer, over real sockets', () => {
  const servers: http.Server[] = [];
  let dataDir: string;
  afterAll(() => {
    servers.forEach((s) => s.close());
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** A fake peer: answers its location API's route to the token it issued, 401 to any other. */
  async function fakePeer(route: string, token: string, answer: unknown): Promise<string> {
    const server = http.createServer((req, res) => {
      const ok = req.headers.authorization === `Bearer ${token}` && req.url === `/services/wod/api/locations/v1${route}`;
      res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(ok ? answer : { status: 401, message: 'a location token issued here for a portal is needed' }));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  test('one line per peer: answering ones OK, a refused token and a closed port FAIL, each named', async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-doctor-locations-'));
    const token = (c: string) => `wodloc_${c.repeat(43)}`;
    const [closed] = await freePorts(1);
    const urls = {
      lyon: await fakePeer('/seats', token('a'), seats),
      paris: await fakePeer('/seats', token('b'), seats),
      hq: await fakePeer('/updates', token('c'), { results: [] }),
    };
    const config = loadConfig({
      env: {
        WOD_DATA_DIR: dataDir,
        WOD_LOCATIONS_NAME: 'portal',
        WOD_LOCATIONS_BACKENDS: JSON.stringify([
          { name: 'lyon', url: urls.lyon },
          { name: 'paris', url: urls.paris },
          { name: 'nantes', url: `http://127.0.0.1:${closed}` },
        ]),
        WOD_LOCATIONS_PORTALS: JSON.stringify([{ name: 'hq', url: urls.hq }]),
      },
    });
    const peers = new Peers(config);
    for (const name of ['lyon', 'paris', 'nantes', 'hq']) peers.issue(name);
    peers.accept('lyon', token('a'));
    peers.accept('paris', token('z')); // not the one paris issued
    peers.accept('nantes', token('d'));
    peers.accept('hq', token('c'));

    const checks = await locationChecks(config, 2_000);
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['location-lyon', 'OK'],
      ['location-paris', 'FAIL'],
      ['location-nantes', 'FAIL'],
      ['location-hq', 'OK'],
    ]);
    expect(byName['location-lyon'].detail).toContain('3 free seat(s)');
    expect(byName['location-paris'].fix).toMatch(/^paris refuses the token we present \(HTTP 401\)/);
    // (under jest, fetch's cause comes from another realm and callPeer says only "fetch failed"; wod itself names ECONNREFUSED)
    expect(byName['location-nantes'].detail).toMatch(/^backend nantes \(http:\/\/127\.0\.0\.1:\d+\) does not answer: nantes does not answer/);
    expect(byName['location-hq'].detail).toMatch(/^portal hq .* takes updates/);
  });

  test('a wod without locations has no line', async () => {
    expect(await locationChecks(loadConfig({ env: { WOD_DATA_DIR: os.tmpdir() } }), 1_000)).toEqual([]);
  });
});
