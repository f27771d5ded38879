/**
 * A student in their JupyterLab, in real Chromium through the real hub: the clock and the progress
 * in the top bar, progress moving as cells run (a Python and a Bash notebook), reported to the
 * service, the survey asked when the conclusion opens, stored, changed, and listed in the admin
 * panel; the ten-minute warning; nothing at all for a user without a workshop.
 * Screenshots go to /tmp/wod-screens (or $WOD_SCREENSHOTS), outside the repository.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { Browser as HttpBrowser } from '../support/browser';
import { accessibilityViolations } from '../support/axe';
import { launchChromium } from '../support/chromium';
import { adminToken, type RunningHub, startHub } from '../support/hub';
import { credentialsIn, waitForMail } from '../support/outbox';
import { until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
let browser: Browser;
let token: string;
const workshops = tempWorkshops();
const shots = process.env.WOD_SCREENSHOTS ?? '/tmp/wod-screens';
const FOLDER = 'WKSHP-Lab';

const notebook = (kernel: 'python3' | 'bash', cells: [type: 'code' | 'markdown', source: string][]) =>
  JSON.stringify({
    cells: cells.map(([type, source], i) => ({ cell_type: type, id: `c${i}`, metadata: {}, source: [source], ...(type === 'code' ? { execution_count: null, outputs: [] } : {}) })),
    metadata: { kernelspec: kernel === 'bash' ? { name: 'bash', display_name: 'Bash', language: 'bash' } : { name: 'python3', display_name: 'Python 3', language: 'python' } },
    nbformat: 4,
    nbformat_minor: 5,
  });

beforeAll(async () => {
  const dir = writeWorkshop(
    workshops,
    FOLDER,
    { name: 'Lab extension', range: [1, 3], capacity: 3, duration: 2 },
    {
      notebook: notebook('python3', [
        ['markdown', '# Welcome {{ STUDENT }}'],
        ['code', 'print("hello")'],
      ]),
    },
  );
  fs.writeFileSync(
    path.join(dir, '1-Shell.ipynb'),
    notebook('bash', [
      ['markdown', '# The shell'],
      ['code', 'echo one'],
      ['code', 'echo two'],
    ]),
  );
  fs.writeFileSync(
    path.join(dir, '2-Conclusion.ipynb'),
    notebook('python3', [
      ['markdown', '# Well done'],
      ['code', 'print("the end")'],
    ]),
  );
  fs.mkdirSync(shots, { recursive: true });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000', WOD_TIMERS_END_GRACE_SECONDS: '60' } });
  token = await adminToken(hub);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const api = async <T>(p: string): Promise<T> => {
  const res = await fetch(`${hub.url}/services/wod/api/v1${p}`, { headers: { Authorization: `token ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
};
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, name) });
const clock = (page: Page) => page.locator('#wod-clock');
const progress = (page: Page) => page.locator('#wod-progress .wod-TopBarItem-value');
/** Moves a registration's deadline, as an admin's extension or the passing time would. */
const setDeadline = (id: number, msFromNow: number) => {
  const db = new Database(path.join(hub.dataDir, 'wod.sqlite'));
  db.prepare('UPDATE registrations SET deadline_at = ? WHERE id = ?').run(new Date(Date.now() + msFromNow).toISOString(), id);
  db.close();
};
const dialog = (page: Page, title: string) => page.locator('.jp-Dialog').filter({ has: page.locator('.jp-Dialog-header', { hasText: title }) });

/**
 * Runs the open notebook's code cells one by one, as a student does: Shift+Enter, and Ctrl+Enter on
 * the last (which would otherwise add a cell), once its kernel is up.
 */
async function runCells(page: Page, kernel: string, expectAfterEach: string[]): Promise<void> {
  await page.locator('.jp-StatusBar-TextItem', { hasText: `${kernel} | Idle` }).waitFor({ timeout: 60_000 });
  await page.locator('.jp-NotebookPanel:visible .jp-CodeCell .jp-InputArea-editor').first().click();
  for (const [i, expected] of expectAfterEach.entries()) {
    await page.keyboard.press(i < expectAfterEach.length - 1 ? 'Shift+Enter' : 'Control+Enter');
    await progress(page).filter({ hasText: expected }).waitFor({ timeout: 60_000 });
  }
}

test('a student sees the time left and the progress, moves it by running cells, and answers the survey at the conclusion', async () => {
  const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'grace@example.com', name: 'Grace Hopper', company: 'Navy', workshop: FOLDER, acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { registration: { id: number } }).registration.id;
  const mail = await waitForMail(hub.dataDir, (m) => !!m.subject?.includes('is ready'), 90_000);
  const { student, startUrl } = credentialsIn(mail);

  const context = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  const page = await context.newPage();
  await page.goto(startUrl!);
  expect(new URL(page.url()).pathname).toBe(`/user/${student}/lab/tree/${FOLDER}/0-ReadMeFirst.ipynb`);

  // The clock counts down from two hours, calm; the progress starts at nothing done.
  await clock(page).waitFor({ timeout: 60_000 });
  const read = async () => (await clock(page).locator('.wod-TopBarItem-value').textContent())!;
  // Seconds left are rounded up: a page that loads within a second of the deadline being set reads 2:00:00.
  expect(await read()).toMatch(/^(1:5\d:\d\d|2:00:00)$/);
  const first = await read();
  await page.waitForFunction((before) => document.querySelector('#wod-clock .wod-TopBarItem-value')?.textContent !== before, first);
  expect(await clock(page).getAttribute('data-urgency')).toBe('calm');
  expect(await clock(page).getAttribute('aria-label')).toMatch(/^Workshop: 1 hour 5\d minutes left$/);
  await progress(page).filter({ hasText: '0/4 · 0 %' }).waitFor();
  expect(await page.locator('#wod-progress').getAttribute('aria-valuenow')).toBe('0');
  // Both sit in JupyterLab's top bar, and pass the accessibility check (tests/support/axe.ts).
  expect(await page.locator('#jp-top-panel #wod-clock, #jp-top-panel #wod-progress').count()).toBe(2);
  expect(await accessibilityViolations(page, ['#wod-clock', '#wod-progress'])).toEqual([]);

  // The Python notebook opened first: one cell.
  await runCells(page, 'Python 3 (ipykernel)', ['1/4 · 25 %']);
  // The Bash notebook: another kernel, the same rule.
  await page.goto(`${hub.url}/user/${student}/lab/tree/${FOLDER}/1-Shell.ipynb`);
  // The Python cell's run was not saved before leaving: the file counts, as it would at CLEANUP.
  await progress(page).filter({ hasText: '0/4 · 0 %' }).waitFor();
  await runCells(page, 'Bash', ['1/4 · 25 %', '2/4 · 50 %']);
  await shot(page, 'lab-progress.png');
  // Reported to the service, throttled: admins see it live.
  const seen = await until(
    () => api<{ progress: { executed: number; total: number } | null }>(`/admin/registrations/${id}`),
    (r) => r.progress?.executed === 2,
    'progress reported',
  );
  expect(seen.progress).toMatchObject({ executed: 2, total: 4 });
  await page.keyboard.press('Control+s');
  // Saved on disk before the page goes: what the reload below counts.
  const saved = path.join(hub.dataDir, 'homes', student, FOLDER, '1-Shell.ipynb');
  const executed = async () =>
    (JSON.parse(fs.readFileSync(saved, 'utf8')) as { cells: { cell_type: string; execution_count: number | null }[] }).cells.filter(
      (c) => c.cell_type === 'code' && c.execution_count !== null,
    ).length;
  await until(executed, (n) => n === 2, 'the Bash notebook saved with its two runs');

  // The conclusion asks for the survey; a missing rating is said in the form.
  await page.goto(`${hub.url}/user/${student}/lab/tree/${FOLDER}/2-Conclusion.ipynb`);
  const survey = dialog(page, 'How was the workshop?');
  await survey.waitFor({ timeout: 60_000 });
  await shot(page, 'lab-survey.png');
  await survey.getByRole('button', { name: 'Send' }).click();
  await survey.getByText('Choose a rating from 1 to 5.').waitFor();
  expect(await accessibilityViolations(page, ['.jp-Dialog'])).toEqual([]);
  await survey.getByLabel('4').check();
  // Enter in a text box starts a new line (the dialog would take it for Send).
  await survey.getByLabel('What was good?').pressSequentially('The shell lab');
  await page.keyboard.press('Enter');
  await page.keyboard.type('and the pipes');
  expect(await survey.count()).toBe(1);
  await survey.getByLabel('What should we improve?').fill('More <exercises>');
  await survey.getByLabel('Yes').check();
  await survey.getByRole('button', { name: 'Send' }).click();
  await survey.waitFor({ state: 'detached' });
  const button = page.locator('#wod-survey-button');
  await button.filter({ hasText: 'Your feedback ✓' }).waitFor();
  // What the saved notebooks hold counts after a reload: the two Bash cells.
  await progress(page).filter({ hasText: '2/4 · 50 %' }).waitFor();

  const stored = await api<{ survey: { rating: number; good: string; improve: string; recommend: boolean } }>(`/admin/registrations/${id}`);
  expect(stored.survey).toMatchObject({ rating: 4, good: 'The shell lab\nand the pipes', improve: 'More <exercises>', recommend: true });

  // Changeable until the end: the form opens with the answer given.
  await button.click();
  const again = dialog(page, 'How was the workshop?');
  await again.waitFor();
  expect(await again.getByLabel('4').isChecked()).toBe(true);
  expect(await again.getByLabel('What was good?').inputValue()).toBe('The shell lab\nand the pipes');
  await again.getByLabel('5').check();
  await again.getByRole('button', { name: 'Save changes' }).click();
  await again.waitFor({ state: 'detached' });
  await until(
    () => api<{ survey: { rating: number } }>(`/admin/registrations/${id}`),
    (r) => r.survey.rating === 5,
    'changed answer stored',
  );

  // The admin panel lists the answer, escaped...
  const admin = new HttpBrowser(hub.url);
  await admin.hubLogin(hub.admin.name, hub.admin.password);
  const panel = await admin.request('/services/wod/admin/surveys');
  expect(panel.status).toBe(200);
  const row = panel.text.match(new RegExp(`<tr id="survey-${id}">[\\s\\S]*?</tr>`))![0];
  expect(row).toMatch(/grace@example\.com[\s\S]*WKSHP-Lab[\s\S]*5 \/ 5[\s\S]*yes[\s\S]*The shell lab[\s\S]*More &lt;exercises&gt;/);
  // ... with the live progress, on the registration and in the list
  const detail = await admin.request(`/services/wod/admin/registrations/${id}`);
  expect(detail.text).toMatch(/data-testid="progress">2\/4 code cells run \(50 %\)/);
  expect((await admin.request('/services/wod/admin/registrations')).text).toMatch(/>50 %<\/span> <span class="muted">live</);
  const listed = await api<{ total: number; summary: { meanRating: number } }>(`/admin/surveys?workshop=${FOLDER}`);
  expect(listed).toMatchObject({ total: 1, summary: { meanRating: 5 } });

  // Ten minutes before the end: red, and told to save.
  setDeadline(id, 9 * 60_000);
  await page.reload();
  const warning = dialog(page, '10 minutes left');
  await warning.waitFor({ timeout: 60_000 });
  expect(await clock(page).getAttribute('data-urgency')).toBe('critical');
  expect(await read()).toMatch(/^[89]:\d\d$/);
  await shot(page, 'lab-ten-minutes.png');
  expect(await accessibilityViolations(page, ['.jp-Dialog', '#wod-clock'])).toEqual([]);
  await warning.getByRole('button', { name: 'Save all' }).click();
  await warning.waitFor({ state: 'detached' });
  // Given once: a reload does not repeat it. The warning is decided at a tick that finds the time
  // critical and opened once the app is restored: after both, and two ticks more, a repeat would be open.
  await page.reload();
  await clock(page).waitFor({ timeout: 60_000 });
  await until(
    () => clock(page).getAttribute('data-urgency'),
    (u) => u === 'critical',
    'the clock critical after the reload',
  );
  await page.locator('#jupyterlab-splash').waitFor({ state: 'detached', timeout: 60_000 });
  for (let tick = 0; tick < 2; tick++) {
    const before = await read();
    await page.waitForFunction((b) => document.querySelector('#wod-clock .wod-TopBarItem-value')?.textContent !== b, before);
  }
  expect(await page.locator('.jp-Dialog').count()).toBe(0);
  expect(JSON.parse((await page.evaluate((r) => localStorage.getItem(`@wod/labextension:alerts:${r}`), id)) ?? '[]')).toEqual(['ten-minutes']);

  // The deadline passes: the page says so at zero, in the grace before the service stops the server.
  setDeadline(id, 20_000);
  await page.reload();
  await clock(page).waitFor({ timeout: 60_000 });
  const end = dialog(page, 'Time is up');
  await end.waitFor({ timeout: 90_000 });
  expect(await clock(page).getAttribute('data-urgency')).toBe('over');
  expect(await read()).toBe('0:00');
  await shot(page, 'lab-time-is-up.png');
  expect(await accessibilityViolations(page, ['.jp-Dialog', '#wod-clock'])).toEqual([]);
  await context.close();
});

test('a user without a workshop sees nothing of it', async () => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${hub.url}/hub/login`);
  await page.getByLabel('Username').fill(hub.admin.name);
  await page.getByLabel('Password').fill(hub.admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The extension is loaded and asks the service, which says: no workshop.
  const asked = page.waitForResponse((r) => r.url().includes('/services/wod/api/v1/me') && r.request().method() === 'GET', { timeout: 90_000 });
  await page.goto(`${hub.url}/hub/spawn`);
  const answer = await asked;
  expect(answer.status()).toBe(404);
  // The answer read in full and the app restored (the splash gone): what the extension adds for a
  // workshop it adds on that answer. It asks no more after a 404, so nothing later can be waited for.
  await answer.finished();
  await page.locator('#jp-top-panel').waitFor();
  await page.locator('#jupyterlab-splash').waitFor({ state: 'detached', timeout: 60_000 });
  expect(await page.locator('#wod-clock, #wod-progress, #wod-survey-button').count()).toBe(0);
  await context.close();
});
