/**
 * Every page a participant or an admin reads, checked by axe-core in real Chromium with real data:
 * the portal (catalog, a workshop, the form with its errors, "check your mail", the terms, a badge),
 * a participant's status page, and every page of the admin panel, a workshop's live room included.
 * No serious or critical violation is allowed. The extension's widgets and dialogs are checked in
 * tests/browser/lab.test.ts, where they are opened.
 */
import fs from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { accessibilityViolations } from '../support/axe';
import { launchChromium } from '../support/chromium';
import { adminToken, restApi, type RunningHub, sealerOf, startHub } from '../support/hub';
import { until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const FOLDER = 'WKSHP-Access';
let hub: RunningHub;
let browser: Browser;
let context: BrowserContext;
let id: number;
const workshops = tempWorkshops();

beforeAll(async () => {
  writeWorkshop(workshops, FOLDER, { name: 'Accessible workshops', range: [1, 3], capacity: 3, duration: 2, priority: 1, category: 'Programming' });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'ada@example.com', name: 'Ada Lovelace', company: 'Analytical Engines', workshop: FOLDER, acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  id = ((await res.json()) as { registration: { id: number } }).registration.id;
  const token = await adminToken(hub);
  await until(
    async () => ((await (await restApi(hub, token, `/admin/registrations/${id}`)).json()) as { state: string }).state,
    (s) => s === 'ready',
    'the registration ready',
    150_000,
    500,
  );
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
}, 300_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

async function check(page: Page, url: string): Promise<{ url: string; violations: unknown[] }> {
  const res = await page.goto(`${hub.url}${url}`);
  expect(res?.status()).toBe(200);
  return { url, violations: await accessibilityViolations(page) };
}

test('the portal and a status page: no serious or critical violation', async () => {
  const page = await context.newPage();
  const sealer = sealerOf(hub);
  const results = [];
  for (const url of [
    '/services/wod/',
    `/services/wod/workshops/${FOLDER}`,
    `/services/wod/workshops/${FOLDER}/register`,
    '/services/wod/terms',
    `/services/wod/status/${statusToken(sealer, id)}`,
  ])
    results.push(await check(page, url));

  // the form with its errors, as a person who forgot everything sees it
  await page.goto(`${hub.url}/services/wod/workshops/${FOLDER}/register`);
  await page.locator('form button[type=submit]').first().click();
  await page.waitForLoadState('load');
  results.push({ url: 'the register form with its errors', violations: await accessibilityViolations(page) });

  // "check your mail", after a real registration through the form
  await page.goto(`${hub.url}/services/wod/workshops/${FOLDER}/register`);
  await page.getByLabel('Email').fill('grace@example.com');
  await page.getByLabel('Full name').fill('Grace Hopper');
  await page.getByLabel('Company or school').fill('Navy');
  await page.getByLabel(/I have read and accept/).check();
  await page.locator('form button[type=submit]').first().click();
  await page.waitForURL(/\/registered\//);
  results.push({ url: 'check your mail', violations: await accessibilityViolations(page) });

  expect(results.filter((r) => r.violations.length)).toEqual([]);
  expect(results).toHaveLength(7);
});

test('every page of the admin panel, the live room included: no serious or critical violation', async () => {
  const page = await context.newPage();
  await page.goto(`${hub.url}/hub/login?next=${encodeURIComponent('/services/wod/admin/')}`);
  await page.getByLabel('Username').fill(hub.admin.name);
  await page.getByLabel('Password').fill(hub.admin.password);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL(/\/services\/wod\/admin\/$/);
  const token = await adminToken(hub);
  const jobs = (await (await restApi(hub, token, '/admin/jobs')).json()) as { items: { id: number }[] };
  const mails = (await (await restApi(hub, token, '/admin/mails')).json()) as { items: { id: number }[] };
  const results = [];
  for (const url of [
    '',
    'workshops',
    'registrations',
    `registrations/${id}`,
    'surveys',
    'mails',
    `mails/${mails.items[0].id}`,
    'pool',
    'jobs',
    `jobs/${jobs.items[0].id}`,
    'actions',
    `workshops/${FOLDER}/room`,
  ]) {
    const result = await check(page, `/services/wod/admin/${url}`);
    // the room fills its table from the API: checked with its rows
    if (url.endsWith('/room')) {
      await page.getByText('Ada Lovelace').waitFor();
      result.violations = await accessibilityViolations(page);
    }
    results.push(result);
  }
  expect(results.filter((r) => r.violations.length)).toEqual([]);
});
