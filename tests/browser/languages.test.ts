/**
 * A French browser, end to end in real Chromium through a real hub: the portal speaks French, the
 * registration remembers it, its mails are French, and the participant's JupyterLab opens in French
 * (JupyterLab's own menus from the language pack, wod's widgets from its `wod` domain). The footer's
 * picker then turns the status page to English. Screenshots go to /tmp/wod-screens (or $WOD_SCREENSHOTS).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { type RunningHub, startHub } from '../support/hub';
import { waitForMail } from '../support/outbox';
import { query } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
let browser: Browser;
const workshops = tempWorkshops();
const shots = process.env.WOD_SCREENSHOTS ?? '/tmp/wod-screens';

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-Langues', { name: 'Python 101', range: [1, 2], capacity: 2, duration: 2 });
  fs.mkdirSync(shots, { recursive: true });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const lang = (page: Page) => page.locator('html').getAttribute('lang');

test('a French browser registers in French, gets French mails, and its JupyterLab speaks French', async () => {
  const context = await browser.newContext({ locale: 'fr-FR', viewport: { width: 1366, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${hub.url}/services/wod/`);
  expect(await lang(page)).toBe('fr');
  await page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Ateliers' }).waitFor();
  await page.getByRole('link', { name: "S'inscrire à Python 101" }).click();
  await page.getByRole('heading', { name: 'Inscription', level: 1 }).waitFor();

  // a mistake first: the error is French too
  await page.getByLabel('Adresse e-mail').fill('pas une adresse');
  await page.getByRole('button', { name: "S'inscrire à l'atelier" }).click();
  const summary = page.getByRole('alert').filter({ hasText: 'Veuillez vérifier le formulaire' });
  await summary.waitFor();
  expect(await summary.textContent()).toContain("L'adresse e-mail n'est pas une adresse e-mail valide");

  await page.getByLabel('Adresse e-mail').fill('marie@example.fr');
  await page.getByLabel('Nom complet').fill('Marie Curie');
  await page.getByLabel('Entreprise ou école').fill('Sorbonne');
  await page.getByLabel(/J'ai lu et j'accepte/).check();
  await page.getByRole('button', { name: "S'inscrire à l'atelier" }).click();
  await page.getByRole('heading', { name: 'Consultez vos e-mails' }).waitFor();
  await page.screenshot({ path: path.join(shots, 'registered-fr.png') });
  expect(query(hub.dataDir, `SELECT language FROM registrations`)).toEqual([{ language: 'fr' }]);

  const welcome = await waitForMail(hub.dataDir, (m) => m.subject === 'Votre atelier Python 101 est en préparation');
  expect(welcome.text).toMatch(/^Bonjour Marie Curie,$/m);
  expect(welcome.html).toMatch(/<html lang="fr">/);
  const credentials = await waitForMail(hub.dataDir, (m) => m.subject === 'Votre atelier Python 101 est prêt', 90_000);
  expect(credentials.text).toMatch(/^ {2}identifiant\u00a0: student[12]$/m);
  const startUrl = credentials.text!.match(/(http\S+\/hub\/wod-login\?token=\S+)/)![1];
  const statusUrl = welcome.text!.match(/(http\S+\/services\/wod\/status\/\S+)/)![1];

  // the lab: JupyterLab's menus and wod's widgets
  await page.goto(startUrl);
  await page.locator('#wod-clock').waitFor({ timeout: 60_000 });
  await page.locator('.lm-MenuBar-itemLabel', { hasText: 'Fichier' }).first().waitFor();
  expect(await page.locator('#wod-clock .wod-TopBarItem-label').textContent()).toBe('Temps restant');
  expect(await page.locator('#wod-clock').getAttribute('aria-label')).toMatch(/^Atelier\u00a0: il reste (1 heure \d+ minutes?|2 heures)$/);
  expect(await page.locator('#wod-progress .wod-TopBarItem-label').textContent()).toBe('Progression');
  await page.screenshot({ path: path.join(shots, 'lab-fr.png') });

  // the status page speaks the registration's language, the picker turns it to English and that is kept
  await page.goto(statusUrl);
  expect(await lang(page)).toBe('fr');
  await page.getByRole('link', { name: 'Ouvrir mon JupyterLab' }).waitFor();
  await page.getByRole('navigation', { name: 'Langue' }).getByRole('link', { name: 'English' }).click();
  await page.getByRole('link', { name: 'Open my JupyterLab' }).waitFor();
  expect(await lang(page)).toBe('en');
  await page.goto(statusUrl);
  expect(await lang(page)).toBe('en');
  await context.close();
});
