/**
 * An admin in real Chromium through the real hub: the dashboard's charts drawn by uPlot (served by
 * wod) from real registrations, then a workshop's live room: the participants with their time
 * left, Extend (the deadline moves), End (asked first), and a participant ended elsewhere leaving
 * the room by itself, without a reload. Screenshots go to /tmp/wod-screens (or $WOD_SCREENSHOTS).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { launchChromium } from '../support/chromium';
import { adminToken, restApi, type RunningHub, sealerOf, startHub } from '../support/hub';
import { until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const FOLDER = 'WKSHP-Room';
const NAME = 'The live room';
let hub: RunningHub;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let token: string;
const ids: number[] = [];
/** what went wrong in the page: console errors and uncaught exceptions */
const pageErrors: string[] = [];
const workshops = tempWorkshops();
const shots = process.env.WOD_SCREENSHOTS ?? '/tmp/wod-screens';

interface Registration {
  state: string;
  student: string | null;
  deadlineAt: string | null;
}
const registration = async (id: number) => (await (await restApi(hub, token, `/admin/registrations/${id}`)).json()) as Registration;

beforeAll(async () => {
  writeWorkshop(workshops, FOLDER, { name: NAME, range: [1, 4], capacity: 4, duration: 2, priority: 1 });
  fs.mkdirSync(shots, { recursive: true });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  token = await adminToken(hub);
  for (const [email, name] of [
    ['ada@example.com', 'Ada Lovelace'],
    ['grace@example.com', 'Grace Hopper'],
  ]) {
    const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, name, company: 'Analytical Engines', workshop: FOLDER, acceptTerms: true }),
    });
    expect(res.status).toBe(201);
    ids.push(((await res.json()) as { registration: { id: number } }).registration.id);
  }
  for (const id of ids)
    await until(
      () => registration(id),
      (r) => r.state === 'ready',
      `registration ${id} ready`,
      150_000,
      500,
    );
  // Ada answers the survey, through her status link.
  const sealer = sealerOf(hub);
  const answered = await fetch(`${hub.url}/services/wod/api/v1/status/${statusToken(sealer, ids[0])}/feedback`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ rating: 4, good: 'the labs', improve: '', recommend: true }),
  });
  expect(answered.status).toBe(200);

  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('console', (m) => void (m.type() === 'error' && pageErrors.push(m.text())));
  page.on('pageerror', (e) => void pageErrors.push(e.message));
  await page.goto(`${hub.url}/hub/login?next=${encodeURIComponent('/services/wod/admin/')}`);
  await page.getByLabel('Username').fill(hub.admin.name);
  await page.getByLabel('Password').fill(hub.admin.password);
}, 300_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: path.join(shots, name), fullPage: true });

interface Stats {
  registrations: { lastDay: { counts: number[] }; lastMonth: { counts: number[] } };
  provision: { overall: { n: number; p50: number | null } };
  surveys: { folder: string; answers: number; ratings: number[] }[];
}

test('the dashboard draws its charts with uPlot from the real registrations', async () => {
  const fetched = page.waitForResponse((r) => r.url().endsWith('/services/wod/api/v1/admin/stats'), { timeout: 60_000 });
  await page.getByRole('button', { name: 'Sign in' }).click();
  const answer = await fetched;
  expect(answer.status()).toBe(200);
  const stats = (await answer.json()) as Stats;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  expect(sum(stats.registrations.lastDay.counts)).toBe(2);
  expect(sum(stats.registrations.lastMonth.counts)).toBe(2);
  expect(stats.provision.overall.n).toBe(2);
  expect(stats.provision.overall.p50).toBeGreaterThan(0);
  expect(stats.surveys.find((s) => s.folder === FOLDER)).toMatchObject({ answers: 1, ratings: [0, 0, 0, 1, 0] });

  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  await page.locator('[data-chart][data-drawn="true"]').nth(4).waitFor();
  // uPlot itself drew them: its root element and a canvas per chart.
  expect(await page.locator('[data-chart] .uplot canvas').count()).toBe(5);
  expect(await page.locator('[data-chart="registrations-day"] figcaption').textContent()).toContain('2 in the last 24 hours');
  expect(await page.locator('[data-chart="surveys"] figcaption').textContent()).toContain(`${FOLDER}: 1 answer, 4.0 / 5 on average`);
  // uPlot came from wod, not from a CDN.
  const uplot = await page.request.get(`${hub.url}/services/wod/admin/assets/uplot/uPlot.iife.min.js`);
  expect(uplot.status()).toBe(200);
  expect(await page.evaluate(() => performance.getEntriesByType('resource').every((e) => new URL(e.name).origin === location.origin))).toBe(true);
  expect(pageErrors).toEqual([]);
  await shot('admin-dashboard.png');
});

test('the room lists the participants; Extend moves the deadline, End asks first, and whoever ends elsewhere leaves by itself', async () => {
  await page.getByRole('link', { name: `Room of ${NAME}` }).click();
  await page.getByRole('heading', { name: new RegExp(`^Room: ${NAME}`) }).waitFor();
  // A mark a reload would wipe: every change below comes from polling.
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  const rows = page.locator('[data-testid="room"] tbody tr');
  await until(
    () => rows.count(),
    (n) => n === 2,
    'two participants in the room',
  );
  const [ada, grace] = await Promise.all(ids.map(registration));
  expect([ada.state, grace.state]).toEqual(['ready', 'ready']);
  const row = (id: number) => page.locator(`[data-testid="room"] tr[data-registration="${id}"]`);
  const left = (id: number) => row(id).locator('[data-cell="left"]');
  expect(await row(ids[0]).locator('[data-cell="student"]').textContent()).toBe(ada.student);
  expect(await row(ids[0]).locator('[data-cell="name"]').textContent()).toBe('Ada Lovelace');
  expect(await left(ids[0]).textContent()).toMatch(/^(1:5\d:\d\d|2:00:00)$/);
  // the hub answered: a last activity, not "unknown"
  expect(await row(ids[0]).locator('[data-cell="activity"]').textContent()).not.toBe('unknown');
  expect(await page.getByTestId('room-status').textContent()).toBe('2 participants');
  expect(await page.getByTestId('room-updated').textContent()).toMatch(/^· updated \d\d:\d\d:\d\d UTC$/);

  await page.getByRole('button', { name: `Extend ${ada.student} (Ada Lovelace) by 30 minutes` }).click();
  const extended = await until(
    () => registration(ids[0]),
    (r) => r.deadlineAt !== ada.deadlineAt,
    'the deadline moved',
  );
  expect(Date.parse(extended.deadlineAt!) - Date.parse(ada.deadlineAt!)).toBe(30 * 60_000);
  await left(ids[0])
    .filter({ hasText: /^2:(2\d|30):\d\d$/ })
    .waitFor();
  await shot('admin-room.png');

  // End asks first: dismissed, nothing happens.
  const end = page.getByRole('button', { name: `End the workshop of ${ada.student} (Ada Lovelace)` });
  page.once('dialog', (d) => void d.dismiss());
  await end.click();
  expect((await registration(ids[0])).state).toBe('ready');
  page.once('dialog', (d) => {
    expect(d.message()).toContain(`End the workshop of ${ada.student} now?`);
    void d.accept();
  });
  await end.click();
  await row(ids[0]).waitFor({ state: 'detached' });
  expect((await registration(ids[0])).state).not.toMatch(/^(ready|reminded)$/);

  // Grace's workshop is ended through the API, not on this page: the next poll takes her out.
  expect((await restApi(hub, token, `/admin/registrations/${ids[1]}/end`, { method: 'POST' })).status).toBe(200);
  await row(ids[1]).waitFor({ state: 'detached', timeout: 15_000 });
  await page.getByText('Nobody is in the room now.').waitFor();
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  expect(pageErrors).toEqual([]);
  await shot('admin-room-empty.png');
});
