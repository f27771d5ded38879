/**
 * Exercise checks, end to end in real Chromium through the real hub: a workshop with two cells
 * tagged wod-check, one passing and one failing; the top bar says 1 of 2, the admin API shows it
 * once reported, and CLEANUP stores what the saved notebook holds.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser } from 'playwright-core';
import { accessibilityViolations } from '../support/axe';
import { Browser as HttpBrowser } from '../support/browser';
import { launchChromium } from '../support/chromium';
import { adminToken, restApi, type RunningHub, startHub } from '../support/hub';
import { credentialsIn, waitForMail } from '../support/outbox';
import { query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
let browser: Browser;
let token: string;
const workshops = tempWorkshops();
const FOLDER = 'WKSHP-Checks';

const code = (id: string, source: string, tags: string[] = []) => ({ cell_type: 'code', id, metadata: { tags }, source: [source], execution_count: null, outputs: [] });
const NOTEBOOK = JSON.stringify({
  cells: [code('work', 'x = 1'), code('pass', 'assert x == 1\nprint("ok")', ['wod-check']), code('fail', 'assert x == 2, "Not yet"', ['wod-check'])],
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  nbformat: 4,
  nbformat_minor: 5,
});

beforeAll(async () => {
  const dir = writeWorkshop(workshops, FOLDER, { name: 'Checks', range: [1, 2], capacity: 2, duration: 2 }, { notebook: NOTEBOOK });
  // A conclusion of its own, so the survey is not asked over the notebook with the checks.
  fs.writeFileSync(path.join(dir, '1-Conclusion.ipynb'), JSON.stringify({ cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 }));
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_TIMERS_END_GRACE_SECONDS: '0' } });
  token = await adminToken(hub);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

type Registration = { state: string; checks: { passed: number; total: number } | null };
const registration = async (id: number) => (await (await restApi(hub, token, `/admin/registrations/${id}`)).json()) as Registration;
const stored = (id: number) => query(hub.dataDir, 'SELECT checks_passed AS passed, checks_total AS total FROM registrations WHERE id = ?', id)[0];

test('a participant sees checks passed as cells run; admins see them live and as CLEANUP counts them', async () => {
  const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'ada@example.com', name: 'Ada Lovelace', company: 'Engines', workshop: FOLDER, acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { registration: { id: number } }).registration.id;
  const { student, startUrl } = credentialsIn(await waitForMail(hub.dataDir, (m) => !!m.subject?.includes('is ready'), 90_000));

  const page = await (await browser.newContext({ viewport: { width: 1366, height: 800 } })).newPage();
  await page.goto(startUrl!);
  const checks = page.locator('#wod-checks');
  await checks.filter({ hasText: '0/2' }).waitFor({ timeout: 60_000 });
  expect(await checks.getAttribute('aria-label')).toBe('Checks: 0 of 2 passed');

  // Run the three cells: the check that asserts the truth passes, the other fails with an error.
  await page.locator('.jp-StatusBar-TextItem', { hasText: 'Python 3 (ipykernel) | Idle' }).waitFor({ timeout: 60_000 });
  await page.locator('.jp-NotebookPanel:visible .jp-CodeCell .jp-InputArea-editor').first().click();
  for (const key of ['Shift+Enter', 'Shift+Enter', 'Control+Enter']) await page.keyboard.press(key);
  await page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').first().waitFor({ timeout: 60_000 });
  await checks.filter({ hasText: '1/2' }).waitFor({ timeout: 30_000 });
  expect(await checks.getAttribute('aria-label')).toBe('Checks: 1 of 2 passed');
  expect(await checks.getAttribute('role')).toBe('status');
  expect(await accessibilityViolations(page, ['#wod-checks'])).toEqual([]);

  // Reported with the progress: the admin API shows it live.
  await until(
    () => registration(id),
    (r) => r.checks?.passed === 1,
    'checks reported',
  );
  expect((await registration(id)).checks).toEqual({ passed: 1, total: 2 });
  // ... and the panel: the registration, the list and the live room.
  const admin = new HttpBrowser(hub.url);
  await admin.hubLogin(hub.admin.name, hub.admin.password);
  expect((await admin.request(`/services/wod/admin/registrations/${id}`)).text).toMatch(/data-testid="checks">checks 1\/2 passed/);
  expect((await admin.request('/services/wod/admin/registrations')).text).toMatch(/data-testid="checks">checks 1\/2</);
  const room = (await (await restApi(hub, token, `/admin/workshops/${FOLDER}/room`)).json()) as { participants: Registration[] };
  expect(room.participants[0].checks).toEqual({ passed: 1, total: 2 });

  // Saved, then ended: CLEANUP counts the saved notebook again, whatever was reported last.
  await page.keyboard.press('Control+s');
  const saved = path.join(hub.dataDir, 'homes', student!, FOLDER, '0-ReadMeFirst.ipynb');
  await until(
    () => (JSON.parse(fs.readFileSync(saved, 'utf8')) as { cells: { execution_count: number | null }[] }).cells.filter((c) => c.execution_count !== null).length,
    (n) => n === 3,
    'the notebook saved with its runs',
  );
  await page.close();
  const db = new Database(path.join(hub.dataDir, 'wod.sqlite'));
  db.prepare('UPDATE registrations SET checks_passed = 0, checks_total = 0 WHERE id = ?').run(id);
  db.close();
  expect((await restApi(hub, token, `/admin/registrations/${id}/end`, { method: 'POST' })).status).toBe(200);
  await until(
    () => registration(id),
    (r) => r.state === 'cleaned',
    'cleaned',
    120_000,
  );
  expect(stored(id)).toEqual({ passed: 1, total: 2 });
  expect((await registration(id)).checks).toEqual({ passed: 1, total: 2 });
});
