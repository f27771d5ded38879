/** A new participant registers through the real form in Chromium, as a person would. */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { type RunningHub, startHub } from '../support/hub';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
let browser: Browser;
const workshops = tempWorkshops();
const shots = process.env.WOD_SCREENSHOTS; // a folder to keep screenshots in, when set

beforeAll(async () => {
  const dir = writeWorkshop(workshops, 'WKSHP-Python101', {
    name: 'Python 101 - A simple introduction to Python',
    description: 'Variables, lists, loops and functions, in a JupyterLab of your own. No installation needed.',
    range: [1, 10], capacity: 10, priority: 1, avatar: 'avatar.svg', category: ['Open Source', 'Programming'],
    replayLink: 'https://example.org/replay',
  });
  fs.writeFileSync(path.join(dir, 'avatar.svg'), '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><circle cx="20" cy="20" r="20" fill="#7630ea"/></svg>');
  writeWorkshop(workshops, 'WKSHP-Bash101', { name: 'Bash 101', range: [11, 20], capacity: 10, priority: 2, category: 'Open Source' });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_LIFECYCLE_PAUSED: 'true' } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

test('browse the catalog, open a workshop, register, land on "check your mail"', async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(`${hub.url}/services/wod/`);
  await page.getByRole('heading', { name: 'Workshops-on-Demand', level: 1 }).waitFor();
  const cards = page.locator('article.card h3');
  expect(await cards.allTextContents()).toEqual(['Python 101 - A simple introduction to Python', 'Bash 101']);
  if (shots) await page.screenshot({ path: path.join(shots, 'catalog.png'), fullPage: true });

  await page.getByRole('link', { name: 'Programming' }).click();
  expect(await page.locator('article.card h3').allTextContents()).toEqual(['Python 101 - A simple introduction to Python']);

  await page.locator('article.card').first().getByRole('link', { name: 'Register' }).click();
  await page.getByRole('heading', { name: 'Register' }).waitFor();
  // a mistake first: the error summary appears and the form keeps what was typed
  await page.getByLabel('Email').fill('not an email');
  await page.getByLabel('Full name').fill('Ada Lovelace');
  await page.getByRole('button', { name: 'Register for the workshop' }).click();
  await page.getByRole('heading', { name: 'Please check the form' }).waitFor();
  expect(await page.getByRole('alert').textContent()).toMatch(/Email: is not a valid email address/);
  expect(await page.getByLabel('Full name').inputValue()).toBe('Ada Lovelace');
  if (shots) await page.screenshot({ path: path.join(shots, 'register-errors.png'), fullPage: true });

  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Company or school').fill('Analytical Engines');
  await page.getByLabel(/I have read and accept/).check();
  await page.getByRole('button', { name: 'Register for the workshop' }).click();
  await page.getByRole('heading', { name: 'Check your mail' }).waitFor();
  expect(await page.locator('main').textContent()).toContain('ada@example.com');
  expect(page.url()).toMatch(/\/services\/wod\/registered\/\d+\.[\w-]+$/);
  if (shots) await page.screenshot({ path: path.join(shots, 'registered.png'), fullPage: true });

  // the avatar image is served from the workshop folder
  const avatar = await page.request.get(`${hub.url}/services/wod/workshops/WKSHP-Python101/assets/avatar.svg`);
  expect(avatar.headers()['content-type']).toBe('image/svg+xml');
});
