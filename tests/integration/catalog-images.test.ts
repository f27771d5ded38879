/**
 * Catalog images as the original portal found them, through the running service: a bare badge name
 * (`WOD-Badge-X`, no extension) and an avatar name found in the site assets folder
 * (`workshops.assetsDir`), and names found nowhere, which show wod's drawn badge and avatar (HTTP
 * 200 images, never a 404) on the catalog, the workshop page, the badge page and in the API.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Browser } from '../support/browser';
import { type RunningHub, startHub } from '../support/hub';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const BADGE = 'not really a JPEG: the badge of WKSHP-Found';
const SPEAKER = 'not really a PNG: Karthick';

let hub: RunningHub;
const workshops = tempWorkshops();
const assets = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-assets-'));

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-Found', { name: 'Found workshop', range: [1, 5], badgeImg: 'WOD-Badge-X', avatar: 'karthick', workshopImg: 'penguin' });
  writeWorkshop(workshops, 'WKSHP-Lost', {
    name: 'Lost workshop',
    range: [6, 10],
    presenter: 'Grace Hopper',
    badgeImg: 'WOD-Badge-Gone',
    avatar: 'nobody',
    workshopImg: 'nothing',
  });
  fs.mkdirSync(path.join(assets, 'badges'));
  fs.mkdirSync(path.join(assets, 'wod', 'SpeakerImages'), { recursive: true });
  fs.writeFileSync(path.join(assets, 'badges', 'WOD-Badge-X.jpg'), BADGE);
  fs.writeFileSync(path.join(assets, 'wod', 'SpeakerImages', 'karthick.png'), SPEAKER);
  fs.writeFileSync(path.join(assets, 'penguin.jpg'), 'penguin');
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_WORKSHOPS_ASSETS_DIR: assets, WOD_LIFECYCLE_PAUSED: 'true' } });
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
  fs.rmSync(assets, { recursive: true, force: true });
});

const page = (p: string) => new Browser(hub.url).request(`/services/wod${p}`);
const srcs = (html: string) => [...html.matchAll(/<img[^>]* src="([^"]+)"/g)].map((m) => m[1]);

test('a bare badge name in the site assets folder is that image, on the workshop page and in the API', async () => {
  const w = await page('/workshops/WKSHP-Found');
  expect(w.status).toBe(200);
  expect(srcs(w.text)).toEqual(
    expect.arrayContaining(['/services/wod/assets/penguin.jpg', '/services/wod/assets/wod/SpeakerImages/karthick.png', '/services/wod/assets/badges/WOD-Badge-X.jpg']),
  );
  const badge = await page('/assets/badges/WOD-Badge-X.jpg');
  expect(badge.status).toBe(200);
  expect(badge.headers.get('content-type')).toBe('image/jpeg');
  expect(badge.text).toBe(BADGE);
  const avatar = await page('/assets/wod/SpeakerImages/karthick.png');
  expect([avatar.status, avatar.headers.get('content-type'), avatar.text]).toEqual([200, 'image/png', SPEAKER]);

  const api = JSON.parse((await page('/api/v1/workshops/WKSHP-Found')).text) as Record<string, unknown>;
  expect(api).toMatchObject({
    badgeImg: '/services/wod/assets/badges/WOD-Badge-X.jpg',
    avatar: '/services/wod/assets/wod/SpeakerImages/karthick.png',
    workshopImg: '/services/wod/assets/penguin.jpg',
  });
  const shared = await page('/badges/workshop/WKSHP-Found');
  expect(shared.text).toContain(`<meta property="og:image" content="${hub.url}/services/wod/assets/badges/WOD-Badge-X.jpg">`);
});

test('names found nowhere show the drawn badge and avatar, HTTP 200 images; the card goes without a picture', async () => {
  const catalog = await page('/');
  const w = await page('/workshops/WKSHP-Lost');
  for (const html of [catalog.text, w.text]) expect(srcs(html)).toContain('/services/wod/workshops/WKSHP-Lost/avatar.svg');
  expect(srcs(w.text)).toContain('/services/wod/badges/finisher.svg');
  expect(srcs(w.text).some((s) => s.includes('nothing'))).toBe(false);
  for (const src of [...srcs(catalog.text), ...srcs(w.text)]) {
    const image = await new Browser(hub.url).request(src);
    expect([src, image.status, image.headers.get('content-type')?.startsWith('image/')]).toEqual([src, 200, true]);
  }
  const drawn = await page('/workshops/WKSHP-Lost/avatar.svg');
  expect(drawn.headers.get('content-type')).toBe('image/svg+xml');
  expect(drawn.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'");
  expect(drawn.text).toContain('>GH</text>');

  const api = JSON.parse((await page('/api/v1/workshops/WKSHP-Lost')).text) as Record<string, unknown>;
  expect(api).toMatchObject({ badgeImg: '/services/wod/badges/finisher.svg', avatar: '/services/wod/workshops/WKSHP-Lost/avatar.svg', workshopImg: null });
  const shared = await page('/badges/workshop/WKSHP-Lost');
  expect(shared.text).toContain(`<meta property="og:image" content="${hub.url}/services/wod/badges/finisher.svg">`);
});
