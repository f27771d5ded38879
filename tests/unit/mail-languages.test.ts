/**
 * The participant mails speak the registration's language: every kind built in French is French
 * (subject, body, the text part's labels, <html lang>), its placeholders filled; English is worded
 * as it always was; a registration without a language, and an operator's order, speak the site's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Sealer } from '../../hub-service/src/auth/seal';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { loadConfig } from '../../hub-service/src/config/load';
import { Languages } from '../../hub-service/src/i18n/i18n';
import { Letters } from '../../hub-service/src/journey/letters';
import { MailLinks } from '../../hub-service/src/journey/links';
import { createLogger } from '../../hub-service/src/log';
import { levelName, type MailContent, mails, MILESTONES, milestoneSlug, renderHtml, renderText } from '../../hub-service/src/mail-out/content';
import { Mailer } from '../../hub-service/src/mail-out/mailer';
import type { Message } from '../../hub-service/src/mail-out/transport';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const languages = new Languages();
const [en, fr] = [languages.get('en'), languages.get('fr')];
const AT = '2026-11-24T14:05:00.000Z';
const base = { name: 'Ada', workshop: 'Bash', statusUrl: 'https://wod.example/status' };

/** Every kind of mail, with every optional part present. */
const everyKind = (tr = en) => ({
  welcome: mails.welcome(base, tr),
  credentials: mails.credentials(
    { ...base, student: 'student1', password: 'pw', startUrl: 'https://wod.example/start', hubUrl: 'https://wod.example/hub/login', deadlineAt: AT },
    tr,
  ),
  reminder: mails.reminder({ ...base, minutesLeft: 30, startUrl: 'https://wod.example/start', deadlineAt: AT }, tr),
  thanks: mails.thanks(
    {
      ...base,
      completion: 0.75,
      badgeImage: 'https://wod.example/b.svg',
      badgePage: 'https://wod.example/bp',
      surveyUrl: '',
      portalUrl: 'https://wod.example/',
      work: { url: 'https://wod.example/w', expiresAt: AT },
    },
    tr,
  ),
  milestone: mails.milestone({ name: 'Ada', level: 'Apprentice', count: 3, badgePage: 'https://wod.example/bp', badgeImage: 'https://wod.example/a.svg' }, tr),
  feedback: mails.feedback({ ...base, rating: 4, portalUrl: 'https://wod.example/' }, tr),
  apology: mails.apology({ ...base, portalUrl: 'https://wod.example/' }, tr),
  watchdog: mails.watchdog({ workshop: 'Bash', statusUrl: base.statusUrl, interrupted: true, what: 'python3 (pid 7)' }, tr),
});

const ENGLISH = /\b(hello|your|you|the|workshops?|thank|please|username|password)\b/i;
const text = (c: MailContent) => renderText(c, 'wod', 'https://wod.example/');
/** Every word of a mail: subject, preheader, text part and image descriptions. */
const words = (c: MailContent) => [c.subject, c.preheader, text(c), ...c.blocks.flatMap((b) => ('image' in b ? [b.image.alt] : []))].join('\n');

test('English: every mail is worded as it always was', () => {
  const date = en.dateTime(AT);
  const m = everyKind();
  expect(Object.fromEntries(Object.entries(m).map(([kind, c]) => [kind, [c.subject, c.preheader]]))).toEqual({
    welcome: ['Your Bash workshop is being prepared', 'Your login follows in a few seconds.'],
    credentials: ['Your Bash workshop is ready', 'Start it with one click.'],
    reminder: ['Bash: 30 minutes left', 'Save your work before the end.'],
    thanks: ['Thank you for taking Bash', 'Your badge is here.'],
    milestone: ['You are now an Apprentice!', '3 workshops completed.'],
    feedback: ['Thank you for your feedback on Bash', 'We read every answer.'],
    apology: ['We could not prepare your Bash workshop', 'Sorry: please register again.'],
    watchdog: ['A process of yours was interrupted', 'python3 (pid 7)'],
  });
  const footer = ['--', 'wod · https://wod.example/'];
  expect(text(m.welcome).split('\n')).toEqual([
    'Hello Ada,',
    '',
    'thank you for registering for Bash. We are preparing your own JupyterLab now: a second mail with your username, your password and a one-click start link follows in a few seconds.',
    '',
    'Your time starts when your workshop is ready.',
    '',
    'Your status page (time left, end the workshop early): https://wod.example/status',
    '',
    ...footer,
  ]);
  expect(text(m.credentials).split('\n')).toEqual([
    'Hello Ada, your Bash workshop is ready.',
    '',
    'Start my workshop:',
    'https://wod.example/start',
    '',
    'Or log in at https://wod.example/hub/login with:',
    '',
    '  username: student1',
    '  password: pw',
    '',
    `Your workshop is open until ${date}. Save what you want to keep before then: at the end the account and its files are wiped.`,
    '',
    'Your status page (time left, end the workshop early): https://wod.example/status',
    '',
    ...footer,
  ]);
  expect(text(m.reminder).split('\n')).toEqual([
    `Hello Ada, your Bash workshop ends at ${date}, in 30 minutes.`,
    '',
    'Finish what you are doing and download anything you want to keep (right-click a file → Download): at the end the account and its files are wiped.',
    '',
    'Back to my workshop:',
    'https://wod.example/start',
    '',
    'Your status page: https://wod.example/status',
    '',
    ...footer,
  ]);
  expect(text(m.thanks).split('\n')).toEqual([
    'Hello Ada, thank you for taking Bash!',
    '',
    'You ran 75 % of its exercises.',
    '',
    'See and share your badge:',
    'https://wod.example/bp',
    '',
    `Your notebooks and files, as a zip to download until ${date}: https://wod.example/w`,
    '',
    'Two minutes to tell us how it went: https://wod.example/status#feedback',
    '',
    'More workshops: https://wod.example/',
    '',
    ...footer,
  ]);
  expect(m.thanks.blocks).toContainEqual({ image: { src: 'https://wod.example/b.svg', alt: 'Bash badge' } });
  expect(text(m.milestone).split('\n').slice(0, 2)).toEqual(['Congratulations Ada: you have completed 3 workshops and earned the Apprentice badge.', '']);
  expect(m.milestone.blocks).toContainEqual({ image: { src: 'https://wod.example/a.svg', alt: 'Apprentice badge' } });
  expect(text(m.feedback).split('\n')).toEqual([
    'Hello Ada, thank you for rating Bash 4 out of 5. We read every answer, and they shape the next version of the workshop.',
    '',
    'You can change your answer on your status page: https://wod.example/status',
    '',
    'More workshops: https://wod.example/',
    '',
    ...footer,
  ]);
  expect(text(m.apology).split('\n')).toEqual([
    'Hello Ada, we are sorry: something went wrong while preparing your Bash workshop, and it could not be made ready.',
    '',
    'Your seat is free again and nothing was kept. Please register again; if it happens twice, tell us by replying to this mail.',
    '',
    'Register again:',
    'https://wod.example/',
    '',
    ...footer,
  ]);
  expect(text(m.watchdog).split('\n')).toEqual([
    'Hello,',
    '',
    'in your Bash workshop, a notebook cell kept a CPU core fully busy for too long, so it was interrupted (as the ■ button does): python3 (pid 7). Your notebook and its variables are still there.',
    '',
    'Your workshop: https://wod.example/status',
    '',
    ...footer,
  ]);
});

test('French: every kind is French, its placeholders filled, its HTML lang="fr"', () => {
  const m = everyKind(fr);
  expect(Object.fromEntries(Object.entries(m).map(([kind, c]) => [kind, c.subject]))).toEqual({
    welcome: 'Votre atelier Bash est en préparation',
    credentials: 'Votre atelier Bash est prêt',
    reminder: 'Bash\u00a0: plus que 30 minutes',
    thanks: "Merci d'avoir suivi Bash",
    milestone: 'Vous avez gagné le badge Apprenti\u00a0!',
    feedback: 'Merci pour votre avis sur Bash',
    apology: "Nous n'avons pas pu préparer votre atelier Bash",
    watchdog: 'Un de vos processus a été interrompu',
  });
  for (const [kind, c] of Object.entries(m)) {
    const all = words(c);
    expect([kind, all]).toEqual([kind, expect.not.stringMatching(/\{\w+\}/)]);
    // none of English's words is left, in any part
    expect([kind, all]).toEqual([kind, expect.not.stringMatching(ENGLISH)]);
    expect([kind, words(everyKind()[kind as keyof typeof m])]).toEqual([kind, expect.stringMatching(ENGLISH)]);
    expect([kind, all]).toEqual([kind, expect.stringMatching(kind === 'watchdog' ? /^Bonjour,$/m : /\b(Bonjour|Félicitations) Ada\b/)]);
    expect(c.lang).toBe('fr');
    expect(renderHtml(c, loadConfig({ env: {} }).branding, 'https://wod.example/')).toMatch(/^<!doctype html>\n<html lang="fr">/);
  }
  expect(text(m.credentials)).toContain('  identifiant\u00a0: student1\n  mot de passe\u00a0: pw');
  expect(text(m.credentials)).toContain('Démarrer mon atelier\u00a0:\nhttps://wod.example/start');
  expect(text(m.reminder)).toContain(`se termine le ${fr.dateTime(AT)}, dans 30 minutes.`);
  expect(fr.dateTime(AT)).toBe('mar. 24 nov., 14:05 UTC');
  expect(text(m.thanks)).toContain('Vous avez exécuté 75\u00a0% de ses exercices.');
  expect(text(m.thanks)).toContain(`jusqu'au ${fr.dateTime(AT)}\u00a0: https://wod.example/w`);
  expect(text(m.feedback)).toContain('la note de 4 sur 5');
  expect(m.milestone.blocks).toContainEqual({ image: { src: 'https://wod.example/a.svg', alt: 'Badge Apprenti' } });
  // English HTML says so too, and so does a mail written without a language (the watchdog's to the operator)
  const branding = loadConfig({ env: {} }).branding;
  expect(renderHtml(everyKind().welcome, branding, 'u')).toContain('<html lang="en">');
  expect(renderHtml({ subject: 's', preheader: 'p', blocks: [] }, branding, 'u')).toContain('<html lang="en">');
});

test('counts take their plural form', () => {
  const reminder = (tr = en, minutesLeft: number) => mails.reminder({ ...base, minutesLeft, startUrl: null, deadlineAt: AT }, tr);
  expect([reminder(en, 1), reminder(en, 30)].map((c) => c.subject)).toEqual(['Bash: 1 minute left', 'Bash: 30 minutes left']);
  expect(reminder(en, 1).blocks[0]).toEqual({ p: `Hello Ada, your Bash workshop ends at ${en.dateTime(AT)}, in 1 minute.` });
  expect([reminder(fr, 1), reminder(fr, 30)].map((c) => c.subject)).toEqual(['Bash\u00a0: plus que 1 minute', 'Bash\u00a0: plus que 30 minutes']);
  const milestone = (tr = en) => mails.milestone({ name: 'Ada', level: 'Super Hero', count: 10, badgePage: 'p', badgeImage: 'i' }, tr);
  expect([milestone().subject, milestone().preheader]).toEqual(['You are now a Super Hero!', '10 workshops completed.']);
  expect([milestone(fr).subject, milestone(fr).preheader]).toEqual(['Vous avez gagné le badge Super-héros\u00a0!', '10 ateliers terminés.']);
});

test('every milestone has its name and its subject in every language; its slug is the English id', () => {
  for (const language of languages.list) {
    const tr = languages.get(language);
    for (const m of MILESTONES) {
      expect(levelName(tr, m.name)).toBeTruthy();
      expect(mails.milestone({ name: 'A', level: m.name, count: m.count, badgePage: 'p', badgeImage: 'i' }, tr).subject).toBeTruthy();
    }
  }
  expect(MILESTONES.map((m) => milestoneSlug(m.name))).toEqual(['apprentice', 'expert', 'hero', 'super-hero', 'legend']);
  expect(MILESTONES.map((m) => levelName(en, m.name))).toEqual(MILESTONES.map((m) => m.name));
  expect(MILESTONES.map((m) => levelName(fr, m.name))).toEqual(['Apprenti', 'Expert', 'Héros', 'Super-héros', 'Légende']);
});

describe('Letters write in the registration language', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

  function setup(defaultLanguage: string) {
    const root = tempWorkshops();
    roots.push(root);
    writeWorkshop(root, 'WKSHP-A', { range: [1, 10], capacity: 10 });
    const db = openDatabase(path.join(root, 'wod.sqlite'));
    syncPool(db, 10);
    importWorkshops(db, scanWorkshops({ dir: root }, 10), 'test');
    const config = loadConfig({ env: { WOD_PUBLIC_URL: 'https://wod.example.org', WOD_DEFAULT_LANGUAGE: defaultLanguage } });
    const sent: Message[] = [];
    const links = new MailLinks(db, new Sealer('k'.repeat(64)), config.publicUrl);
    const mailer = new Mailer(
      db,
      { send: async (m) => void sent.push(m) },
      links,
      config,
      createLogger('error', 't', () => {}),
    );
    const letters = new Letters(db, mailer, links, config, languages);
    const registrations = new Registrations(db, { onCreated: (id) => letters.welcome(id) });
    const register = (email: string, language: string | null) =>
      registrations.register({ email, name: 'Ada', company: 'ACME', workshop: 'WKSHP-A', acceptTerms: true }, { source: 'portal', language }).id;
    const welcome = (id: number) => db.prepare(`SELECT subject, html FROM mails WHERE kind = 'welcome' AND registration_id = ?`).get(id) as { subject: string; html: string };
    return { db, letters, register, welcome, sent };
  }

  test('its own language, else the site default', () => {
    const site = setup('en');
    const [fr1, none] = [site.register('fr@example.com', 'fr'), site.register('none@example.com', null)];
    expect(site.welcome(fr1).subject).toBe('Votre atelier A workshop est en préparation');
    expect(site.welcome(fr1).html).toContain('<html lang="fr">');
    expect(site.welcome(none).subject).toBe('Your A workshop workshop is being prepared');
    site.db.prepare(`UPDATE registrations SET state = 'cleaned', completion = 0.5 WHERE id = ?`).run(fr1);
    site.letters.thanks(fr1);
    site.letters.feedback(fr1, 5);
    site.letters.apology(fr1);
    expect(
      (site.db.prepare(`SELECT kind, subject FROM mails WHERE registration_id = ? ORDER BY id`).all(fr1) as { kind: string; subject: string }[]).map((m) => [m.kind, m.subject]),
    ).toEqual([
      ['welcome', 'Votre atelier A workshop est en préparation'],
      ['thanks', "Merci d'avoir suivi A workshop"],
      ['feedback', 'Merci pour votre avis sur A workshop'],
      ['apology', "Nous n'avons pas pu préparer votre atelier A workshop"],
    ]);
    const french = setup('fr');
    expect(french.welcome(french.register('none@example.com', null)).subject).toBe('Votre atelier A workshop est en préparation');
    french.db.close();
    site.db.close();
  });

  test('the credentials: the registration language; an operator order, the site default', async () => {
    const site = setup('fr');
    const id = site.register('en@example.com', 'en');
    site.db.prepare(`UPDATE registrations SET state = 'ready', deadline_at = ? WHERE id = ?`).run(AT, id);
    await site.letters.credentials({ registrationId: id, student: 'student1', password: 'pw', workshop: { folder: 'WKSHP-A', name: 'A workshop' } });
    await site.letters.credentials({ registrationId: null, student: 'student2', password: 'pw2', deadlineAt: AT, workshop: { folder: 'WKSHP-A', name: 'A workshop' } });
    expect(site.sent.map((m) => m.subject)).toEqual(['Your A workshop workshop is ready', 'Votre atelier A workshop est prêt']);
    expect(site.sent[0].text).toContain('  username: student1');
    expect(site.sent[1].text).toMatch(/^Bonjour opérateur, votre atelier A workshop est prêt\./);
    expect(site.sent[1].text).toContain('  identifiant\u00a0: student2');
    expect(site.sent[1].html).toContain('<html lang="fr">');
    site.db.close();
  });
});
