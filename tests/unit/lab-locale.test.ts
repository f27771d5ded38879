/**
 * The participant's language in their JupyterLab (hub-service/src/i18n/lab-locale.ts): the
 * translation extension's setting written into the home, never through a link, and for every
 * language a JupyterLab locale that is installed (the pinned language pack, the extension's French).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { availableLanguages, readLanguageInfo } from '../../hub-service/src/i18n/i18n';
import { LAB_LOCALE_FILE, labLocaleSettings, writeLabLocale } from '../../hub-service/src/i18n/lab-locale';

const root = path.join(__dirname, '..', '..');
let home: string;
beforeEach(() => (home = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-lab-locale-'))));
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

test("writes JupyterLab's translation setting into the home, beside the skeleton's settings", () => {
  fs.mkdirSync(path.join(home, '.jupyter', 'lab', 'user-settings', '@jupyterlab', 'apputils-extension'), { recursive: true });
  const file = writeLabLocale(home, 'fr_FR');
  expect(file).toBe(path.join(home, '.jupyter/lab/user-settings/@jupyterlab/translation-extension/plugin.jupyterlab-settings'));
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ locale: 'fr_FR' });
  writeLabLocale(home, 'en');
  expect(fs.readFileSync(file, 'utf8')).toBe(labLocaleSettings('en'));
  expect(fs.statSync(file).mode & 0o777).toBe(0o644);
});

test('never writes through a link in the home', () => {
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-lab-locale-elsewhere-'));
  try {
    fs.symlinkSync(elsewhere, path.join(home, '.jupyter'));
    expect(() => writeLabLocale(home, 'fr_FR')).toThrow(/is not a folder/);
    fs.unlinkSync(path.join(home, '.jupyter'));
    // the file itself a link
    const target = path.join(elsewhere, 'victim');
    fs.writeFileSync(target, 'untouched');
    fs.mkdirSync(path.dirname(path.join(home, LAB_LOCALE_FILE)), { recursive: true });
    fs.symlinkSync(target, path.join(home, LAB_LOCALE_FILE));
    expect(() => writeLabLocale(home, 'fr_FR')).toThrow(/ELOOP/);
    expect(fs.readFileSync(target, 'utf8')).toBe('untouched');
    expect(fs.readdirSync(elsewhere)).toEqual(['victim']);
  } finally {
    fs.rmSync(elsewhere, { recursive: true, force: true });
  }
});

test("every language's JupyterLab locale is installed: the pinned language pack and the extension's translations", () => {
  const requirements = fs.readFileSync(path.join(root, 'spawner-config', 'requirements.txt'), 'utf8');
  const languages = availableLanguages();
  expect(languages).toContain('fr');
  for (const language of languages) {
    const locale = readLanguageInfo(language).jupyterlab;
    if (locale === 'en') continue; // JupyterLab's own
    // jupyterlab-language-pack-fr-FR provides fr_FR
    expect(requirements).toMatch(new RegExp(`^jupyterlab-language-pack-${locale.replace('_', '-')}==\\S+$`, 'm'));
    expect(fs.existsSync(path.join(root, 'labextension', 'locale', 'wod_labextension_locale', 'locale', locale, 'LC_MESSAGES', 'wod.json'))).toBe(true);
  }
});
