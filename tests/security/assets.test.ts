/**
 * Security suite: the site assets route (`/assets/*`, config workshops.assetsDir) and image names in
 * wod.yml serve images of their folder only: no `..`, encoded or not, no encoded slash or
 * backslash, no symbolic link out, no dot-file, no folder, nothing but image types; over real HTTP.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { attack } from '../support/attacks';
import { Browser } from '../support/browser';
import { type RunningHub, startHub } from '../support/hub';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const SECRET = 'the secret next to the assets folder';
let hub: RunningHub;
const workshops = tempWorkshops();
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-assets-attack-'));
const assets = path.join(root, 'img');

beforeAll(async () => {
  fs.mkdirSync(path.join(assets, 'badges', 'a', 'b'), { recursive: true });
  fs.writeFileSync(path.join(assets, 'badges', 'WOD-Badge-Ok.jpg'), 'ok');
  fs.writeFileSync(path.join(assets, 'badges', 'a', 'b', 'too-deep.png'), 'deep');
  fs.writeFileSync(path.join(assets, '.hidden.png'), 'hidden');
  fs.writeFileSync(path.join(assets, 'notes.txt'), 'not an image');
  fs.mkdirSync(path.join(assets, 'folder.png'));
  fs.writeFileSync(path.join(root, 'secret.png'), SECRET);
  fs.symlinkSync(path.join(root, 'secret.png'), path.join(assets, 'badges', 'leak.png'));
  fs.symlinkSync(root, path.join(assets, 'escape'));
  // Names in wod.yml that try to reach the secret: each resolves to nothing, so the drawn badge.
  writeWorkshop(workshops, 'WKSHP-Sneaky', { range: [1, 5], badgeImg: '../../secret.png', avatar: '/img/../secret.png', workshopImg: '/img/escape/secret.png' });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_WORKSHOPS_ASSETS_DIR: assets, WOD_LIFECYCLE_PAUSED: 'true' } });
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
  fs.rmSync(root, { recursive: true, force: true });
});

const get = (p: string) => new Browser(hub.url).request(`/services/wod${p}`);

test('the assets route serves its images, and refuses every way out of its folder', async () => {
  const ok = await get('/assets/badges/WOD-Badge-Ok.jpg');
  expect([ok.status, ok.headers.get('content-type'), ok.text]).toEqual([200, 'image/jpeg', 'ok']);
  for (const p of [
    '../secret.png',
    '..%2Fsecret.png',
    '%2E%2E/secret.png',
    '%2e%2e%2fsecret.png',
    'badges/..%2F..%2Fsecret.png',
    'badges%2F..%2F..%2Fsecret.png',
    '..%5Csecret.png',
    'badges/leak.png',
    'escape/secret.png',
    '.hidden.png',
    'notes.txt',
    'folder.png',
    'badges/a/b/too-deep.png',
    'badges/WOD-Badge-Ok.jpg%00.png',
    '%00/secret.png',
  ]) {
    await attack(`assets route: /assets/${p}`, async () => {
      const res = await get(`/assets/${p}`);
      expect([p, res.status]).toEqual([p, 404]);
      expect(res.text).not.toContain(SECRET);
    });
  }
  await attack('assets route: unnormalised ../ through the proxy', async () => {
    const res = await new Browser(hub.url).request('/services/wod/assets/../../../secret.png');
    expect(res.text).not.toContain(SECRET);
    expect(res.status).toBe(404);
  });
});

test('image names in wod.yml cannot reach outside their folders: they resolve to the drawn images', () =>
  attack('wod.yml: badgeImg ../../secret.png, avatar /img/../secret.png, workshopImg through a symbolic link', async () => {
    const api = JSON.parse((await get('/api/v1/workshops/WKSHP-Sneaky')).text) as Record<string, unknown>;
    expect(api).toMatchObject({ badgeImg: '/services/wod/badges/finisher.svg', avatar: '/services/wod/workshops/WKSHP-Sneaky/avatar.svg', workshopImg: null });
    const w = await get('/workshops/WKSHP-Sneaky');
    expect(w.text).not.toContain('secret');
  }));
