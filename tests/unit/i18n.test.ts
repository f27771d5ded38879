/** The locale files and the language rules: English owns the keys, every language has them all. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { availableLanguages, LANGUAGE_CODE, Languages, LOCALES_DIR, MissingMessage, negotiate, readMessages, SOURCE_LANGUAGE } from '../../hub-service/src/i18n/i18n';

const ROOT = path.resolve(__dirname, '..', '..', 'hub-service');
const placeholders = (m: unknown): string[] => [...new Set([...JSON.stringify(m).matchAll(/\{(\w+)\}/g)].map((x) => x[1]))].sort();

describe('negotiate', () => {
  const supported = ['en', 'fr'];
  test.each([
    ['fr-FR,fr;q=0.9,en;q=0.8', 'fr'],
    ['en-US,en;q=0.9,fr;q=0.8', 'en'],
    ['de-DE, fr;q=0.5, en;q=0.4', 'fr'],
    ['de, en;q=0.1, fr;q=0.9', 'fr'],
    ['fr-CH', 'fr'],
    ['FR', 'fr'],
    ['*', null],
    ['de-DE,de;q=0.9', null],
    ['fr;q=0, en', 'en'],
    ['', null],
    [undefined, null],
    ['fr;q=abc', 'fr'],
  ])('%s → %s', (header, expected) => expect(negotiate(header, supported)).toBe(expected));
});

describe('Languages', () => {
  const languages = new Languages();

  test('English and French, English first', () => {
    expect(languages.list).toEqual(['en', 'fr']);
    expect(languages.get('fr').info).toEqual({ name: 'Français', intl: 'fr-FR', jupyterlab: 'fr_FR' });
  });

  test('an unknown language, or none, is English; choose takes the first known', () => {
    expect(languages.get('de').language).toBe('en');
    expect(languages.get(null).language).toBe('en');
    expect(languages.choose(null, 'de', 'fr', 'en')).toBe('fr');
    expect(languages.choose(undefined, null)).toBe('en');
    expect(languages.has('fr')).toBe(true);
    expect(languages.has('../en')).toBe(false);
    expect(languages.has(['fr'])).toBe(false);
  });

  test('dates as each language writes them, in UTC', () => {
    expect(languages.get('en').dateTime('2026-11-24T14:05:00Z')).toBe('Tue 24 Nov, 14:05 UTC');
    expect(languages.get('fr').dateTime('2026-11-24T14:05:00Z')).toBe('mar. 24 nov., 14:05 UTC');
  });
});

describe('messages from files', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-locales-'));
    const write = (language: string, file: string, body: unknown) => {
      fs.mkdirSync(path.join(dir, language), { recursive: true });
      fs.writeFileSync(path.join(dir, language, file), JSON.stringify(body));
    };
    write('en', 'language.json', { name: 'English', intl: 'en-GB', jupyterlab: 'en' });
    write('en', 'demo.json', { hello: 'Hello {name}', left: { one: '{count} minute left', other: '{count} minutes left' }, only: 'English only' });
    write('fr', 'language.json', { name: 'Français', intl: 'fr-FR', jupyterlab: 'fr_FR' });
    write('fr', 'demo.json', { hello: 'Bonjour {name}', left: { one: '{count} minute restante', other: '{count} minutes restantes' } });
    fs.mkdirSync(path.join(dir, 'not-a-language'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('keys are <area>.<key>, placeholders filled, plural forms by Intl.PluralRules', () => {
    const languages = new Languages(dir);
    expect(availableLanguages(dir)).toEqual(['en', 'fr']);
    const fr = languages.get('fr');
    expect(fr.t('demo.hello', { name: 'Ada' })).toBe('Bonjour Ada');
    // French counts 0 and 1 as "one", English only 1
    expect([0, 1, 2].map((count) => fr.t('demo.left', { count }))).toEqual(['0 minute restante', '1 minute restante', '2 minutes restantes']);
    expect([0, 1, 2].map((count) => languages.get('en').t('demo.left', { count }))).toEqual(['0 minutes left', '1 minute left', '2 minutes left']);
    expect(fr.t('demo.only')).toBe('English only');
  });

  test('a missing message or placeholder is an error, not a blank', () => {
    const en = new Languages(dir).get('en');
    expect(() => en.t('demo.nothing')).toThrow(MissingMessage);
    expect(() => en.t('demo.hello')).toThrow('message demo.hello needs {name}');
  });
});

describe('the shipped locale files', () => {
  const source = readMessages(SOURCE_LANGUAGE);
  const languages = availableLanguages();

  test.each(languages.filter((l) => l !== SOURCE_LANGUAGE))('%s has every English key with the same placeholders, and no other', (language) => {
    const messages = readMessages(language);
    expect(Object.keys(messages).sort()).toEqual(Object.keys(source).sort());
    for (const [key, message] of Object.entries(messages)) expect([key, placeholders(message)]).toEqual([key, placeholders(source[key])]);
    // a plural message has the forms its language uses
    const rules = new Intl.PluralRules(new Languages().get(language).info.intl).resolvedOptions().pluralCategories;
    for (const [key, message] of Object.entries(messages)) {
      if (typeof message === 'object') expect([key, Object.keys(message).sort()]).toEqual([key, [...rules].sort()]);
    }
  });

  test('every key the code and the templates read exists in English', () => {
    const areas = new Set(Object.keys(source).map((k) => k.split('.')[0]));
    const files = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : /\.(ts|ejs)$/.test(e.name) ? [path.join(dir, e.name)] : []));
    const used = files(path.join(ROOT, 'src'))
      .concat(files(path.join(ROOT, 'views')))
      .flatMap((f) => [...fs.readFileSync(f, 'utf8').matchAll(/(?<![\w$])t\(\s*'([a-z]\w*\.[\w.-]+)'/g)].map((m) => m[1]))
      .filter((k) => areas.has(k.split('.')[0]));
    expect(used.length).toBeGreaterThan(50);
    expect([...new Set(used)].filter((k) => !(k in source))).toEqual([]);
  });

  test('every language folder is named as the config accepts it', () => {
    for (const l of fs.readdirSync(LOCALES_DIR)) expect(l).toMatch(LANGUAGE_CODE);
  });
});
