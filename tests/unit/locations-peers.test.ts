/**
 * The tokens between locations (locations/peers.ts), over a temporary data folder: an issued token
 * is kept as its hash only and identifies its peer in its role alone; issuing again retires the
 * first; only a token made by `issue` is accepted; the files are 0600 in a 0700 folder, and one
 * found readable by others is refused rather than trusted.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../hub-service/src/config/load';
import { Peers } from '../../hub-service/src/locations/peers';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function setup() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-peers-'));
  dirs.push(dataDir);
  const config = loadConfig({
    env: {
      WOD_DATA_DIR: dataDir,
      WOD_LOCATIONS_NAME: 'portal',
      WOD_LOCATIONS_BACKENDS: JSON.stringify([{ name: 'lyon', url: 'https://lyon.example.org' }]),
      WOD_LOCATIONS_PORTALS: JSON.stringify([{ name: 'hq', url: 'https://hq.example.org' }]),
    },
  });
  const dir = path.join(dataDir, 'secrets', 'locations');
  return { peers: new Peers(config), dir, file: (name: string) => path.join(dir, name) };
}
const modeOf = (f: string) => fs.statSync(f).mode & 0o777;
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

test('an issued token identifies its peer; issued again, only the new one does; only its hash is kept', () => {
  const { peers, file } = setup();
  const first = peers.issue('lyon');
  expect(first).toMatch(/^wodloc_[\w-]{43}$/);
  expect(peers.identify(first, 'backend')).toMatchObject({ name: 'lyon', role: 'backend', url: 'https://lyon.example.org' });
  const second = peers.issue('lyon');
  expect(second).not.toBe(first);
  expect(peers.identify(first, 'backend')).toBeNull();
  expect(peers.identify(second, 'backend')?.name).toBe('lyon');
  expect(fs.readFileSync(file('lyon.issued'), 'utf8')).toBe(`${sha256(second)}\n`);
  // the kept hash is no token
  expect(peers.identify(sha256(second), 'backend')).toBeNull();
});

test('a token identifies a peer in its own role only, and nothing else identifies anyone', () => {
  const { peers } = setup();
  const lyon = peers.issue('lyon');
  const hq = peers.issue('hq');
  expect(peers.identify(lyon, 'portal')).toBeNull();
  expect(peers.identify(hq, 'backend')).toBeNull();
  expect(peers.identify(hq, 'portal')?.name).toBe('hq');
  for (const t of ['', 'wodloc_', `${lyon}x`, lyon.slice(0, -1), `wodloc_${crypto.randomBytes(32).toString('base64url')}`]) expect(peers.identify(t, 'backend')).toBeNull();
});

test('issue and accept only for a configured peer; accept refuses anything not made by issue', () => {
  const { peers, file } = setup();
  expect(() => peers.issue('paris')).toThrow(/paris is not in locations.backends or locations.portals/);
  const token = `wodloc_${crypto.randomBytes(32).toString('base64url')}`;
  expect(() => peers.accept('paris', token)).toThrow(/paris is not in locations/);
  for (const bad of [
    '',
    'secret',
    token.slice(0, -1),
    `${token}A`,
    `${token}\n`,
    `${token}\nwodloc_x`,
    ` ${token}`,
    token.replace('wodloc_', 'wodlo_'),
    `wodloc_${'a'.repeat(42)}!`,
  ])
    expect(() => peers.accept('lyon', bad)).toThrow(/that is not a token made by 'wod locations issue'/);
  expect(fs.existsSync(file('lyon.token'))).toBe(false);
  expect(peers.tokenFor('lyon')).toBeNull();
  peers.accept('lyon', token);
  expect(peers.tokenFor('lyon')).toBe(token);
  expect(peers.state()).toEqual([
    { name: 'lyon', role: 'backend', url: 'https://lyon.example.org', issued: false, accepted: true },
    { name: 'hq', role: 'portal', url: 'https://hq.example.org', issued: false, accepted: false },
  ]);
});

test('the files are 0600 in a 0700 folder, whatever the umask; one readable by others is refused', () => {
  const { peers, dir, file } = setup();
  const old = process.umask(0o000);
  try {
    peers.issue('lyon');
    peers.accept('hq', peers.issue('hq'));
  } finally {
    process.umask(old);
  }
  expect(modeOf(dir)).toBe(0o700);
  expect(fs.readdirSync(dir).sort()).toEqual(['hq.issued', 'hq.token', 'lyon.issued']);
  for (const f of fs.readdirSync(dir)) expect([f, modeOf(file(f))]).toEqual([f, 0o600]);

  fs.chmodSync(file('hq.token'), 0o644);
  expect(() => peers.tokenFor('hq')).toThrow(/hq\.token must not be readable by others \(chmod 600 it\)/);
  const lyon = peers.issue('lyon');
  fs.chmodSync(file('lyon.issued'), 0o640);
  expect(() => peers.identify(lyon, 'backend')).toThrow(/lyon\.issued must not be readable by others/);
  // a folder opened up is closed again at the next write
  fs.chmodSync(dir, 0o755);
  peers.issue('hq');
  expect(modeOf(dir)).toBe(0o700);
});
