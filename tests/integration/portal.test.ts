/** The portal's pages over real HTTP through the hub's proxy. */
import fs from 'node:fs';
import path from 'node:path';
import { Sealer } from '../../hub-service/src/auth/seal';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { Browser } from '../support/browser';
import { type RunningHub, startHub } from '../support/hub';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
const workshops = tempWorkshops();

beforeAll(async () => {
  const dir = writeWorkshop(workshops, 'WKSHP-Open', { name: 'Open workshop', range: [1, 5], capacity: 5, priority: 1, badgeImg: 'badge.svg', category: ['Data'] });
  fs.writeFileSync(path.join(dir, 'badge.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeWorkshop(workshops, 'WKSHP-Tiny', { name: 'Tiny workshop', range: [6, 6], capacity: 1, priority: 2 });
  writeWorkshop(workshops, 'WKSHP-Hidden', { name: 'Hidden workshop', range: [7, 8], capacity: 1, active: false });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_LIFECYCLE_PAUSED: 'true', WOD_BRANDING_NAME: 'ACME Academy' } });
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const page = (p: string, init?: Parameters<Browser['request']>[1]) => new Browser(hub.url).request(`/services/wod${p}`, init);
const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
  follow: false,
});
const person = { email: 'grace@example.com', name: 'Grace Hopper', company: 'Navy', acceptTerms: 'on' };

test('the catalog: branding, open workshops by priority, tabs, inactive ones hidden', async () => {
  const home = await page('/');
  expect(home.status).toBe(200);
  expect(home.text).toContain('<title>Workshops · ACME Academy</title>');
  const titles = [...home.text.matchAll(/<h3 id="t-[^"]+"><a href="[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]);
  expect(titles).toEqual(['Open workshop', 'Tiny workshop']);
  expect(home.text).not.toContain('Hidden workshop');
  const data = await page('/?tab=category-data');
  expect(data.text).toContain('Open workshop');
  expect(data.text).not.toContain('Tiny workshop');
  expect((await page('/workshops/WKSHP-Hidden')).status).toBe(404);
  expect((await page('/workshops/..%2F..%2Fetc')).status).toBe(404);
});

test('a workshop page with OpenGraph tags; its images, and nothing else, are served', async () => {
  const w = await page('/workshops/WKSHP-Open');
  expect(w.status).toBe(200);
  expect(w.text).toContain('<meta property="og:title" content="Open workshop">');
  const badge = await page('/workshops/WKSHP-Open/assets/badge.svg');
  expect(badge.status).toBe(200);
  expect(badge.headers.get('content-type')).toBe('image/svg+xml');
  expect(badge.headers.get('content-security-policy')).toContain("default-src 'none'");
  expect((await page('/workshops/WKSHP-Open/assets/wod.yml')).status).toBe(404);
  expect((await page('/workshops/WKSHP-Open/assets/..%2F..%2Fwod.sqlite.png')).status).toBe(404);
});

test('register: field errors keep the input; success goes to "check your mail"; a second time is refused clearly', async () => {
  const bad = await page('/workshops/WKSHP-Open/register', form({ ...person, email: 'nope', acceptTerms: '' }));
  expect(bad.status).toBe(422);
  expect(bad.text).toContain('Please check the form');
  expect(bad.text).toContain('value="Grace Hopper"');
  const ok = await page('/workshops/WKSHP-Open/register', form(person));
  expect(ok.status).toBe(303);
  const ticket = ok.headers.get('location')!;
  expect(ticket).toMatch(/^\/services\/wod\/registered\/\d+\.[\w-]+$/);
  const mailPage = await new Browser(hub.url).request(ticket);
  expect(mailPage.text).toContain('Check your mail');
  expect(mailPage.text).toContain('grace@example.com');
  expect((await new Browser(hub.url).request(ticket.replace(/\.[\w-]+$/, '.forgedforgedforgedforged'))).status).toBe(404);

  const again = await page('/workshops/WKSHP-Tiny/register', form(person));
  expect(again.status).toBe(409);
  expect(again.text).toMatch(/already registered for Open workshop/);
});

test('a full workshop says so on its card', async () => {
  const first = await page('/workshops/WKSHP-Tiny/register', form({ ...person, email: 'alan@example.com' }));
  expect(first.status).toBe(303);
  const home = await page('/');
  const tiny = home.text.slice(home.text.indexOf('Tiny workshop'));
  expect(tiny.slice(0, 1500)).toContain('Currently full, please try again later');
  const refused = await page('/workshops/WKSHP-Tiny/register', form({ ...person, email: 'ken@example.com' }));
  expect(refused.status).toBe(409);
  expect(refused.text).toContain('is full at the moment');
});

test('the status page: signed link, time and state, end with confirmation', async () => {
  const sealer = new Sealer(fs.readFileSync(path.join(hub.dataDir, 'secrets', 'session-key'), 'utf8').trim());
  const token = statusToken(sealer, 1); // Grace's registration, the first
  const status = await page(`/status/${token}`);
  expect(status.status).toBe(200);
  expect(status.headers.get('cache-control')).toBe('no-store');
  expect(status.text).toContain('Your workshop is being prepared');
  expect(status.text).toContain('End my workshop now');
  const unconfirmed = await page(`/status/${token}/end`, form({}));
  expect(unconfirmed.status).toBe(422);
  const ended = await page(`/status/${token}/end`, form({ confirm: 'yes' }));
  expect(ended.status).toBe(303);
  const after = await new Browser(hub.url).request(ended.headers.get('location')!);
  expect(after.text).toContain('Your workshop has ended');
  expect(after.text).not.toContain('End my workshop now');
  expect((await page(`/status/1.${'x'.repeat(43)}`)).status).toBe(404);
});

test('the terms page', async () => {
  const terms = await page('/terms');
  expect(terms.status).toBe(200);
  expect(terms.text).toContain('Terms of use');
});
