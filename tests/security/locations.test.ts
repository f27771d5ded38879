/**
 * Locations' attacks, against a real portal and its two backends (`lyon`, `paris`): the location
 * API answers only a peer presenting the token issued here for it, in its role (a portal's token
 * opens no portal-side route, a backend's no backend-side one, a hub token none); a backend speaks
 * only of the registrations seated there, a portal only of the ones it routed there; hostile bodies
 * are refused before anything is stored; a backend's start link goes to its own hub or nowhere;
 * the tokens are 0600 files of the service's user, only a hash of those issued is kept, and none
 * shows up in a log, a mail or a database.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { attack } from '../support/attacks';
import { adminToken, type RunningHub, sealerOf } from '../support/hub';
import { BACKENDS, type Locations, startLocations } from '../support/locations';
import { query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

jest.setTimeout(240_000);

const asRoot = process.getuid?.() === 0;
const FOLDER = 'WKSHP-Lyon';
const API = '/services/wod/api/locations/v1';

let loc: Locations;
let hubs: Record<'portal' | 'lyon' | 'paris', RunningHub>;
/** the registration made at the portal and seated at lyon: what the attacks aim at */
let seated: number;
const admins: Record<string, string> = {};
const workshops = tempWorkshops();

const secretsOf = (hub: RunningHub) => path.join(hub.dataDir, 'secrets', 'locations');
/** The token a hub holds for `peer` (the one `peer` issued for it). */
const tokenHeldBy = (hub: RunningHub, peer: string) => fs.readFileSync(path.join(secretsOf(hub), `${peer}.token`), 'utf8').trim();
const bearer = (token: string) => `Bearer ${token}`;

async function call(
  hub: RunningHub,
  method: string,
  route: string,
  o: { auth?: string; body?: unknown; raw?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> | null }> {
  const res = await fetch(`${hub.url}${API}${route}`, {
    method,
    headers: { ...(o.auth ? { Authorization: o.auth } : {}), 'Content-Type': 'application/json', Accept: 'application/json' },
    body: o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body)),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

const future = () => new Date(Date.now() + 365 * 24 * 3600_000).toISOString();
const seatRequest = (ref: number) => ({ ref, workshop: FOLDER, email: `ref${ref}@example.com`, name: 'Mallory', company: 'Evil', language: null });
const seatUpdate = (ref: number) => ({
  ref,
  state: 'ended',
  student: 'student999',
  readyAt: null,
  deadlineAt: future(),
  endedAt: null,
  endReason: 'admin',
  completion: 1,
  progress: null,
  checks: null,
  survey: null,
});
const seatCredentials = (ref: number) => ({ ref, key: 'attack-1', student: 'student999', password: 'a-password-of-mine', deadlineAt: future() });

/** Every location route of both sides, aimed at the seated registration (and a new ref for a seat). */
const routes = (): { side: 'backend' | 'portal'; method: string; route: string; body?: unknown }[] => [
  { side: 'backend', method: 'GET', route: '/seats' },
  { side: 'backend', method: 'POST', route: '/registrations', body: seatRequest(900_001) },
  { side: 'backend', method: 'GET', route: `/registrations/${seated}` },
  { side: 'backend', method: 'POST', route: `/registrations/${seated}/end`, body: { reason: 'admin' } },
  { side: 'backend', method: 'POST', route: `/registrations/${seated}/extend`, body: { minutes: 600 } },
  { side: 'backend', method: 'POST', route: `/registrations/${seated}/credentials`, body: {} },
  { side: 'backend', method: 'POST', route: `/registrations/${seated}/start-link`, body: {} },
  { side: 'backend', method: 'DELETE', route: `/registrations/${seated}` },
  { side: 'portal', method: 'POST', route: '/updates', body: { updates: [seatUpdate(seated)] } },
  { side: 'portal', method: 'POST', route: '/credentials', body: seatCredentials(seated) },
];

/** What the attacks must leave as it was: the portal's copy, its mails, and every routed registration at the backends. */
function snapshot() {
  return {
    portal: query(hubs.portal.dataDir, 'SELECT state, location, remote_student, deadline_at, ended_at, end_reason, completion FROM registrations WHERE id = ?', seated),
    mails: query(hubs.portal.dataDir, 'SELECT id, kind, state FROM mails ORDER BY id'),
    outbox: fs.readdirSync(path.join(hubs.portal.dataDir, 'outbox')).sort(),
    ...Object.fromEntries(
      BACKENDS.map((b) => [b, query(hubs[b].dataDir, `SELECT id, external_id, state, deadline_at, ended_at, student_id FROM registrations WHERE portal IS NOT NULL ORDER BY id`)]),
    ),
  };
}

beforeAll(async () => {
  writeWorkshop(workshops, FOLDER, { name: 'Lyon workshop', location: 'lyon', range: [1, 3], capacity: 3 });
  loc = await startLocations(workshops);
  hubs = { portal: loc.portal, ...loc.backends };
  for (const [name, hub] of Object.entries(hubs)) admins[name] = await adminToken(hub);
  const res = await fetch(`${hubs.portal.url}/services/wod/api/v1/registrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'ada@example.com', name: 'Ada Lovelace', company: 'Engines', workshop: FOLDER, acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  seated = ((await res.json()) as { registration: { id: number } }).registration.id;
  await until(
    () => query<{ state: string; location: string }>(hubs.portal.dataDir, `SELECT state, location FROM registrations WHERE id = ?`, seated)[0],
    (r) => r.state === 'ready' && r.location === 'lyon',
    'the registration seated and ready at lyon',
    120_000,
  );
  // its credentials mail sent: what comes after an attack is the attack's
  await until(
    () => query(hubs.portal.dataDir, `SELECT 1 FROM mails WHERE registration_id = ? AND kind = 'credentials' AND state = 'sent'`, seated),
    (rows) => rows.length === 1,
    'the credentials mail sent',
  );
});
afterAll(async () => {
  await loc?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

test('no token, a malformed header, a made-up token or a hub API token: 401 on every location route of every wod, nothing changed', async () => {
  const before = snapshot();
  const made = `wodloc_${crypto.randomBytes(32).toString('base64url')}`;
  for (const [hubName, hub] of Object.entries(hubs)) {
    const credentials: Record<string, string | undefined> = {
      'no token': undefined,
      'a Basic header': `Basic ${Buffer.from('portal:secret').toString('base64')}`,
      'Bearer without a token': 'Bearer ',
      'two tokens': `Bearer ${made} ${made}`,
      'a made-up wodloc_ token': bearer(made),
      "the hub admin's API token (token …)": `token ${admins[hubName]}`,
      "the hub admin's API token (Bearer …)": bearer(admins[hubName]),
    };
    for (const [what, auth] of Object.entries(credentials))
      for (const r of routes())
        await attack(`locations: ${what} on ${hubName}'s ${r.method} ${r.route.replace(String(seated), ':ref')}`, async () => {
          const res = await call(hub, r.method, r.route, { auth, body: r.body });
          expect(res.status).toBe(401);
          expect(res.json?.message).toMatch(/a location token issued here for a (backend|portal) is needed/);
        });
  }
  expect(snapshot()).toEqual(before);
  for (const b of BACKENDS) expect(query(hubs[b].dataDir, `SELECT id FROM registrations WHERE external_id = '900001'`)).toEqual([]);
});

test("roles are separate: a portal's token opens no portal-side route, a backend's no backend-side one, one backend's token is not another's", async () => {
  const before = snapshot();
  const portalAtLyon = tokenHeldBy(hubs.portal, 'lyon');
  const lyonAtPortal = tokenHeldBy(hubs.lyon, 'portal');
  // the control: each token works where it belongs
  expect((await call(hubs.lyon, 'GET', '/seats', { auth: bearer(portalAtLyon) })).status).toBe(200);
  expect((await call(hubs.portal, 'POST', '/updates', { auth: bearer(lyonAtPortal), body: { updates: [] } })).status).toBe(200);
  for (const r of routes().filter((x) => x.side === 'portal'))
    await attack(`locations: the portal's token on lyon's ${r.method} ${r.route}`, async () => {
      expect((await call(hubs.lyon, r.method, r.route, { auth: bearer(portalAtLyon), body: r.body })).status).toBe(401);
    });
  for (const r of routes().filter((x) => x.side === 'backend'))
    await attack(`locations: lyon's token on the portal's ${r.method} ${r.route.replace(String(seated), ':ref')}`, async () => {
      expect((await call(hubs.portal, r.method, r.route, { auth: bearer(lyonAtPortal), body: r.body })).status).toBe(401);
    });
  for (const r of routes().filter((x) => x.side === 'backend'))
    await attack(`locations: the portal's token for lyon on paris's ${r.method} ${r.route.replace(String(seated), ':ref')}`, async () => {
      expect((await call(hubs.paris, r.method, r.route, { auth: bearer(portalAtLyon), body: r.body })).status).toBe(401);
    });
  expect(snapshot()).toEqual(before);
});

test("a backend speaks only of the registrations seated there: paris's updates and credentials for lyon's registration change nothing", async () => {
  const before = snapshot();
  const paris = bearer(tokenHeldBy(hubs.paris, 'portal'));
  await attack('locations: paris ends and takes over a registration seated at lyon (/updates)', async () => {
    const res = await call(hubs.portal, 'POST', '/updates', { auth: paris, body: { updates: [seatUpdate(seated)] } });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ results: [{ ref: seated, result: 'moved-away' }] });
    // paris is told to let go of what it does not seat: once that is delivered, nothing else was done
    await until(
      () => query(hubs.portal.dataDir, `SELECT id FROM location_commands WHERE registration_id = ? AND location = 'paris'`, seated),
      (rows) => rows.length === 0,
      'the cancel to paris delivered',
    );
    expect(snapshot()).toEqual(before);
  });
  await attack('locations: paris sends credentials of its own for a registration seated at lyon (/credentials)', async () => {
    const res = await call(hubs.portal, 'POST', '/credentials', { auth: paris, body: seatCredentials(seated) });
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ code: 'unknown-registration', message: `registration ${seated} is not seated at paris` });
    expect(snapshot()).toEqual(before);
  });
  await attack('locations: a backend sends updates and credentials for a registration that does not exist', async () => {
    const auth = bearer(tokenHeldBy(hubs.lyon, 'portal'));
    expect((await call(hubs.portal, 'POST', '/updates', { auth, body: { updates: [seatUpdate(777_777)] } })).json).toEqual({ results: [{ ref: 777_777, result: 'unknown' }] });
    expect((await call(hubs.portal, 'POST', '/credentials', { auth, body: seatCredentials(777_777) })).status).toBe(404);
    expect(snapshot()).toEqual(before);
  });
});

test('the portal reaches only what it routed to a backend: a ref never routed there is 404 on every route, nothing changed', async () => {
  const before = snapshot();
  const auth = bearer(tokenHeldBy(hubs.portal, 'paris'));
  // seated at lyon, never routed to paris; and one the portal never had
  for (const ref of [seated, 555_555])
    for (const [method, route, body] of [
      ['GET', '', undefined],
      ['POST', '/end', { reason: 'admin' }],
      ['POST', '/extend', { minutes: 600 }],
      ['POST', '/credentials', {}],
      ['POST', '/start-link', {}],
      ['DELETE', '', undefined],
    ] as const)
      await attack(`locations: the portal asks paris for ${method} /registrations/:ref${route} of a registration not routed there`, async () => {
        const res = await call(hubs.paris, method, `/registrations/${ref}${route}`, { auth, body });
        expect(res.status).toBe(404);
        expect(res.json).toMatchObject({ code: 'unknown-registration', message: `portal routed no registration ${ref} here` });
      });
  expect(snapshot()).toEqual(before);
});

test('hostile bodies are refused with a clear message before anything is stored', async () => {
  const before = snapshot();
  const portal = bearer(tokenHeldBy(hubs.portal, 'lyon'));
  const lyon = bearer(tokenHeldBy(hubs.lyon, 'portal'));
  const base = seatRequest(900_100);
  const seats: [string, unknown, string][] = [
    ['a workshop folder ../../etc', { ...base, workshop: '../../etc' }, 'workshop'],
    ['a workshop folder WKSHP-X/../', { ...base, workshop: 'WKSHP-X/../' }, 'workshop'],
    ['a name with a newline', { ...base, name: 'Mallory\nBcc: victim@example.com' }, 'name'],
    ['a name with control characters', { ...base, name: 'Mal\u0007lory\u001b[2J' }, 'name'],
    ['an email with CRLF', { ...base, email: 'mallory@example.com\r\nBcc: victim@example.com' }, 'email'],
    ['ref 0', { ...base, ref: 0 }, 'ref'],
    ['ref -1', { ...base, ref: -1 }, 'ref'],
    ['ref 1e20', { ...base, ref: 1e20 }, 'ref'],
    ["ref 'abc'", { ...base, ref: 'abc' }, 'ref'],
    ['an extra key portal (mass assignment)', { ...base, portal: 'paris' }, '(body)'],
    ['an extra key state (mass assignment)', { ...base, state: 'ready' }, '(body)'],
    ['an extra key studentId (mass assignment)', { ...base, studentId: 1 }, '(body)'],
  ];
  for (const [what, body, field] of seats)
    await attack(`locations: a seat request with ${what}`, async () => {
      const res = await call(hubs.lyon, 'POST', '/registrations', { auth: portal, body });
      expect(res.status).toBe(422);
      expect(res.json).toMatchObject({ status: 422, message: 'invalid request' });
      expect(res.json!.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field, message: expect.any(String) })]));
    });
  await attack('locations: a 200 KB seat request', async () => {
    const res = await call(hubs.lyon, 'POST', '/registrations', { auth: portal, raw: JSON.stringify({ ...base, company: 'x'.repeat(200_000) }) });
    expect(res.status).toBe(413);
    expect(res.json?.message).toEqual(expect.any(String));
  });
  for (const ref of ['abc', '0', '-1', '1e20', '..%2F..%2Fetc'])
    await attack(`locations: a registration route with ref ${ref}`, async () => {
      expect((await call(hubs.lyon, 'GET', `/registrations/${ref}`, { auth: portal })).status).toBe(422);
    });
  const updates: [string, unknown][] = [
    ['a state not in REGISTRATION_STATES', { ...seatUpdate(seated), state: 'hacked' }],
    ['a completion of 5', { ...seatUpdate(seated), completion: 5 }],
    ['an extra key location', { ...seatUpdate(seated), location: 'paris' }],
    ['an end reason of 1000 characters', { ...seatUpdate(seated), endReason: 'x'.repeat(1000) }],
  ];
  for (const [what, u] of updates)
    await attack(`locations: lyon's update of its own registration with ${what}`, async () => {
      const res = await call(hubs.portal, 'POST', '/updates', { auth: lyon, body: { updates: [u] } });
      expect(res.status).toBe(422);
      expect(res.json).toMatchObject({ status: 422, message: 'invalid request', errors: [expect.objectContaining({ field: expect.stringMatching(/^updates\.0/) })] });
    });
  await attack('locations: more than 500 updates at once', async () => {
    expect((await call(hubs.portal, 'POST', '/updates', { auth: lyon, body: { updates: Array.from({ length: 501 }, () => seatUpdate(seated)) } })).status).toBe(422);
  });
  for (const [what, c] of [
    ['a key with a line break', { ...seatCredentials(seated), key: 'a\nb' }],
    ['a 3-character password', { ...seatCredentials(seated), password: 'abc' }],
    ['no deadline', { ...seatCredentials(seated), deadlineAt: undefined }],
  ] as const)
    await attack(`locations: lyon's credentials with ${what}`, async () => {
      expect((await call(hubs.portal, 'POST', '/credentials', { auth: lyon, body: c })).status).toBe(422);
    });
  expect(snapshot()).toEqual(before);
  expect(query(hubs.lyon.dataDir, `SELECT id FROM registrations WHERE external_id = '900100'`)).toEqual([]);
});

test("the tokens are 0600 files of the service's user; only a hash of those issued is kept, and it is no token", async () => {
  const uid = process.getuid!();
  for (const [name, hub] of Object.entries(hubs)) {
    const dir = secretsOf(hub);
    const files = fs.readdirSync(dir);
    expect(files.sort()).toEqual(name === 'portal' ? ['lyon.issued', 'lyon.token', 'paris.issued', 'paris.token'] : ['portal.issued', 'portal.token']);
    await attack(`locations: ${name}'s location secrets open to others or owned by another user`, () => {
      const d = fs.statSync(dir);
      expect([d.mode & 0o777, d.uid]).toEqual([0o700, uid]);
      for (const f of files) {
        const s = fs.statSync(path.join(dir, f));
        expect([f, s.mode & 0o777, s.uid]).toEqual([f, 0o600, uid]);
      }
    });
  }
  // what each side issued is the sha256 of what the other holds, and is refused as a token
  const pairs = [
    ...BACKENDS.map((b) => ({ issuer: hubs[b], issued: 'portal', holder: hubs.portal, held: b, route: ['GET', '/seats'] as const, body: undefined })),
    ...BACKENDS.map((b) => ({ issuer: hubs.portal, issued: b, holder: hubs[b], held: 'portal', route: ['POST', '/updates'] as const, body: { updates: [] } })),
  ];
  for (const p of pairs) {
    const issued = fs.readFileSync(path.join(secretsOf(p.issuer), `${p.issued}.issued`), 'utf8').trim();
    await attack(`locations: the .issued file of ${p.issued} holds a usable token`, async () => {
      expect(issued).toMatch(/^[0-9a-f]{64}$/);
      expect(issued).toBe(crypto.createHash('sha256').update(tokenHeldBy(p.holder, p.held)).digest('hex'));
      expect((await call(p.issuer, p.route[0], p.route[1], { auth: bearer(issued), body: p.body })).status).toBe(401);
    });
  }
});

test('no location token in a log, a mail or a database of any wod', async () => {
  const tokens = [...BACKENDS.map((b) => tokenHeldBy(hubs.portal, b)), ...BACKENDS.map((b) => tokenHeldBy(hubs[b], 'portal'))];
  expect(new Set(tokens).size).toBe(4);
  for (const [name, hub] of Object.entries(hubs)) {
    const logs = fs.readdirSync(hub.dataDir).filter((f) => f.endsWith('.log'));
    expect(logs).toContain('test-run.log');
    const places: Record<string, string> = { 'its output': hub.output() };
    for (const f of logs) places[f] = fs.readFileSync(path.join(hub.dataDir, f), 'utf8');
    for (const f of ['wod.sqlite', 'wod.sqlite-wal'].filter((f) => fs.existsSync(path.join(hub.dataDir, f))))
      places[f] = fs.readFileSync(path.join(hub.dataDir, f)).toString('latin1');
    if (name === 'portal') {
      const outbox = path.join(hub.dataDir, 'outbox');
      for (const f of fs.readdirSync(outbox)) places[`outbox/${f}`] = fs.readFileSync(path.join(outbox, f), 'utf8');
      places['the mails table'] = JSON.stringify(query(hub.dataDir, 'SELECT * FROM mails'));
    }
    for (const [where, text] of Object.entries(places))
      await attack(`locations: a location token in ${name}'s ${where}`, () => {
        for (const t of tokens) expect(text.includes(t)).toBe(false);
      });
  }
});

(asRoot ? test : test.skip)("a student's account reads no location token or hash", async () => {
  // students run as other uids than the service (isolation.test.ts: the whole secrets folder is out of their reach); nobody stands for them here
  for (const [name, hub] of Object.entries(hubs))
    for (const f of fs.readdirSync(secretsOf(hub)))
      await attack(`locations: another account reads ${name}'s secrets/locations/${f}`, () => {
        const read = spawnSync('cat', [path.join(secretsOf(hub), f)], { uid: 65534, gid: 65534, encoding: 'utf8' });
        expect(read.status).not.toBe(0);
        expect(read.stderr).toMatch(/Permission denied/);
        expect(read.stdout).toBe('');
      });
});

// last: it replaces lyon by a fake that answers the start link with addresses off its hub
test("a backend's start link goes to that backend's hub or nowhere: never where the backend says otherwise", async () => {
  const lyonUrl = hubs.lyon.url;
  const port = Number(new URL(lyonUrl).port);
  await loc.backends.lyon.stop();
  const answers = [
    `${lyonUrl}/hub/wod-login?token=fake`, // the control: its own hub
    'https://evil.example/hub/wod-login?token=x',
    `${lyonUrl}.evil.example/hub/wod-login`,
    `${lyonUrl}@evil.example/hub/wod-login`,
    `//evil.example/hub/`,
    `javascript:alert(1)//${lyonUrl}/hub/`,
    `${lyonUrl}/`,
  ];
  let next = 0;
  const fake = http.createServer((req, res) => {
    const startLink = req.method === 'POST' && req.url === `${API}/registrations/${seated}/start-link`;
    res.writeHead(startLink ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(startLink ? { url: answers[next++] } : { status: 404, message: 'not found' }));
  });
  await new Promise<void>((resolve, reject) => fake.once('error', reject).listen(port, '127.0.0.1', resolve));
  try {
    const token = statusToken(sealerOf(hubs.portal), seated);
    const click = async () => {
      const res = await fetch(`${hubs.portal.url}/services/wod/status/${token}/start`, { redirect: 'manual' });
      expect(res.status).toBe(303);
      return res.headers.get('location');
    };
    expect(await click()).toBe(answers[0]);
    for (const url of answers.slice(1))
      await attack(`locations: a backend's start link sends the participant to ${url}`, async () => {
        expect(await click()).toBe(`/services/wod/status/${token}`);
      });
    expect(next).toBe(answers.length);
  } finally {
    await new Promise((resolve) => fake.close(resolve));
  }
});
