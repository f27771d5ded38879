/**
 * More time from the lab's clock, in real Chromium through the real hub: in the last ten minutes of
 * a workshop with `extend`, the warning and the top bar offer 30 more minutes; asked, the service
 * grants it, the clock follows the new deadline and the offer goes (it was the only one).
 * Screenshots go to /tmp/wod-screens (or $WOD_SCREENSHOTS), outside the repository.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { adminToken, restApi, type RunningHub, startHub } from '../support/hub';
import { credentialsIn, waitForMail } from '../support/outbox';
import { until } from '../support/wait';
import { NOTEBOOK, tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
let browser: Browser;
const workshops = tempWorkshops();
const shots = process.env.WOD_SCREENSHOTS ?? '/tmp/wod-screens';

beforeAll(async () => {
  const dir = writeWorkshop(workshops, 'WKSHP-More', { name: 'More time', range: [1, 2], capacity: 2, duration: 2, extend: { minutes: 30, times: 1 } });
  // a conclusion apart from the notebook that opens, so that the survey is not asked meanwhile
  fs.writeFileSync(path.join(dir, '9-Conclusion.ipynb'), NOTEBOOK);
  fs.mkdirSync(shots, { recursive: true });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const dialog = (page: Page, title: string) => page.locator('.jp-Dialog').filter({ has: page.locator('.jp-Dialog-header', { hasText: title }) });
const clockText = async (page: Page) => (await page.locator('#wod-clock .wod-TopBarItem-value').textContent())!;

test('the ten-minute warning offers more time; granted, the clock follows the new deadline', async () => {
  const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'grace@example.com', name: 'Grace Hopper', company: 'Navy', workshop: 'WKSHP-More', acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { registration: { id: number } }).registration.id;
  const { startUrl } = credentialsIn(await waitForMail(hub.dataDir, (m) => !!m.subject?.includes('is ready'), 90_000));

  const page = await (await browser.newContext({ viewport: { width: 1366, height: 800 } })).newPage();
  await page.goto(startUrl!);
  await page.locator('#wod-clock').waitFor({ timeout: 60_000 });
  // Two hours left: too early to ask, so no offer.
  expect(await page.locator('#wod-extend-button').isVisible()).toBe(false);

  // Nine minutes left (as the passing time would make it).
  const db = new Database(path.join(hub.dataDir, 'wod.sqlite'));
  db.prepare('UPDATE registrations SET deadline_at = ? WHERE id = ?').run(new Date(Date.now() + 9 * 60_000).toISOString(), id);
  db.close();
  await page.reload();
  const warning = dialog(page, '10 minutes left');
  await warning.waitFor({ timeout: 60_000 });
  await page.locator('#wod-extend-button', { hasText: '+30 min' }).waitFor({ state: 'visible' });
  await page.screenshot({ path: path.join(shots, 'lab-extend-offer.png') });
  await warning.getByRole('button', { name: 'Ask for 30 more minutes' }).click();

  const granted = dialog(page, 'More time granted');
  await granted.waitFor({ timeout: 30_000 });
  const admin = await adminToken(hub);
  const { deadlineAt } = (await (await restApi(hub, admin, `/admin/registrations/${id}`)).json()) as { deadlineAt: string };
  expect(Date.parse(deadlineAt) - Date.now()).toBeGreaterThan(38 * 60_000);
  await granted.getByRole('button', { name: 'OK' }).click();
  // The clock re-reads the deadline: about 39 minutes, no longer critical; the offer is gone.
  expect(
    await until(
      () => clockText(page),
      (t) => /^3[89]:\d\d$/.test(t),
      'the clock on the new deadline',
    ),
  ).toMatch(/^3[89]:/);
  expect(await page.locator('#wod-clock').getAttribute('data-urgency')).toBe('warning');
  await page.locator('#wod-extend-button').waitFor({ state: 'hidden' });
  // the ten-minute call is due again before the new end, and only one dialog was ever opened for it
  expect(JSON.parse((await page.evaluate((r) => localStorage.getItem(`@wod/labextension:alerts:${r}`), id)) ?? '[]')).toEqual([]);
  expect(await page.locator('.jp-Dialog').count()).toBe(0);
  await page.screenshot({ path: path.join(shots, 'lab-extended.png') });
});
