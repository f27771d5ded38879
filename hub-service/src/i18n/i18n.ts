/**
 * The participant's language. Messages live in locale files, `hub-service/locales/<language>/<area>.json`
 * (`portal.json`, `mail.json`, …, and `language.json`, which names the language and how Intl and
 * JupyterLab spell it). English owns the keys: every other language has the same keys with the same
 * placeholders (tests/unit/i18n.test.ts), and a key read in code or a template exists in English.
 *
 * A message is a string with `{name}` placeholders, or plural forms by Intl.PluralRules category
 * (`{"one": "{count} minute", "other": "{count} minutes"}`). Messages are text: pages and mails escape them.
 */
import fs from 'node:fs';
import path from 'node:path';

export const LOCALES_DIR = path.resolve(__dirname, '..', '..', 'locales');
/** A language's code, its folder's name: ISO 639 ("en", "fr"), as the config and migration 13 accept it. */
export const LANGUAGE_CODE = /^[a-z]{2,3}$/;
export const SOURCE_LANGUAGE = 'en';

type Plural = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };
export type Message = string | Plural;
export type Messages = Record<string, Message>;
export type Vars = Record<string, string | number>;

/** `language.json` of each language: shown in the language picker, and given to Intl and JupyterLab. */
export interface LanguageInfo {
  /** the language's name in itself: "Français" */
  name: string;
  /** the BCP 47 tag Intl formats dates with: "fr-FR" */
  intl: string;
  /** the JupyterLab locale its language pack installs ("fr_FR"); "en" is JupyterLab's own */
  jupyterlab: string;
}

/** The messages of one language: every area file, keyed `<area>.<key>`. */
export function readMessages(language: string, dir = LOCALES_DIR): Messages {
  const folder = path.join(dir, language);
  const out: Messages = {};
  for (const file of fs
    .readdirSync(folder)
    .filter((f) => f.endsWith('.json') && f !== 'language.json')
    .sort()) {
    const area = file.slice(0, -'.json'.length);
    for (const [key, message] of Object.entries(JSON.parse(fs.readFileSync(path.join(folder, file), 'utf8')) as Messages)) out[`${area}.${key}`] = message;
  }
  return out;
}

export function readLanguageInfo(language: string, dir = LOCALES_DIR): LanguageInfo {
  return JSON.parse(fs.readFileSync(path.join(dir, language, 'language.json'), 'utf8')) as LanguageInfo;
}

/** The languages there are locale files for, English first. */
export function availableLanguages(dir = LOCALES_DIR): string[] {
  const found = fs.readdirSync(dir).filter((d) => LANGUAGE_CODE.test(d) && fs.existsSync(path.join(dir, d, 'language.json')));
  return [SOURCE_LANGUAGE, ...found.filter((d) => d !== SOURCE_LANGUAGE).sort()];
}

/**
 * The best of `supported` for an Accept-Language header ("fr-CH, fr;q=0.9, en;q=0.8"): by quality,
 * an exact tag before its primary language ("fr-CH" finds "fr"); null when none matches.
 */
export function negotiate(header: string | undefined, supported: readonly string[]): string | null {
  if (!header) return null;
  const asked = header
    .split(',')
    .map((part, order) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim().match(/^q=([01](?:\.\d{0,3})?)$/)).find(Boolean);
      return { tag: tag.trim().toLowerCase(), q: q ? Number(q[1]) : 1, order };
    })
    .filter((a) => a.tag && a.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  const lower = supported.map((s) => s.toLowerCase());
  for (const a of asked) {
    const exact = lower.indexOf(a.tag);
    if (exact >= 0) return supported[exact];
    const primary = lower.indexOf(a.tag.split('-')[0]);
    if (primary >= 0) return supported[primary];
  }
  return null;
}

export class MissingMessage extends Error {}

export interface Translator {
  readonly language: string;
  readonly info: LanguageInfo;
  /** the message `key` with its placeholders filled; a plural message takes its form from `vars.count` */
  t(key: string, vars?: Vars): string;
  /** there is a message `key` (for keys made from an open set, like a job step's name) */
  has(key: string): boolean;
  /** a date and time as people of this language write it, in UTC ("mar. 24 nov., 14:05 UTC") */
  dateTime(iso: string): string;
}

function fill(text: string, vars: Vars, key: string): string {
  return text.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in vars)) throw new MissingMessage(`message ${key} needs {${name}}`);
    return String(vars[name]);
  });
}

/** Every language's messages, read once; a message missing in a language is the English one. */
export class Languages {
  readonly list: string[];
  private readonly translators = new Map<string, Translator>();

  constructor(dir = LOCALES_DIR) {
    this.list = availableLanguages(dir);
    const source = readMessages(SOURCE_LANGUAGE, dir);
    for (const language of this.list) {
      const messages = { ...source, ...readMessages(language, dir) };
      const info = readLanguageInfo(language, dir);
      const plural = new Intl.PluralRules(info.intl);
      const dates = new Intl.DateTimeFormat(info.intl, {
        weekday: 'short',
        day: 'numeric',
        month: 'short',
        hour: '2-digit',
        minute: '2-digit',
        timeZone: 'UTC',
        timeZoneName: 'short',
      });
      this.translators.set(language, {
        language,
        info,
        t(key, vars = {}) {
          const m = messages[key];
          if (m === undefined) throw new MissingMessage(`there is no message ${key}`);
          const text = typeof m === 'string' ? m : (m[plural.select(Number(vars.count))] ?? m.other);
          return fill(text, vars, key);
        },
        has: (key) => Object.hasOwn(messages, key),
        dateTime: (iso) => dates.format(new Date(iso)),
      });
    }
  }

  /** `language` when there are locale files for it, else English. */
  get(language: string | null | undefined): Translator {
    return this.translators.get(language ?? '') ?? this.translators.get(SOURCE_LANGUAGE)!;
  }

  has(language: unknown): language is string {
    return typeof language === 'string' && this.translators.has(language);
  }

  /** The first known of: an explicit choice, what is remembered (the registration's), the browser's, the site's default. */
  choose(...candidates: (string | null | undefined)[]): string {
    return candidates.find((c) => this.has(c)) ?? SOURCE_LANGUAGE;
  }
}

let shipped: Languages | null = null;
/** The shipped locale files, read once for the whole process. */
export const shippedLanguages = (): Languages => (shipped ??= new Languages());
