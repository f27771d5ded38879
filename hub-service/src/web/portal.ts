/**
 * The public portal, server-rendered: the catalog (tabs All / Latest / Popular / per category),
 * workshop pages and their images, the register form, the "check your mail" page, the terms, and the
 * participant's status page reached by the signed link of their mails (time left, start, end now),
 * and the download of their work the thanks mail links to.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response } from 'express';
import { type Sealer, safeEqual } from '../auth/seal.js';
import { catalogTabs, getWorkshop, listWorkshops, workshopPath } from '../catalog/catalog.js';
import { drawnBadgeUrl, imageFile, MAX_DEPTH } from '../catalog/images.js';
import { WORKSHOP_FOLDER } from '../catalog/spec.js';
import { levelName, MILESTONES, milestoneSlug } from '../mail-out/content.js';
import { RegistrationError } from '../registrations/registrations.js';
import { askExtension, ExtensionError, extensionNow } from '../registrations/extension.js';
import { describeQueue, queueProgress } from '../registrations/queue.js';
import { verifyStatusToken } from '../registrations/status-token.js';
import { isErased } from '../participants/participants.js';
import { readSurvey, saveSurvey, surveyInput } from '../registrations/survey.js';
import { openDownload } from '../work/link.js';
import type { WebDeps } from './deps.js';
import { hubUrlFor } from '../config/urls.js';
import { callPeer } from '../locations/peers.js';
import { startLink } from '../locations/protocol.js';
import { type PublicWorkshop, participantStatus, publicWorkshop } from './views.js';
import { CLOCK_RUNNING } from '../registrations/states.js';
import type { Translator, Vars } from '../i18n/i18n.js';
import { askedLanguage, speakFor } from './language.js';

const STATIC_DIR = path.resolve(__dirname, '..', '..', 'static');
const FORM_FIELDS = ['email', 'name', 'company', 'acceptTerms'];
/** Fields whose errors name them (`portal.subject.<field>`: "Email", "L'adresse e-mail"). */
const LABELLED = ['email', 'name', 'company', 'workshop'];
const SURVEY_FIELDS = ['rating', 'good', 'improve', 'recommend'];
const BUILT_IN_TABS = ['all', 'latest', 'popular'];
type T = Translator['t'];

/**
 * Portal pages load nothing from elsewhere but images (logos and avatars may live anywhere) and run
 * no inline script; the brand colours are the one inline style.
 */
const PAGE_CSP =
  "default-src 'self'; img-src * data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/** Images from a workshop folder are shown, never run: an SVG gets no script. */
const SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'";

/** 120 → "2 hours", 90 → "90 minutes", 150 → "2 hours 30 minutes". */
export function duration(minutes: number, t: T): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (m === 0) return t('portal.duration.hours', { count: h });
  if (minutes < 120) return t('portal.duration.minutes', { count: minutes });
  return t('portal.duration.hoursMinutes', { hours: h, minutes: m });
}

/** "2-hour", "90-minute": the length of the window the register form speaks of. */
export function windowLength(minutes: number, t: T): string {
  return minutes % 60 === 0 ? t('portal.window.hours', { count: minutes / 60 }) : t('portal.window.minutes', { count: minutes });
}

/** 4980 → "1 h 23 min". */
export function timeLeft(seconds: number, t: T): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h ? t('portal.timeLeft.hours', { hours: h, minutes: m }) : t('portal.timeLeft.minutes', { minutes: m });
}

/** A domain message as a sentence, unless it starts with a name or an address ("grace@example.com is…"). */
const sentence = (text: string) => (/^[a-z]+[\s,;:]/.test(text) ? text.charAt(0).toUpperCase() + text.slice(1) : text);

/**
 * The field messages of registrations/input.ts and clean-text.ts, a closed set, each to its key
 * (`portal.fieldError.<kind>`); the groups are the message's variables.
 */
const FIELD_ERRORS: [RegExp, string, string[]][] = [
  [/^is required$/, 'required', []],
  [/^must be text$/, 'notText', []],
  [/^is too long$/, 'tooLong', []],
  [/^is too long \((\d+) characters, (\d+) at most\)$/, 'tooLongCount', ['length', 'max']],
  [/^is not a valid email address$/, 'email', []],
  [/^is not a workshop name/, 'workshop', []],
  [/^must be on one line \(it contains a line break, (U\+[0-9A-F]+)\)$/, 'lineBreak', ['char']],
  [/^must not contain text-direction controls \((U\+[0-9A-F]+) found\)/, 'bidi', ['char']],
  [/^must not contain control characters \((U\+[0-9A-F]+) found\)$/, 'control', ['char']],
  [/^registrations from this address are not accepted/, 'denied', []],
  [/^disposable email addresses are not accepted/, 'disposable', []],
];

/** A field's error as a sentence of its own: "Email is not a valid email address"; a message it does not know stays as it is. */
export function fieldMessage(field: string, message: string, t: T): string {
  if (field === 'acceptTerms') return t('portal.fieldError.acceptTerms');
  for (const [pattern, kind, names] of FIELD_ERRORS) {
    const m = message.match(pattern);
    if (!m) continue;
    const vars = Object.fromEntries(names.map((n, i) => [n, m[i + 1]]));
    if (kind === 'denied' || kind === 'disposable') return t(`portal.fieldError.${kind}`);
    if (LABELLED.includes(field)) return t(`portal.fieldError.${kind}`, { ...vars, label: t(`portal.subject.${field}`) });
  }
  return sentence(message);
}

/** A description cut at a word near `max` characters. */
export function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,.;:!?-]+$/, '')}…`;
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The brand colour, darkened as little as needed for white text on it to reach 4.5:1 (WCAG AA). */
export function readableOnWhite(hex: string): string {
  let rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const toHex = (c: number[]) => `#${c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
  for (let i = 0; i < 60 && 1.05 / (luminance(toHex(rgb)) + 0.05) < 4.5; i++) rgb = rgb.map((v) => v * 0.96);
  return toHex(rgb);
}

/** The states a participant sees, each with `portal.state.<name>.label` and `.text`; registered and deploying read alike. */
const STATES: Record<string, string> = {
  registered: 'preparing',
  deploying: 'preparing',
  ready: 'ready',
  reminded: 'reminded',
  ended: 'ended',
  cleaned: 'cleaned',
  failed: 'failed',
};
const stateText = (state: string, t: T) =>
  STATES[state] ? { label: t(`portal.state.${STATES[state]}.label`), text: t(`portal.state.${STATES[state]}.text`) } : { label: state, text: state };

/**
 * How often a status page that is being prepared reloads itself (static/portal.js, unless the person
 * has started filling in a form): each time costs three indexed reads of the jobs table.
 */
const REFRESH_SECONDS = 5;

/** A ticket for the "check your mail" page: it shows the address, and opens nothing else. */
const ticketFor = (sealer: Sealer, id: number) => `${id}.${sealer.mac(`registered:${id}`)}`;

export function portalRouter(deps: WebDeps): express.Router {
  const { db, config, sealer, registrations } = deps;
  const router = express.Router();
  const brand = config.branding;
  const assetsDir = config.workshops.assetsDir;
  const palette = { brandStrong: readableOnWhite(brand.primaryColor), accentStrong: readableOnWhite(brand.accentColor) };

  router.use((req, res, next) => {
    const prefix = req.app.locals.prefix as string;
    // res.locals.t, read when called: a status page may change the language (speakFor)
    const inWords = (minutes: number) => duration(minutes, res.locals.t as T);
    Object.assign(res.locals, { brand, palette, publicUrl: config.publicUrl, terms: brand.termsUrl ?? `${prefix}terms`, duration: inWords, excerpt, og: null });
    res.set('Content-Security-Policy', PAGE_CSP);
    next();
  });
  router.use('/static', express.static(STATIC_DIR, { maxAge: '1h', index: false }));

  const tOf = (res: Response) => res.locals.t as T;
  const notFound = (req: Request, res: Response, message = tOf(res)('portal.notFound.page')) =>
    res.status(404).render('message', { title: tOf(res)('portal.notFound.title'), message, link: { href: req.app.locals.prefix, text: tOf(res)('portal.seeWorkshops') } });
  const openWorkshop = (req: Request): PublicWorkshop | null => {
    const folder = String(req.params.folder);
    const e = WORKSHOP_FOLDER.test(folder) ? getWorkshop(db, folder) : null;
    return e && e.active ? publicWorkshop(req.app.locals.prefix, deps.locations.seatsOf(e), assetsDir) : null;
  };
  const noWorkshop = (req: Request, res: Response) => notFound(req, res, tOf(res)('portal.notFound.workshop'));

  router.get('/', (req, res) => {
    const t = tOf(res);
    // the tabs of every catalog are words of the page; a category's is the workshops' own
    const tabs = catalogTabs(listWorkshops(db)).map((tab) => ({
      ...tab,
      label: BUILT_IN_TABS.includes(tab.id) ? t(`portal.tab.${tab.id}`) : tab.label,
      entries: tab.entries.map((e) => publicWorkshop(req.app.locals.prefix, deps.locations.seatsOf(e), assetsDir)),
    }));
    const current = tabs.find((tab) => tab.id === req.query.tab) ?? tabs[0];
    res.render('portal/catalog', { title: current.id === 'all' ? t('portal.catalog.title') : t('portal.catalog.tabTitle', { label: current.label }), tabs, current });
  });

  router.get('/workshops/:folder', (req, res) => {
    const w = openWorkshop(req);
    if (!w) return void noWorkshop(req, res);
    const absolute = (u: string | null) => u && `${u.startsWith('/') ? config.publicUrl : ''}${u}`;
    res.render('portal/workshop', {
      title: w.name,
      w,
      og: { title: w.name, description: excerpt(w.description, 200), url: `${config.publicUrl}${w.url}`, image: absolute(w.workshopImg ?? w.badgeImg) },
    });
  });

  /** An image file found by ../catalog/images.ts's `imageFile` (its rules keep every request inside its folder), or 404. */
  const sendImage = (res: Response, found: { file: string; type: string } | null) => {
    if (!found) return void res.status(404).end();
    res.set({ 'Content-Type': found.type, 'Cache-Control': 'public, max-age=3600' });
    if (found.type === 'image/svg+xml') res.set('Content-Security-Policy', SVG_CSP);
    res.sendFile(found.file, { cacheControl: false, dotfiles: 'allow' }, (err) => {
      if (err && !res.headersSent) res.status(404).end();
    });
  };
  const pathParts = (req: Request) => ([] as string[]).concat((req.params as unknown as { file: string[] | string }).file);

  // A file of the workshop's folder or of one subfolder (Pictures/x.png).
  router.get('/workshops/:folder/assets/*file', (req, res) => {
    const folder = String(req.params.folder);
    sendImage(res, WORKSHOP_FOLDER.test(folder) ? imageFile(workshopPath(db, folder), pathParts(req), MAX_DEPTH.workshop) : null);
  });
  // The site assets folder (config workshops.assetsDir): badges/…, wod/SpeakerImages/….
  router.get('/assets/*file', (req, res) => sendImage(res, imageFile(assetsDir, pathParts(req), MAX_DEPTH.site)));
  // The presenter's initials, for a workshop whose avatar is found nowhere.
  router.get('/workshops/:folder/avatar.svg', (req, res) => {
    const folder = String(req.params.folder);
    const e = WORKSHOP_FOLDER.test(folder) ? getWorkshop(db, folder) : null;
    if (!e) return void res.status(404).end();
    res
      .set({ 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=3600', 'Content-Security-Policy': SVG_CSP })
      .send(Buffer.from(avatarSvg(e.presenter ?? tOf(res)('portal.presenter'), initials(e.presenter), brand.primaryColor)));
  });

  type FormExtra = { values?: Record<string, unknown>; errors?: { field: string; message: string }[]; notice?: string | null };
  const renderForm = (res: Response, w: PublicWorkshop, extra: FormExtra = {}) => {
    const t = tOf(res);
    res.render('portal/register', {
      title: t('portal.register.title', { name: w.name }),
      w,
      windowLength: windowLength(w.durationMinutes, t),
      values: extra.values ?? {},
      errors: (extra.errors ?? []).map((e) => ({ field: e.field, text: fieldMessage(e.field, e.message, t), inForm: FORM_FIELDS.includes(e.field) })),
      notice: extra.notice ?? null,
    });
  };

  router.get('/workshops/:folder/register', (req, res) => {
    const w = openWorkshop(req);
    if (!w) return void noWorkshop(req, res);
    renderForm(res, w, { notice: w.full ? `${tOf(res)('portal.refused.full', { name: w.name })}.` : null });
  });

  router.post('/workshops/:folder/register', (req, res) => {
    const w = openWorkshop(req);
    if (!w) return void noWorkshop(req, res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { email: body.email, name: body.name, company: body.company, acceptTerms: body.acceptTerms };
    const outcome = deps.desk.submit({ ...values, workshop: w.folder }, { ip: req.ip ?? 'unknown', source: 'portal', language: askedLanguage(res) });
    const t = tOf(res);
    switch (outcome.status) {
      case 201:
        return void res.redirect(303, `${req.app.locals.prefix}registered/${ticketFor(sealer, outcome.registration.id)}`);
      case 422:
        res.status(422);
        return void renderForm(res, w, { values, errors: outcome.errors });
      case 429:
        res.status(429).set('Retry-After', String(outcome.retryAfterSeconds));
        return void renderForm(res, w, { values, notice: t(`portal.refused.tooMany.${outcome.limit}`) });
      case 404:
        return void noWorkshop(req, res);
      default:
        // 409: already registered (the mail holds the status page, where it can be ended), full, or closed.
        res.status(outcome.status);
        renderForm(res, w, { values, notice: refusal(outcome, w.name, String(values.email), t) });
    }
  });

  router.get('/registered/:ticket', (req, res) => {
    const m = String(req.params.ticket).match(/^(\d{1,12})\.([\w-]{20,})$/);
    const r = m && safeEqual(m[2], sealer.mac(`registered:${m[1]}`)) ? registrations.get(Number(m[1])) : null;
    if (!r) return void notFound(req, res);
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    res.render('portal/registered', {
      title: tOf(res)('portal.registered.title'),
      email: r.participant.email,
      workshopName: r.workshop.name,
      minutes: r.workshop.durationMinutes,
      from: config.mail.from,
    });
  });

  router.get('/terms', (_req, res) => {
    if (brand.termsUrl) return void res.redirect(302, brand.termsUrl);
    res.render('portal/terms', { title: tOf(res)('portal.terms.title') });
  });

  const participant = (req: Request) => {
    const id = verifyStatusToken(sealer, String(req.params.token));
    const r = id === null ? null : registrations.get(id);
    // an erased participant's links open nothing (participants/erase.ts)
    return r && !isErased(r.participant.email) ? r : null;
  };
  const badStatusLink = (req: Request, res: Response) => notFound(req, res, tOf(res)('portal.notFound.statusLink'));
  /** The registration of a status link, its page speaking its language (unless the visitor chose one); null: the 404 is sent. */
  const statusOf = (req: Request, res: Response) => {
    const r = participant(req);
    if (!r) badStatusLink(req, res);
    else speakFor(req, res, deps.languages, r.language);
    return r;
  };

  /** `notice`: a message key and its variables, said in the page's language. */
  const statusPage = (req: Request, res: Response, notice: { key: string; vars?: Vars; kind: 'ok' | 'error' } | null = null) => {
    const r = statusOf(req, res);
    if (!r) return;
    const t = tOf(res);
    const tr = res.locals.tr as Translator;
    const prefix = req.app.locals.prefix as string;
    const queue = queueProgress(db, r.id, config.lifecycle, tr);
    const st = participantStatus(r, hubUrlFor(config, r.location), Date.now(), queue, extensionNow(db, r.id, config.timers.reminderMinutes));
    const entry = st.state === 'cleaned' ? getWorkshop(db, st.workshop.folder) : null;
    const preparing = st.state === 'registered' || st.state === 'deploying';
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).render('portal/status', {
      title: st.workshop.name,
      st,
      token: String(req.params.token),
      // "ends soon" while it does: an extension can move a reminded workshop's end out of the reminder window
      state: stateText(st.state === 'reminded' && (st.secondsLeft ?? 0) > config.timers.reminderMinutes * 60 ? 'ready' : st.state, t),
      timeLeft: st.secondsLeft === null ? null : timeLeft(st.secondsLeft, t),
      deadline: st.deadlineAt ? tr.dateTime(st.deadlineAt) : null,
      extensionReason: st.extension?.code ? t(`portal.extension.${st.extension.code}`, { minutes: config.timers.reminderMinutes }) : null,
      preparing,
      queue: queue && describeQueue(queue, t),
      refreshSeconds: preparing && req.method === 'GET' ? REFRESH_SECONDS : null,
      askSurvey: [...CLOCK_RUNNING, 'ended', 'cleaned'].includes(st.state),
      survey: readSurvey(db, r.id),
      badge: entry ? { page: `${prefix}badges/workshop/${encodeURIComponent(entry.folder)}`, image: publicWorkshop(prefix, entry, assetsDir).badgeImg } : null,
      notice: notice
        ? t(notice.key, notice.vars)
        : req.query.ended
          ? t('portal.status.endedNotice')
          : req.query.thanks
            ? t('portal.status.thanksNotice')
            : req.query.extended && st.deadlineAt
              ? t('portal.status.extendedNotice', { deadline: tr.dateTime(st.deadlineAt) })
              : null,
      noticeKind: notice?.kind ?? 'ok',
    });
  };
  router.get('/status/:token', (req, res) => statusPage(req, res));
  // The start link of a registration seated at a backend (journey/links.ts): only that backend's hub
  // can log them in, so it makes the link now, for this click; any other goes to the status page.
  router.get('/status/:token/start', async (req, res) => {
    const r = statusOf(req, res);
    if (!r) return;
    const peer = r.location ? deps.locations.peers.get(r.location, 'backend') : null;
    const status = `${req.app.locals.prefix}status/${encodeURIComponent(String(req.params.token))}`;
    if (!peer || !(CLOCK_RUNNING as readonly string[]).includes(r.state)) return void res.redirect(303, status);
    try {
      const { url } = startLink.parse(await callPeer(deps.locations.peers, peer, 'POST', `/registrations/${r.id}/start-link`, {}));
      // to that backend's hub only, whatever it answered
      const login = url?.startsWith(`${peer.url}/hub/`) ? url : status;
      res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).redirect(303, login);
    } catch (e) {
      deps.log.warn(`start link of registration ${r.id} from ${peer.name} failed`, { error: (e as Error).message });
      res.redirect(303, status);
    }
  });
  // The forms' answers are POSTs: a reload there, or the language picker's link, lands on the status page.
  router.get(['/status/:token/feedback', '/status/:token/extend', '/status/:token/end'], (req, res) => {
    const query = req.originalUrl.indexOf('?');
    res.redirect(303, `${req.app.locals.prefix}status/${encodeURIComponent(String(req.params.token))}${query < 0 ? '' : req.originalUrl.slice(query)}`);
  });

  // The thanks mail's download of the participant's work (work/link.ts): the zip while it is kept, 410 after.
  router.get('/work/:token', async (req, res) => {
    const found = openDownload(db, sealer, String(req.params.token));
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    const t = tOf(res);
    if (found.kind === 'invalid') return void notFound(req, res, t('portal.notFound.downloadLink'));
    const gone = () =>
      void res.status(410).render('message', {
        title: t('portal.gone.title'),
        message: t('portal.gone.work', { count: config.participants.workDays }),
        link: { href: req.app.locals.prefix, text: t('portal.seeWorkshops') },
      });
    if (found.kind === 'gone') return gone();
    // opened before any zip header: a file the sweep deleted meanwhile is the 410 page; once open, it is read whole
    const fh = await fs.promises.open(found.file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW).catch(() => null);
    if (!fh) return gone();
    const size = await fh.stat().then(
      (st) => (st.isFile() ? st.size : null),
      () => null,
    );
    if (size === null) {
      await fh.close();
      return gone();
    }
    res.set({ 'Content-Type': 'application/zip', 'Content-Length': String(size), 'Content-Disposition': `attachment; filename="${found.name}"` });
    fh.createReadStream({ autoClose: true })
      .on('error', () => void res.destroy())
      .pipe(res);
  });

  router.post('/status/:token/feedback', (req, res) => {
    const r = statusOf(req, res);
    if (!r) return;
    const answer = surveyInput.safeParse(req.body);
    if (!answer.success) {
      res.status(422);
      // what is wrong with each answer, in the page's words; the survey's own messages are for the API
      const t = tOf(res);
      const problems = SURVEY_FIELDS.flatMap((f) => {
        const issue = answer.error.issues.find((i) => i.path[0] === f);
        if (!issue) return [];
        if (f === 'rating' || f === 'recommend') return [t(`portal.survey.problem.${f}`)];
        const field = t(`portal.survey.field.${f}`);
        const long = issue.message.match(/^is too long \((\d+) characters, (\d+) at most\)$/);
        return [long ? t('portal.survey.problem.tooLong', { field, length: long[1], max: long[2] }) : t('portal.survey.problem.text', { field })];
      });
      return statusPage(req, res, {
        key: problems.length ? 'portal.survey.incomplete' : 'portal.survey.unanswered',
        vars: { problems: problems.join(t('portal.listSeparator')) },
        kind: 'error',
      });
    }
    db.transaction(() => {
      saveSurvey(db, r.id, answer.data, `participant:${r.participant.email}`);
      deps.letters.feedback(r.id, answer.data.rating);
    })();
    res.redirect(303, `${req.app.locals.prefix}status/${req.params.token}?thanks=1#feedback`);
  });

  // More time (registrations/extension.ts): the button shows only when it would be granted; a
  // refusal (the page was old, someone took the last chance) shows its reason.
  router.post('/status/:token/extend', (req, res) => {
    const r = statusOf(req, res);
    if (!r) return;
    try {
      askExtension(db, registrations, r.id, `participant:${r.participant.email}`, config.timers.reminderMinutes);
      res.redirect(303, `${req.app.locals.prefix}status/${req.params.token}?extended=1`);
    } catch (e) {
      if (!(e instanceof ExtensionError)) throw e;
      res.status(409);
      statusPage(req, res, {
        key: 'portal.extension.refused',
        vars: { reason: tOf(res)(`portal.extension.${e.code}`, { minutes: config.timers.reminderMinutes }) },
        kind: 'error',
      });
    }
  });

  router.post('/status/:token/end', (req, res) => {
    const r = statusOf(req, res);
    if (!r) return;
    if ((req.body as { confirm?: string } | undefined)?.confirm !== 'yes') {
      res.status(422);
      return statusPage(req, res, { key: 'portal.status.confirmEnd', kind: 'error' });
    }
    try {
      registrations.end(r.id, `participant:${r.participant.email}`, 'participant');
      res.redirect(303, `${req.app.locals.prefix}status/${req.params.token}?ended=1`);
    } catch (e) {
      if (!(e instanceof RegistrationError)) throw e;
      res.status(e.status);
      // the other codes (an unknown registration) cannot come from a valid status link
      statusPage(req, res, { key: e.code === 'not-running' ? 'portal.status.alreadyEnded' : 'portal.status.endFailed', kind: 'error' });
    }
  });

  // Public badge pages, made to be shared: OpenGraph tags carry the title, description and image.
  router.get('/badges/workshop/:folder', (req, res) => {
    const folder = String(req.params.folder);
    const e = WORKSHOP_FOLDER.test(folder) ? getWorkshop(db, folder) : null;
    const t = tOf(res);
    if (!e) return void notFound(req, res, t('portal.notFound.badge'));
    const w = publicWorkshop(req.app.locals.prefix, e, assetsDir);
    const image = `${config.publicUrl}${drawnBadgeUrl(req.app.locals.prefix)}`;
    const badge = w.badgeImg ? `${w.badgeImg.startsWith('/') && !w.badgeImg.startsWith('//') ? config.publicUrl : ''}${w.badgeImg}` : image;
    const url = `${config.publicUrl}${req.app.locals.prefix}badges/workshop/${folder}`;
    const title = t('portal.badge.workshopTitle', { name: w.name });
    const description = t('portal.badge.workshopDescription', { name: w.name, site: brand.name });
    res.render('portal/badge', { title, description, image: badge, url, og: { title, description, url, image: badge } });
  });
  router.get('/badges/:slug.svg', (req, res) => {
    const m = MILESTONES.find((x) => milestoneSlug(x.name) === req.params.slug) ?? (req.params.slug === 'finisher' ? { name: 'Finisher', count: 1 } : null);
    if (!m) return void res.status(404).end();
    const t = tOf(res);
    const level = levelName(res.locals.tr as Translator, m.name);
    res
      .set({ 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=86400' })
      .send(Buffer.from(badgeSvg(t('portal.badge.milestoneTitle', { name: level }), level, t('portal.badge.workshops', { count: m.count }), brand.primaryColor)));
  });
  router.get('/badges/:slug', (req, res) => {
    const m = MILESTONES.find((x) => milestoneSlug(x.name) === req.params.slug);
    const t = tOf(res);
    if (!m) return void notFound(req, res, t('portal.notFound.badge'));
    const url = `${config.publicUrl}${req.app.locals.prefix}badges/${req.params.slug}`;
    const title = t('portal.badge.milestoneTitle', { name: levelName(res.locals.tr as Translator, m.name) });
    const description = t('portal.badge.milestoneDescription', { count: m.count, site: brand.name });
    const image = `${url}.svg`;
    res.render('portal/badge', { title, description, image, url, og: { title, description, url, image } });
  });

  return router;
}

/** A registration the desk refused (409), as the form says it; a code it has no words for keeps the domain's. */
export function refusal(o: { code: string; message: string; details: Record<string, unknown> }, workshopName: string, email: string, t: T): string {
  switch (o.code) {
    case 'full':
      return t('portal.refused.full', { name: workshopName });
    case 'inactive':
      return t('portal.refused.inactive', { name: workshopName });
    case 'already-registered':
      // the address as the desk stored it (registrations/input.ts: trimmed, lower case)
      return t('portal.refused.alreadyRegistered', { email: email.trim().toLowerCase(), workshop: String(o.details.workshop) });
    default:
      return sentence(o.message);
  }
}

const esc = (t: string) => t.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** "Grace Hopper" → "GH"; "ada" → "A"; no presenter → "?". */
export function initials(name: string | null): string {
  const words = (name ?? '').trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return letters.map((w) => [...w][0]!.toUpperCase()).join('') || '?';
}

/** A presenter drawn rather than shipped: their initials on the brand colour. */
function avatarSvg(label: string, letters: string, colour: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 80 80" role="img" aria-label="${esc(label)}">
  <circle cx="40" cy="40" r="40" fill="${esc(colour)}"/>
  <text x="40" y="40" dy="0.35em" text-anchor="middle" font-family="sans-serif" font-size="32" font-weight="700" fill="#fff">${esc(letters)}</text>
</svg>
`;
}

/** A milestone badge, drawn rather than shipped: a medal with the level and the count ("3 workshops"). */
function badgeSvg(label: string, name: string, count: string, colour: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" role="img" aria-label="${esc(label)}">
  <circle cx="100" cy="100" r="94" fill="${esc(colour)}"/><circle cx="100" cy="100" r="80" fill="none" stroke="#fff" stroke-width="4" stroke-dasharray="6 6"/>
  <text x="100" y="92" text-anchor="middle" font-family="sans-serif" font-size="${name.length > 8 ? 22 : 28}" font-weight="700" fill="#fff">${esc(name)}</text>
  <text x="100" y="126" text-anchor="middle" font-family="sans-serif" font-size="18" fill="#fff">${esc(count)}</text>
</svg>
`;
}
