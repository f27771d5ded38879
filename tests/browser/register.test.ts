/**
 * A new participant registers through the real form in Chromium, as a person would, on a phone-sized
 * screen. Screenshots go to /tmp/wod-screens (or $WOD_SCREENSHOTS), outside the repository.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Sealer } from '../../hub-service/src/auth/seal';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { launchChromium } from '../support/chromium';
import { type RunningHub, startHub } from '../support/hub';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
let browser: Browser;
let context: BrowserContext;
const workshops = tempWorkshops();
const shots = process.env.WOD_SCREENSHOTS ?? '/tmp/wod-screens';
const PYTHON = 'Python 101 - A simple introduction to Python';

const avatar = (colour: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><circle cx="20" cy="20" r="20" fill="${colour}"/><circle cx="20" cy="16" r="7" fill="#fff"/><path d="M8 34c2-8 22-8 24 0" fill="#fff"/></svg>`;

beforeAll(async () => {
  const python = writeWorkshop(workshops, 'WKSHP-Python101', {
    name: PYTHON,
    description:
      'Variables, lists, loops and functions, in a JupyterLab of your own. No installation needed: all you need is a web browser. Each lab checks your answers as you go, and the conclusion shows how far you got.',
    range: [1, 10],
    capacity: 10,
    priority: 1,
    duration: 2,
    avatar: 'avatar.svg',
    category: ['Open Source', 'Programming'],
    presenter: 'Ada Lovelace',
    role: 'Developer advocate',
    replayLink: 'https://example.org/replay',
  });
  fs.writeFileSync(path.join(python, 'avatar.svg'), avatar('#7630ea'));
  const bash = writeWorkshop(workshops, 'WKSHP-Bash101', {
    name: 'Bash 101',
    description: 'Files, pipes and loops at the command line.',
    range: [11, 20],
    capacity: 10,
    priority: 2,
    category: 'Open Source',
    presenter: 'Linus Torvalds',
    role: 'Engineer',
    avatar: 'avatar.svg',
  });
  fs.writeFileSync(path.join(bash, 'avatar.svg'), avatar('#01a982'));
  fs.mkdirSync(shots, { recursive: true });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_LIFECYCLE_PAUSED: 'true', WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.url });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, name), fullPage: true });
/** Nothing wider than the screen: no sideways scrolling on a phone. */
const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

test('browse the catalog, open a card\'s form, make a mistake, register, land on "check your mail"', async () => {
  const page = await context.newPage();
  await page.goto(`${hub.url}/services/wod/`);
  await page.getByRole('heading', { name: 'Workshops-on-Demand', level: 1 }).waitFor();
  expect(await page.locator('article.card h3').allTextContents()).toEqual([PYTHON, 'Bash 101']);
  expect(await fitsWidth(page)).toBe(true);
  await shot(page, 'catalog.png');
  // The first stop of the keyboard is the skip link.
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');

  await page.getByRole('link', { name: /^Programming/ }).click();
  expect(await page.locator('article.card h3').allTextContents()).toEqual([PYTHON]);
  expect(await page.getByRole('link', { name: /^Programming/ }).getAttribute('aria-current')).toBe('page');

  await page.getByRole('link', { name: `Register for ${PYTHON}` }).click();
  await page.getByRole('heading', { name: 'Register', level: 1 }).waitFor();
  expect(await fitsWidth(page)).toBe(true);
  await shot(page, 'register.png');

  // A mistake first: the error summary appears, takes the focus, and the form keeps what was typed.
  await page.getByLabel('Email').fill('not an email');
  await page.getByLabel('Full name').fill('Ada Lovelace');
  await page.getByRole('button', { name: 'Register for the workshop' }).click();
  const summary = page.getByRole('alert').filter({ hasText: 'Please check the form' });
  await summary.waitFor();
  expect(await summary.textContent()).toMatch(/Email is not a valid email address/);
  expect(await page.evaluate(() => document.activeElement?.classList.contains('error-summary'))).toBe(true);
  expect(await page.getByLabel('Full name').inputValue()).toBe('Ada Lovelace');
  expect(await page.getByLabel('Email').getAttribute('aria-invalid')).toBe('true');
  await shot(page, 'register-errors.png');
  // Its links lead to the fields.
  await summary.getByRole('link', { name: /Company or school/ }).click();
  expect(page.url()).toMatch(/#company$/);

  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Company or school').fill('Analytical Engines');
  await page.getByLabel(/I have read and accept/).check();
  await page.getByRole('button', { name: 'Register for the workshop' }).click();
  await page.getByRole('heading', { name: 'Check your mail' }).waitFor();
  expect(await page.locator('main').textContent()).toContain('ada@example.com');
  expect(page.url()).toMatch(/\/services\/wod\/registered\/\d+\.[\w-]+$/);
  expect(await fitsWidth(page)).toBe(true);
  await shot(page, 'registered.png');

  // The avatar image is served from the workshop folder.
  const image = await page.request.get(`${hub.url}/services/wod/workshops/WKSHP-Python101/assets/avatar.svg`);
  expect(image.headers()['content-type']).toBe('image/svg+xml');
  await page.close();
});

test('a workshop page shares its link, copied with one click', async () => {
  const page = await context.newPage();
  await page.goto(`${hub.url}/services/wod/workshops/WKSHP-Bash101`);
  await page.getByRole('heading', { name: 'Bash 101', level: 1 }).waitFor();
  expect(await fitsWidth(page)).toBe(true);
  await shot(page, 'workshop.png');
  await page.getByRole('button', { name: 'Copy', exact: true }).click();
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${hub.url}/services/wod/workshops/WKSHP-Bash101`);
  await page.close();
});

test('the status page on a phone, and a wider catalog', async () => {
  const key = fs.readFileSync(path.join(hub.dataDir, 'secrets', 'session-key'), 'utf8').trim();
  const page = await context.newPage();
  await page.goto(`${hub.url}/services/wod/status/${statusToken(new Sealer(key), 1)}`);
  await page.getByText('Your workshop is being prepared').waitFor();
  expect(await fitsWidth(page)).toBe(true);
  await shot(page, 'status.png');
  // Ready (the lifecycle is paused here: the test plays the CREATE job's part): the start button shows.
  const db = new Database(path.join(hub.dataDir, 'wod.sqlite'));
  db.prepare(`UPDATE registrations SET state = 'ready', ready_at = ?, deadline_at = ? WHERE id = 1`).run(new Date().toISOString(), new Date(Date.now() + 7_000_000).toISOString());
  db.close();
  await page.reload();
  await page.getByRole('link', { name: 'Open my JupyterLab' }).waitFor();
  expect(await page.getByText(/1 h 56 min left/).count()).toBe(1);
  expect(await fitsWidth(page)).toBe(true);
  await shot(page, 'status-ready.png');
  await page.close();

  const wide = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await wide.goto(`${hub.url}/services/wod/`);
  await shot(wide, 'catalog-wide.png');
  await wide.goto(`${hub.url}/services/wod/workshops/WKSHP-Python101`);
  await shot(wide, 'workshop-wide.png');
  await wide.close();
});
