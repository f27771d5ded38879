/**
 * The public portal over real HTTP through the hub's proxy: catalog and tabs, workshop pages and
 * their images, the register form and its outcomes, "check your mail", the terms, and the
 * participant's status page. Workshops are this test's own, in a temporary folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Sealer } from '../../hub-service/src/auth/seal';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { Browser } from '../support/browser';
import { adminToken, type RunningHub, sealerOf, startHub } from '../support/hub';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const AVATAR = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><circle cx="20" cy="20" r="20" fill="#7630ea"/></svg>';
/** The smallest PNG there is: one transparent pixel. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');
const LONG = `${'Clean, reshape and chart real data sets with pandas, step by step, in a JupyterLab of your own. '.repeat(5)}The end of the first paragraph.`;

let hub: RunningHub;
let token: string; // an admin's hub API token
const workshops = tempWorkshops();
const outside = path.join(workshops, 'outside.png');

beforeAll(async () => {
  const zeta = writeWorkshop(workshops, 'WKSHP-Zeta', {
    name: 'Zeta: data wrangling',
    description: `${LONG}\n\nA second paragraph, only on the workshop page.`,
    priority: 1,
    range: [1, 5],
    capacity: 5,
    duration: 2,
    category: ['Data', 'Python'],
    presenter: 'Grace Hopper',
    role: 'Rear admiral',
    avatar: 'avatar.svg',
    badgeImg: 'Pictures/badge.png',
    replayLink: 'https://example.org/replay/zeta',
  });
  fs.writeFileSync(path.join(zeta, 'avatar.svg'), AVATAR);
  fs.mkdirSync(path.join(zeta, 'Pictures', 'deeper'), { recursive: true });
  fs.writeFileSync(path.join(zeta, 'Pictures', 'badge.png'), PNG);
  fs.writeFileSync(path.join(zeta, 'Pictures', 'deeper', 'too-deep.png'), PNG);
  fs.writeFileSync(path.join(zeta, '.hidden.png'), PNG);
  fs.writeFileSync(outside, PNG);
  fs.symlinkSync(outside, path.join(zeta, 'leak.png'));
  fs.mkdirSync(path.join(zeta, 'folder.png'));

  const alpha = writeWorkshop(workshops, 'WKSHP-Alpha', {
    name: 'Alpha & <Omega>',
    description: 'Shell basics. <script>alert("x")</script>',
    priority: 2,
    range: [6, 6],
    capacity: 1,
    duration: 1.5,
    category: 'Programming',
    avatar: 'avatar.svg',
  });
  fs.writeFileSync(path.join(alpha, 'avatar.svg'), AVATAR);
  writeWorkshop(workshops, 'WKSHP-Hidden', { name: 'Hidden workshop', range: [7, 8], capacity: 1, active: false });

  hub = await startHub({
    env: {
      WOD_WORKSHOPS_DIR: workshops,
      WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000',
      WOD_REGISTRATION_PER_EMAIL_PER_HOUR: '3',
      WOD_LIFECYCLE_PAUSED: 'true', // registrations stay 'registered': this tests the pages, not the jobs
      WOD_BRANDING_NAME: 'ACME Academy',
      WOD_BRANDING_PRIVACY_URL: 'https://acme.example/privacy',
    },
  });
  token = await adminToken(hub);
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
const cardTitles = (html: string) => [...html.matchAll(/<h3 id="t-[^"]+"><a href="[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]);
/** The HTML of one workshop's card on a catalog page. */
const card = (html: string, folder: string) => {
  const start = html.indexOf(`<article class="card" aria-labelledby="t-${folder}">`);
  expect(start).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</article>', start));
};
const registrations = async () => {
  const res = await fetch(`${hub.url}/services/wod/api/v1/admin/registrations`, { headers: { Authorization: `token ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { total: number; items: { id: number; state: string; participant: { email: string } }[] };
};

describe('catalog', () => {
  test('branding, open workshops by priority with the card details, inactive ones hidden', async () => {
    const home = await page('/');
    expect(home.status).toBe(200);
    expect(home.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(home.text).toContain('<title>Workshops · ACME Academy</title>');
    expect(home.text).toMatch(/<a class="skip" href="#main">/);
    expect(home.text).toMatch(/<main id="main"/);
    expect(cardTitles(home.text)).toEqual(['Zeta: data wrangling', 'Alpha &amp; &lt;Omega&gt;']);
    expect(home.text).not.toContain('<script>alert');
    expect(home.text).not.toContain('Hidden workshop');

    const zeta = card(home.text, 'WKSHP-Zeta');
    expect(zeta).toContain('<img src="/services/wod/workshops/WKSHP-Zeta/assets/avatar.svg" alt="" width="40" height="40">');
    expect(zeta).toContain('<strong>Grace Hopper</strong>');
    expect(zeta).toContain('Rear admiral');
    expect(zeta).toContain('2 hours');
    expect(zeta).toContain('5 seats free');
    expect(zeta).not.toContain('A second paragraph'); // trimmed on the card
    const desc = zeta.match(/<p class="desc">([^<]*)<\/p>/)![1];
    expect(desc.length).toBeLessThanOrEqual(300);
    expect(desc.endsWith('…')).toBe(true);
    expect(zeta).toContain('href="/services/wod/workshops/WKSHP-Zeta/register">Register');
    expect(zeta).toMatch(/<a class="button secondary" href="https:\/\/example.org\/replay\/zeta" target="_blank" rel="noopener noreferrer">Learn more/);
    const pageUrl = encodeURIComponent(`${hub.url}/services/wod/workshops/WKSHP-Zeta`);
    expect(zeta).toContain(`https://www.linkedin.com/sharing/share-offsite/?url=${pageUrl}`);
    expect(zeta).toContain(`https://twitter.com/intent/tweet?url=${pageUrl}&amp;text=Zeta%3A%20data%20wrangling`);
    expect(zeta).toContain(`<a href="${hub.url}/services/wod/workshops/WKSHP-Zeta" class="copy"`);
    expect(zeta).not.toContain('Popular'); // nobody has taken it yet

    const alpha = card(home.text, 'WKSHP-Alpha');
    expect(alpha).toContain('90 minutes');
    expect(alpha).not.toContain('Learn more'); // no replay link
    expect(alpha).toContain('&lt;script&gt;alert');
  });

  test('tabs: All, Latest, Popular and one per category, as links with aria-current', async () => {
    const home = await page('/');
    const tabs = [...home.text.matchAll(/<li><a href="\/services\/wod\/\?tab=([^"]+)"( aria-current="page")?>([^<]+)</g)].map((m) => [m[1], m[3].trim(), !!m[2]]);
    expect(tabs).toEqual([
      ['all', 'All', true],
      ['latest', 'Latest', false],
      ['popular', 'Popular', false],
      ['category-data', 'Data', false],
      ['category-programming', 'Programming', false],
      ['category-python', 'Python', false],
    ]);
    const programming = await page('/?tab=category-programming');
    expect(cardTitles(programming.text)).toEqual(['Alpha &amp; &lt;Omega&gt;']);
    expect(programming.text).toContain('href="/services/wod/?tab=category-programming" aria-current="page"');
    expect(programming.text).toContain('<title>Programming workshops · ACME Academy</title>');
    const popular = await page('/?tab=popular');
    expect(cardTitles(popular.text)).toEqual([]);
    expect(popular.text).toContain('No workshop has participants yet.');
    expect(cardTitles((await page('/?tab=nonsense')).text)).toHaveLength(2); // falls back to All
  });
});

describe('workshop pages and their images', () => {
  test('a workshop page: full description, presenter, duration, seats, register, learn more, share', async () => {
    const w = await page('/workshops/WKSHP-Zeta');
    expect(w.status).toBe(200);
    expect(w.text).toContain('<h1>Zeta: data wrangling</h1>');
    expect(w.text).toContain('The end of the first paragraph.</p><p>A second paragraph, only on the workshop page.');
    expect(w.text).toContain('<strong>Grace Hopper</strong>');
    expect(w.text).toContain('2 hours, from the moment it is ready');
    expect(w.text).toContain('<dd>5 free</dd>');
    expect(w.text).toContain('href="/services/wod/workshops/WKSHP-Zeta/register"');
    expect(w.text).toContain('href="https://example.org/replay/zeta" target="_blank"');
    expect(w.text).toContain(`<input id="share-url" type="url" readonly value="${hub.url}/services/wod/workshops/WKSHP-Zeta">`);
    expect(w.text).toContain('<meta property="og:title" content="Zeta: data wrangling">');
    expect(w.text).toContain(`<meta property="og:image" content="${hub.url}/services/wod/workshops/WKSHP-Zeta/assets/Pictures/badge.png">`);
  });

  test('unknown, inactive or malformed workshops are a 404 page', async () => {
    for (const p of ['/workshops/WKSHP-Nope', '/workshops/WKSHP-Hidden', '/workshops/WKSHP-Hidden/register', '/workshops/..%2F..%2Fetc', '/workshops/not-a-workshop']) {
      const res = await page(p);
      expect([p, res.status]).toEqual([p, 404]);
      expect(res.text).toContain('Not found');
    }
    expect((await page('/workshops/WKSHP-Nope/register', form(person))).status).toBe(404);
  });

  test('images of a workshop folder are served with their type; nothing else is', async () => {
    const avatar = await page('/workshops/WKSHP-Zeta/assets/avatar.svg');
    expect(avatar.status).toBe(200);
    expect(avatar.headers.get('content-type')).toBe('image/svg+xml');
    expect(avatar.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(avatar.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(avatar.text).toBe(AVATAR);
    const badge = await page('/workshops/WKSHP-Zeta/assets/Pictures/badge.png');
    expect(badge.status).toBe(200);
    expect(badge.headers.get('content-type')).toBe('image/png');

    for (const p of [
      'wod.yml', // not an image
      '0-ReadMeFirst.ipynb',
      'missing.png',
      '.hidden.png', // dot-files
      'Pictures/deeper/too-deep.png', // one subfolder at most
      '..%2Foutside.png', // traversal, encoded or not
      '%2E%2E/outside.png',
      'Pictures/..%2F..%2Foutside.png',
      '..%5Coutside.png',
      'leak.png', // a symbolic link out of the folder
      'folder.png', // a folder
    ]) {
      const res = await page(`/workshops/WKSHP-Zeta/assets/${p}`);
      expect([p, res.status]).toEqual([p, 404]);
    }
    expect((await page('/workshops/WKSHP-Nope/assets/avatar.svg')).status).toBe(404);
    expect((await new Browser(hub.url).request('/services/wod/workshops/WKSHP-Zeta/assets/../../../outside.png')).status).toBe(404);
  });
});

describe('registering', () => {
  test('the form: labelled fields with autocomplete, the terms checkbox with its links and the window', async () => {
    const f = await page('/workshops/WKSHP-Zeta/register');
    expect(f.status).toBe(200);
    expect(f.text).toContain('<label for="email">Email</label>');
    expect(f.text).toMatch(/<input id="email" name="email" type="email" autocomplete="email" required[^>]*aria-describedby="email-hint"/);
    expect(f.text).toMatch(/<input id="name" name="name" type="text" autocomplete="name" required/);
    expect(f.text).toMatch(/<input id="company" name="company" type="text" autocomplete="organization" required/);
    expect(f.text).toMatch(/<input id="acceptTerms" name="acceptTerms" type="checkbox" value="on" required>/);
    const label = f.text.match(/<label for="acceptTerms">([\s\S]*?)<\/label>/)![1].replace(/<span class="visually-hidden">[^<]*<\/span>/g, '');
    expect(label).toBe(
      'I have read and accept the <a href="/services/wod/terms" target="_blank" rel="noopener">Terms and Conditions</a> and the ' +
        '<a href="https://acme.example/privacy" target="_blank" rel="noopener">privacy policy</a> and understand that the 2-hour window starts when my workshop is ready.',
    );
    expect(f.text).toContain('Register for the workshop</button>');
    expect((await page('/workshops/WKSHP-Alpha/register')).text).toContain('the 90-minute window starts');
  });

  test('bad fields: 422, the error summary links each field, the input is kept, nothing is stored', async () => {
    const bad = await page('/workshops/WKSHP-Zeta/register', form({ email: 'nope', name: 'Grace <Hopper>', company: '', acceptTerms: '' }));
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Please check the form');
    expect(bad.text).toContain('<a href="#email">Email is not a valid email address</a>');
    expect(bad.text).toContain('<a href="#company">Company or school is required</a>');
    expect(bad.text).toContain('<a href="#acceptTerms">Tick the box to accept the terms and conditions</a>');
    expect(bad.text).toMatch(/<input id="email"[^>]*value="nope" aria-describedby="email-hint email-error" aria-invalid="true">/);
    expect(bad.text).toMatch(/<p class="field-error" id="company-error">.*Company or school is required<\/p>/);
    expect(bad.text).toContain('aria-describedby="acceptTerms-error"');
    expect(bad.text).toContain('value="Grace &lt;Hopper&gt;"');
    expect(bad.text).not.toContain('<a href="#name">');
    expect((await registrations()).total).toBe(0);
  });

  test('a registration: 303 to "check your mail", whose ticket shows the address and opens nothing else', async () => {
    const ok = await page('/workshops/WKSHP-Zeta/register', form(person));
    expect(ok.status).toBe(303);
    const location = ok.headers.get('location')!;
    expect(location).toMatch(/^\/services\/wod\/registered\/1\.[\w-]{43}$/);
    const mail = await new Browser(hub.url).request(location);
    expect(mail.status).toBe(200);
    expect(mail.headers.get('cache-control')).toBe('no-store');
    expect(mail.text).toContain('<h1>Check your mail</h1>');
    expect(mail.text).toContain('grace@example.com');
    expect(mail.text).toContain('Zeta: data wrangling');
    expect(mail.text).toContain('The clock starts when it is ready');
    expect((await registrations()).items.map((r) => [r.participant.email, r.state])).toEqual([['grace@example.com', 'registered']]);

    const mac = location.split('.').pop()!;
    expect((await page(`/registered/1.${'A'.repeat(43)}`)).status).toBe(404);
    expect((await page(`/registered/2.${mac}`)).status).toBe(404); // another registration, the same MAC
    expect((await page(`/status/1.${mac}`)).status).toBe(404); // not a status link
  });

  test('the same address again: 409, and the status page link is in the mail', async () => {
    const again = await page('/workshops/WKSHP-Alpha/register', form(person));
    expect(again.status).toBe(409);
    expect(again.text).toContain('grace@example.com is already registered for Zeta: data wrangling; one workshop at a time.');
    expect(again.text).toContain('The link to its status page, where you can end it, is in the mail we sent you.');
    expect(again.text).toContain('value="Grace Hopper"');
    expect((await registrations()).total).toBe(1);
  });

  test('a full workshop: its card and page say so, its form says so, a registration is refused', async () => {
    expect((await page('/workshops/WKSHP-Alpha/register', form({ ...person, email: 'alan@example.com' }))).status).toBe(303);
    const home = await page('/');
    const alpha = card(home.text, 'WKSHP-Alpha');
    expect(alpha).toContain('<button type="button" disabled>Currently full, please try again later</button>');
    expect(alpha).not.toContain('/register"');
    expect(alpha).toContain('<span class="pill popular">Popular</span>');
    expect(card(home.text, 'WKSHP-Zeta')).toContain('4 seats free');
    expect(cardTitles((await page('/?tab=popular')).text)).toHaveLength(2);
    expect((await page('/workshops/WKSHP-Alpha')).text).toContain('Currently full, please try again later');
    expect((await page('/workshops/WKSHP-Alpha/register')).text).toContain('is full at the moment; please try again later.');

    const refused = await page('/workshops/WKSHP-Alpha/register', form({ ...person, email: 'ken@example.com' }));
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('Alpha &amp; &lt;Omega&gt; is full at the moment; please try again later');
  });

  test('too many attempts for one address: 429 with Retry-After', async () => {
    let res = await page('/workshops/WKSHP-Zeta/register', form(person));
    for (let i = 0; i < 5 && res.status === 409; i++) res = await page('/workshops/WKSHP-Zeta/register', form(person));
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.text).toContain('Too many registrations for this address; please wait and try again.');
  });
});

describe('the status page', () => {
  const sealer = () => sealerOf(hub);
  const db = () => new Database(path.join(hub.dataDir, 'wod.sqlite'));

  test('signed link only; state, time left and start link; end with a confirmation', async () => {
    const link = statusToken(sealer(), 1); // Grace's registration
    const preparing = await page(`/status/${link}`);
    expect(preparing.status).toBe(200);
    expect(preparing.headers.get('cache-control')).toBe('no-store');
    expect(preparing.headers.get('referrer-policy')).toBe('no-referrer');
    expect(preparing.text).toContain('<h1>Zeta: data wrangling</h1>');
    expect(preparing.text).toContain('Your workshop is being prepared');
    expect(preparing.text).toContain('the clock starts when it is ready');
    expect(preparing.text).not.toContain('Open my JupyterLab');
    expect(preparing.text).not.toContain('How was it?'); // no survey before the workshop
    expect(preparing.text).toContain('<label for="confirm">I have saved what I want to keep; end my workshop and wipe my files</label>');

    // The workshop becomes ready (the lifecycle is paused here: the test plays the CREATE job's part).
    const deadline = new Date(Date.now() + (83 * 60 + 30) * 1000).toISOString();
    const d = db();
    d.prepare(`UPDATE registrations SET state = 'ready', ready_at = ?, deadline_at = ? WHERE id = 1`).run(new Date().toISOString(), deadline);
    d.close();
    const ready = await page(`/status/${link}`);
    expect(ready.text).toContain('Your workshop is ready.');
    expect(ready.text).toContain('<strong>1 h 23 min left</strong>');
    expect(ready.text).toContain(`<time datetime="${deadline}" data-local>`);
    expect(ready.text).toContain(`<a class="button big" href="${hub.url}/user/student1/lab">Open my JupyterLab</a>`);
    expect(ready.text).toContain('How was it?');
    expect(ready.text).not.toContain('alan@example.com'); // nobody else's data

    const unconfirmed = await page(`/status/${link}/end`, form({}));
    expect(unconfirmed.status).toBe(422);
    expect(unconfirmed.text).toContain('Tick the box to confirm that you want to end your workshop now.');
    expect((await registrations()).items.find((r) => r.id === 1)!.state).toBe('ready');

    const ended = await page(`/status/${link}/end`, form({ confirm: 'yes' }));
    expect(ended.status).toBe(303);
    expect(ended.headers.get('location')).toBe(`/services/wod/status/${link}?ended=1`);
    const after = await page(ended.headers.get('location')!.replace('/services/wod', ''));
    expect(after.text).toContain('Your workshop has ended. Its account is being cleaned now.');
    expect(after.text).toContain('Your workshop has ended; its account is being cleaned.');
    expect(after.text).not.toContain('End my workshop now');
    expect(after.text).not.toContain('Open my JupyterLab');
    expect((await registrations()).items.find((r) => r.id === 1)!.state).toBe('ended');

    const twice = await page(`/status/${link}/end`, form({ confirm: 'yes' }));
    expect(twice.status).toBe(409);
    expect(twice.text).toContain('Your workshop has already ended.');
  });

  test('forged, foreign or malformed links are a 404 page', async () => {
    const mac = statusToken(sealer(), 1).split('.')[1];
    for (const link of [`1.${'x'.repeat(43)}`, `2.${mac}`, statusToken(sealer(), 999), 'nonsense', statusToken(new Sealer('another key'), 2)]) {
      const res = await page(`/status/${link}`);
      expect([link, res.status]).toEqual([link, 404]);
      expect(res.text).toContain('This status link is not valid');
      expect((await page(`/status/${link}/end`, form({ confirm: 'yes' }))).status).toBe(404);
    }
    expect((await registrations()).items.find((r) => r.id === 2)!.state).toBe('registered');
  });
});

test('the terms: ending sessions, no liability, no secrets, wiped at the end, fair use, the data kept', async () => {
  const terms = await page('/terms');
  expect(terms.status).toBe(200);
  expect(terms.text).toContain('<h1>Terms of use</h1>');
  for (const words of [
    'We may end a session',
    'not liable for lost work or data',
    'Do not put personal, confidential or secret data',
    'the account and every file in it are wiped',
    'Fair use',
    'email address, name and company',
    'how far you got',
  ]) {
    expect(terms.text).toContain(words);
  }
  expect(terms.text).toContain('href="https://acme.example/privacy"');
});

test("the browser's language, unless the picker chose one: then its cookie keeps it", async () => {
  const visitor = new Browser(hub.url);
  const french = { headers: { 'Accept-Language': 'fr-FR,fr;q=0.9' } };
  const fr = await visitor.request('/services/wod/workshops/WKSHP-Zeta/register', french);
  expect(fr.text).toContain('<html lang="fr">');
  expect(fr.text).toContain('<h1>Inscription</h1>');
  expect(fr.text).toContain('<label for="email">Adresse e-mail</label>');
  expect(fr.text).toContain('la période de 2 heures commence');
  expect(fr.text).toContain('<a href="/services/wod/workshops/WKSHP-Zeta/register?lang=en" lang="en" hreflang="en">English</a>');
  expect(fr.text).toContain('lang="fr" hreflang="fr" aria-current="true">Français</a>');
  expect(visitor.cookie('wod_lang')).toBeUndefined();

  const en = await visitor.request('/services/wod/workshops/WKSHP-Zeta/register?lang=en', french);
  expect(en.text).toContain('<html lang="en">');
  expect(en.text).toContain('<h1>Register</h1>');
  expect(visitor.cookie('wod_lang')).toMatchObject({ value: 'en', path: '/services/wod/' });
  const kept = await visitor.request('/services/wod/', french);
  expect(kept.text).toContain('<html lang="en">');
  expect(kept.text).toContain('Workshop lists');

  // a registration made on a French page: its status page speaks French, whatever the browser says
  const ada = await new Browser(hub.url).request('/services/wod/workshops/WKSHP-Zeta/register', {
    ...form({ ...person, email: 'ada@example.com', name: 'Ada Lovelace' }),
    headers: { ...form({}).headers, ...french.headers },
  });
  expect(ada.status).toBe(303);
  const id = (await registrations()).items.find((r) => r.participant.email === 'ada@example.com')!.id;
  const link = statusToken(sealerOf(hub), id);
  const status = await page(`/status/${link}`);
  expect(status.text).toContain('<html lang="fr">');
  expect(status.text).toContain('Votre atelier est en préparation');
  // a POST-only path asked by GET (the picker's link, a reload) is the status page, the query kept
  const picked = await page(`/status/${link}/end?lang=en`, { follow: false });
  expect(picked.status).toBe(303);
  expect(picked.headers.get('location')).toBe(`/services/wod/status/${link}?lang=en`);
  // the picker on a status page (its link holds dots) is kept; a mail's badge image asked in French is not a pick
  const reader = new Browser(hub.url);
  expect((await reader.request(`/services/wod/status/${link}?lang=en`)).text).toContain('Your workshop is being prepared');
  expect(reader.cookie('wod_lang')).toMatchObject({ value: 'en' });
  const badgeReader = new Browser(hub.url);
  const badge = await badgeReader.request('/services/wod/badges/apprentice.svg?lang=fr');
  expect(badge.text).toContain('Apprenti');
  expect(badgeReader.cookie('wod_lang')).toBeUndefined();
});

describe('with no workshops and terms of the operator', () => {
  let bare: RunningHub;
  const empty = tempWorkshops();
  beforeAll(async () => {
    bare = await startHub({
      env: { WOD_WORKSHOPS_DIR: empty, WOD_LIFECYCLE_PAUSED: 'true', WOD_BRANDING_TERMS_URL: 'https://acme.example/terms', WOD_BRANDING_PRIMARY_COLOR: '#ffcc00' },
    });
  });
  afterAll(async () => {
    await bare?.stop();
    fs.rmSync(empty, { recursive: true, force: true });
  });

  test("an empty catalog says so; /terms goes to the operator's terms; a light brand colour still gives readable buttons", async () => {
    const home = await new Browser(bare.url).request('/services/wod/');
    expect(home.status).toBe(200);
    expect(home.text).toContain('There are no workshops here yet.');
    expect(home.text).toContain('<a href="https://acme.example/terms">Terms</a>');
    const brandStrong = home.text.match(/--brand-strong: (#[0-9a-f]{6})/)![1];
    expect(brandStrong).not.toBe('#ffcc00');
    const terms = await new Browser(bare.url).request('/services/wod/terms', { follow: false });
    expect(terms.status).toBe(302);
    expect(terms.headers.get('location')).toBe('https://acme.example/terms');
  });
});
