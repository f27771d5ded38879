/**
 * Security suite, finding 7: input is bounded and clean. A 30 MB or over-limit wod.yml is refused by
 * the real importer on a real SQLite file and never served; registrations and survey answers that
 * are invisible, add a line to a mail, hide behind a direction override or run to kilobytes are
 * refused over real HTTP by one real hub, with a message naming the field, and change nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getWorkshop, listWorkshops } from '../../hub-service/src/catalog/catalog';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { formatProblem } from '../../hub-service/src/catalog/problems';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { shippedLanguages } from '../../hub-service/src/i18n/i18n';
import { mails, renderText } from '../../hub-service/src/mail-out/content';
import { OutboxTransport } from '../../hub-service/src/mail-out/transport';
import { syncPool } from '../../hub-service/src/pool/pool';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { openDatabase } from '../../hub-service/src/store/db';
import { attack } from '../support/attacks';
import { adminToken, type RunningHub, sealerOf, startHub } from '../support/hub';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const MB30 = 30 * 1024 * 1024;
/** A workshop whose wod.yml carries a 30 MB description: the finding as reproduced. */
const writeHugeWorkshop = (root: string, folder: string, range: [number, number]) => writeWorkshop(root, folder, { range, description: 'x'.repeat(MB30) });

describe('the catalog importer, on a real SQLite file', () => {
  const setup = () => {
    const root = tempWorkshops();
    const db = openDatabase(path.join(root, 'wod.sqlite'));
    syncPool(db, 100);
    return { root, db, scan: () => importWorkshops(db, scanWorkshops({ dir: root }, 100), 'test') };
  };

  test('a 30 MB wod.yml is an error naming the 64 KiB limit, and the catalog does not serve it', () =>
    attack('catalog: a 30 MB wod.yml', () => {
      const { root, db, scan } = setup();
      writeHugeWorkshop(root, 'WKSHP-Huge', [1, 10]);
      const report = scan();
      expect(report.problems.map(formatProblem)).toEqual([
        expect.stringMatching(/WKSHP-Huge\/wod\.yml: error: is \d+ bytes, more than the 65536 bytes \(64 KiB\) a wod\.yml may have/),
      ]);
      expect(report.inserted).toEqual([]);
      expect(getWorkshop(db, 'WKSHP-Huge')).toBeNull();
      expect(listWorkshops(db, { includeInactive: true })).toEqual([]);
    }));

  test('over-limit and unclean fields keep an imported workshop as it was', () =>
    attack('catalog: a 10 KB name and a CR LF presenter replacing a served workshop', () => {
      const { root, db, scan } = setup();
      writeWorkshop(root, 'WKSHP-A', { range: [1, 10] });
      scan();
      const before = getWorkshop(db, 'WKSHP-A');
      writeWorkshop(root, 'WKSHP-A', { range: [1, 10], name: 'N'.repeat(10_000), presenter: 'Ada\r\nBcc: eve@example.com' });
      const report = scan();
      expect(report.problems.map(formatProblem)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/WKSHP-A\/wod\.yml:\d+: error: name: is too long \(10000 characters, 120 at most\)/),
          expect.stringMatching(/WKSHP-A\/wod\.yml:\d+: error: presenter: must be on one line/),
        ]),
      );
      expect([report.updated, report.deactivated]).toEqual([[], []]);
      expect(getWorkshop(db, 'WKSHP-A')).toEqual(before);
    }));
});

describe('a mail to a name stored before the rule', () => {
  test('adds no header and no line', () =>
    attack('mail: CR LF in a stored name and workshop title', async () => {
      const content = mails.welcome({ name: 'Ada\r\nBcc: eve@example.com', workshop: 'Bash\nX-Injected: 1', statusUrl: 'https://wod.example/s' }, shippedLanguages().get('en'));
      const text = renderText(content, 'wod', 'https://wod.example/');
      expect(text.split('\n')).toContain('Hello Ada Bcc: eve@example.com,');
      expect(text).not.toMatch(/^(Bcc|X-Injected):/m);
      const outbox = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-outbox-'));
      await new OutboxTransport(outbox, 'wod <wod@wod.example>').send({ key: 'k', to: 'ada@example.com', subject: content.subject, text, messageId: '<k@wod.example>' });
      const headers = fs.readFileSync(path.join(outbox, 'k.eml'), 'utf8').split('\n\n')[0];
      expect(headers).toMatch(/^Subject: Your Bash X-Injected: 1 workshop is being prepared$/m);
      expect(headers).not.toMatch(/^(Bcc|X-Injected):/im);
    }));
});

describe('registrations and survey answers over HTTP', () => {
  let hub: RunningHub;
  let api: string;
  let token: string;
  const workshops = tempWorkshops();

  beforeAll(async () => {
    writeWorkshop(workshops, 'WKSHP-Open', { range: [1, 10] });
    writeHugeWorkshop(workshops, 'WKSHP-Huge', [11, 20]);
    hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
    api = `${hub.url}/services/wod/api/v1`;
    token = await adminToken(hub);
  });
  afterAll(async () => {
    await hub?.stop();
    fs.rmSync(workshops, { recursive: true, force: true });
  });

  const send = (method: string, url: string, body: unknown) => fetch(url, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const admin = async <T>(p: string): Promise<T> => (await fetch(`${api}/admin${p}`, { headers: { Authorization: `token ${token}` } })).json() as Promise<T>;
  /** What an accepted registration or answer would change: registrations, mails, survey answers. */
  const counts = async () => Promise.all(['/registrations', '/mails', '/surveys'].map(async (p) => (await admin<{ total: number }>(p)).total));
  const person = { email: 'ada@example.com', name: 'Ada Lovelace', company: 'ACME', workshop: 'WKSHP-Open', acceptTerms: true };

  test('the 30 MB workshop is not in the public catalog', () =>
    attack('catalog over HTTP: a 30 MB wod.yml served to anonymous visitors', async () => {
      const catalog = (await (await fetch(`${api}/workshops`)).json()) as { items: { folder: string }[] };
      expect(catalog.items.map((w) => w.folder)).toEqual(['WKSHP-Open']);
      expect((await fetch(`${api}/workshops/WKSHP-Huge`)).status).toBe(404);
      expect(hub.output()).toMatch(/WKSHP-Huge\/wod\.yml: error: is \d+ bytes, more than the 65536 bytes/);
    }));

  test.each([
    ['a name of zero-width characters only', { name: '\u200B\u200C\u200D\u2060\uFEFF' }, 'name', /^is required$/],
    ['a name of a Hangul filler and spaces', { name: '\u3164 \u3164' }, 'name', /^is required$/],
    ['CR LF and a Bcc line in the name', { name: 'Ada\r\nBcc: eve@example.com' }, 'name', /^must be on one line/],
    ['a LF and a header in the company', { company: 'ACME\nX-Priority: 1' }, 'company', /^must be on one line/],
    ['a right-to-left override in the name', { name: 'Ada \u202Emoc.live' }, 'name', /^must not contain text-direction controls \(U\+202E found\)/],
    ['a directional isolate in the company', { company: '\u2067ACME\u2069 Ltd' }, 'company', /^must not contain text-direction controls \(U\+2067 found\)/],
    ['a NUL in the name', { name: 'Ada\u0000' }, 'name', /^must not contain control characters \(U\+0000 found\)/],
    ['a 10 KB name', { name: 'A'.repeat(10_000) }, 'name', /^is too long \(10000 characters, 100 at most\)$/],
  ])('registration refused: %s', (what, change, field, message) =>
    attack(`registration: ${what}`, async () => {
      const before = await counts();
      const res = await send('POST', `${api}/registrations`, { ...person, ...change });
      expect(res.status).toBe(422);
      const body = (await res.json()) as { errors: { field: string; message: string }[] };
      expect(body.errors).toEqual([{ field, message: expect.stringMatching(message) }]);
      expect(await counts()).toEqual(before);
    }),
  );

  test('survey answers with controls, direction overrides or 10 KB are refused with the field', async () => {
    const created = await send('POST', `${api}/registrations`, person);
    expect(created.status).toBe(201);
    const { registration } = (await created.json()) as { registration: { id: number } };
    const sealer = sealerOf(hub);
    const feedback = `${api}/status/${statusToken(sealer, registration.id)}/feedback`;
    const answer = { rating: 5, recommend: true };
    // Its CREATE job sends mails meanwhile: an accepted answer would add a survey row and a feedback mail.
    const answers = async () => [
      (await admin<{ total: number }>('/surveys')).total,
      (await admin<{ items: { kind: string }[] }>(`/mails?registration=${registration.id}`)).items.filter((m) => m.kind === 'feedback').length,
    ];
    for (const [what, change, field] of [
      ['an escape sequence in a free-text answer', { good: 'Great\u001B[2J' }, 'good'],
      ['a right-to-left override in a free-text answer', { improve: 'nothing \u202Eslebal' }, 'improve'],
      ['a 10 KB free-text answer', { improve: 'x'.repeat(10_000) }, 'improve'],
    ] as const) {
      await attack(`survey: ${what}`, async () => {
        const before = await answers();
        const res = await send('PUT', feedback, { ...answer, ...change });
        expect(res.status).toBe(422);
        expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual([field]);
        expect(await answers()).toEqual(before);
      });
    }
    // the same answer, clean and on two lines, is taken
    expect((await send('PUT', feedback, { ...answer, good: 'Clear.\r\nThanks' })).status).toBe(200);
    expect((await admin<{ items: { good: string }[] }>('/surveys')).items[0].good).toBe('Clear.\nThanks');
    expect(await answers()).toEqual([1, 1]);
  });

  test('the language asked for (?lang, the wod_lang cookie, Accept-Language) is only ever one wod has, and a GET on a status form leads nowhere else', async () => {
    const page = `${hub.url}/services/wod/workshops/WKSHP-Open/register`;
    const langOf = async (res: Response) => (await res.text()).match(/<html lang="([^"]*)">/)?.[1];
    await attack('language: ?lang naming a folder outside the locales (../en, %2e%2e/fr, a 10 KB value)', async () => {
      for (const lang of ['../en', '%2e%2e%2ffr', 'fr/../../etc', 'x'.repeat(10_000), 'FR', 'fr\r\nSet-Cookie: a=b']) {
        const res = await fetch(`${page}?lang=${encodeURIComponent(lang)}`);
        expect([lang.slice(0, 20), res.status, res.headers.get('set-cookie'), await langOf(res)]).toEqual([lang.slice(0, 20), 200, null, 'en']);
      }
    });
    await attack('language: a forged wod_lang cookie and a hostile Accept-Language', async () => {
      const hostile: Record<string, string>[] = [
        { Cookie: 'wod_lang=../../secrets' },
        { Cookie: 'wod_lang=de' },
        { 'Accept-Language': `${'fr-'.repeat(3000)}x;q=0.9` },
        { 'Accept-Language': 'q=1;;,,;fr' },
      ];
      for (const headers of hostile) {
        const res = await fetch(page, { headers });
        expect(res.status).toBe(200);
        expect(['en', 'fr']).toContain(await langOf(res));
      }
    });
    await attack('language: the GET of a status form redirected off the site (//evil.example, a forged token)', async () => {
      for (const path of ['/status/1.forged/end?lang=en', '/status/%2F%2Fevil.example/end', '/status/x/feedback?next=//evil.example']) {
        const res = await fetch(`${hub.url}/services/wod${path}`, { redirect: 'manual' });
        const location = res.headers.get('location');
        expect([path, location === null || location.startsWith('/services/wod/status/')]).toEqual([path, true]);
      }
    });
  });
});
