/**
 * Which language a portal page speaks, first found of: `?lang=fr` (the footer's picker, then kept
 * in a cookie), that cookie, the language its registration remembers (status pages), the browser's
 * Accept-Language, the site's defaultLanguage. Templates get `t`, `lang` and the picker's links.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type Languages, negotiate } from '../i18n/i18n.js';

export const LANGUAGE_COOKIE = 'wod_lang';
const YEAR_MS = 365 * 24 * 3600 * 1000;

interface Choice {
  /** the visitor's own choice: the picker or its cookie */
  chosen: string | null;
  browser: string | null;
  fallback: string;
}

/** Sets the page's language from the request, before any route (a registration's page may change it: `speakFor`). */
export function languageChoice(languages: Languages, defaultLanguage: string, secureCookie: boolean): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const asked = languages.has(req.query.lang) ? req.query.lang : null;
    // a page remembers the pick; an image or a file asked with ?lang (a mail's badge) speaks it once
    // (status links hold dots: a file is known by its type's extension)
    const page = req.method === 'GET' && !/\.(svg|png|jpe?g|gif|webp|ico|css|js)$/i.test(req.path) && !req.path.startsWith('/static/') && !req.path.startsWith('/api/');
    if (asked && page) {
      res.cookie(LANGUAGE_COOKIE, asked, { maxAge: YEAR_MS, httpOnly: true, sameSite: 'lax', secure: secureCookie, path: req.app.locals.prefix as string });
    }
    const cookie = (req.cookies as Record<string, unknown> | undefined)?.[LANGUAGE_COOKIE];
    const choice: Choice = { chosen: asked ?? (languages.has(cookie) ? cookie : null), browser: negotiate(req.get('accept-language'), languages.list), fallback: defaultLanguage };
    res.locals.languageChoice = choice;
    if (!req.path.startsWith('/static/')) res.vary('Accept-Language').vary('Cookie');
    speak(req, res, languages, languages.choose(choice.chosen, choice.browser, choice.fallback));
    next();
  };
}

/** A registration's page: the visitor's own choice first, then the language they registered in. */
export function speakFor(req: Request, res: Response, languages: Languages, remembered: string | null): void {
  const c = res.locals.languageChoice as Choice;
  speak(req, res, languages, languages.choose(c.chosen, remembered, c.browser, c.fallback));
}

/**
 * The language a registration remembers: the visitor's pick, else their browser's; null when they
 * asked for none wod has, so that the registration follows the site's defaultLanguage.
 */
export function askedLanguage(res: Response): string | null {
  const c = res.locals.languageChoice as Choice;
  return c.chosen ?? c.browser;
}

function speak(req: Request, res: Response, languages: Languages, language: string): void {
  const tr = languages.get(language);
  const query = new URLSearchParams(Object.entries(req.query).filter((e): e is [string, string] => typeof e[1] === 'string'));
  res.locals.lang = language;
  res.locals.t = tr.t;
  res.locals.tr = tr;
  res.locals.languagePicker = languages.list.map((code) => {
    query.set('lang', code);
    return { code, name: languages.get(code).info.name, current: code === language, href: `${req.baseUrl}${req.path}?${query.toString()}` };
  });
}
