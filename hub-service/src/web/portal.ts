/**
 * The public portal, server-rendered: the catalog (tabs All / Latest / Popular / per category),
 * workshop pages, the register form, the "check your mail" page, the terms, and the participant's
 * status page reached by the signed link of their mails (time left, start, end now).
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response } from 'express';
import { type Sealer, safeEqual } from '../auth/seal.js';
import { catalogTabs, getWorkshop, listWorkshops } from '../catalog/catalog.js';
import { WORKSHOP_FOLDER } from '../catalog/spec.js';
import { MILESTONES } from '../mail-out/content.js';
import { RegistrationError } from '../registrations/registrations.js';
import { verifyStatusToken } from '../registrations/status-token.js';
import { readSurvey, saveSurvey, surveyInput } from '../registrations/survey.js';
import type { WebDeps } from './deps.js';
import { participantStatus, publicWorkshop } from './views.js';

const STATIC_DIR = path.resolve(__dirname, '..', '..', 'static');
const IMAGES: Record<string, string> = { '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp' };
const LABELS = { email: 'Email', name: 'Full name', company: 'Company or school', acceptTerms: 'Terms and conditions', workshop: 'Workshop' };

export function duration(minutes: number): string {
  if (minutes % 60 === 0) return `${minutes / 60} hour${minutes === 60 ? '' : 's'}`;
  return minutes > 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} minutes`;
}

export function timeLeft(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h ? `${h} h ${m} min` : `${m} min`;
}

const STATE_TEXT: Record<string, string> = {
  registered: 'Your workshop is being prepared: your login arrives by mail in a few seconds.',
  deploying: 'Your workshop is being prepared: your login arrives by mail in a few seconds.',
  ready: 'Your workshop is ready.',
  reminded: 'Your workshop is ready, and ends soon.',
  ended: 'Your workshop has ended; its account is being cleaned.',
  cleaned: 'Your workshop is finished. Thank you for taking part!',
  failed: 'We could not prepare your workshop, sorry. Your seat is free again: please register again.',
};

/** A ticket for the "check your mail" page: it shows the address, and opens nothing else. */
const ticketFor = (sealer: Sealer, id: number) => `${id}.${sealer.mac(`registered:${id}`)}`;

export function portalRouter(deps: WebDeps): express.Router {
  const { db, config, sealer, registrations } = deps;
  const router = express.Router();
  const brand = config.branding;
  const terms = (prefix: string) => brand.termsUrl ?? `${prefix}terms`;

  router.use((req, res, next) => {
    Object.assign(res.locals, { brand, publicUrl: config.publicUrl, terms: terms(req.app.locals.prefix), duration, og: null });
    next();
  });
  router.use('/static', express.static(STATIC_DIR, { maxAge: '1h', index: false }));

  const notFound = (res: Response, message = 'There is no such page.') => res.status(404).render('message', { title: 'Not found', message });
  const openWorkshop = (req: Request) => {
    const folder = String(req.params.folder);
    const e = WORKSHOP_FOLDER.test(folder) ? getWorkshop(db, folder) : null;
    return e && e.active ? publicWorkshop(req.app.locals.prefix, e) : null;
  };

  router.get('/', (req, res) => {
    const tabs = catalogTabs(listWorkshops(db)).map((t) => ({ ...t, entries: t.entries.map((e) => publicWorkshop(req.app.locals.prefix, e)) }));
    const current = tabs.find((t) => t.id === req.query.tab) ?? tabs[0];
    res.render('portal/catalog', { title: 'Workshops', tabs, current });
  });

  router.get('/workshops/:folder', (req, res) => {
    const w = openWorkshop(req);
    if (!w) return void notFound(res, 'There is no open workshop of that name.');
    res.render('portal/workshop', {
      title: w.name,
      w,
      og: { title: w.name, description: w.description.slice(0, 200), url: `${config.publicUrl}${w.url}`, image: w.badgeImg && `${w.badgeImg.startsWith('/') ? config.publicUrl : ''}${w.badgeImg}` },
    });
  });

  router.get('/workshops/:folder/assets/*file', (req, res) => {
    const folder = String(req.params.folder);
    const file = ([] as string[]).concat((req.params as unknown as { file: string[] }).file).join('/');
    const row = WORKSHOP_FOLDER.test(folder) ? (db.prepare('SELECT path FROM workshops WHERE folder = ? AND removed_at IS NULL').get(folder) as { path: string } | undefined) : undefined;
    const type = IMAGES[path.extname(file).toLowerCase()];
    if (!row || !type) return void res.status(404).end();
    const full = path.resolve(row.path, file);
    if (!full.startsWith(row.path + path.sep) || !fs.existsSync(full)) return void res.status(404).end();
    res.set({ 'Content-Type': type, 'Cache-Control': 'public, max-age=3600' });
    if (type === 'image/svg+xml') res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    fs.createReadStream(full).pipe(res);
  });

  const renderForm = (res: Response, w: NonNullable<ReturnType<typeof openWorkshop>>, extra: { values?: Record<string, unknown>; errors?: { field: string; message: string }[]; notice?: string } = {}) =>
    res.render('portal/register', { title: `Register: ${w.name}`, w, values: extra.values ?? {}, errors: extra.errors ?? [], notice: extra.notice ?? null, labels: LABELS });

  router.get('/workshops/:folder/register', (req, res) => {
    const w = openWorkshop(req);
    if (!w) return void notFound(res, 'There is no open workshop of that name.');
    renderForm(res, w);
  });

  router.post('/workshops/:folder/register', (req, res) => {
    const w = openWorkshop(req);
    if (!w) return void notFound(res, 'There is no open workshop of that name.');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { email: body.email, name: body.name, company: body.company, acceptTerms: body.acceptTerms };
    const outcome = deps.desk.submit({ ...values, workshop: w.folder }, { ip: req.ip ?? 'unknown', source: 'portal' });
    switch (outcome.status) {
      case 201:
        res.redirect(303, `${req.app.locals.prefix}registered/${ticketFor(sealer, outcome.registration.id)}`);
        return;
      case 422:
        res.status(422);
        renderForm(res, w, { values, errors: outcome.errors });
        return;
      case 429:
        res.status(429).set('Retry-After', String(outcome.retryAfterSeconds));
        renderForm(res, w, { values, notice: outcome.message });
        return;
      default:
        res.status(outcome.status);
        renderForm(res, w, { values, notice: outcome.message });
    }
  });

  router.get('/registered/:ticket', (req, res) => {
    const m = String(req.params.ticket).match(/^(\d{1,12})\.([\w-]{20,})$/);
    const r = m && safeEqual(m[2], sealer.mac(`registered:${m[1]}`)) ? registrations.get(Number(m[1])) : null;
    if (!r) return void notFound(res);
    res.set('Cache-Control', 'no-store').render('portal/registered', { title: 'Check your mail', email: r.participant.email, workshopName: r.workshop.name });
  });

  router.get('/terms', (_req, res) => {
    if (brand.termsUrl) return void res.redirect(brand.termsUrl);
    res.render('portal/terms', { title: 'Terms of use' });
  });

  const statusPage = (req: Request, res: Response, notice: { text: string; kind: 'ok' | 'error' } | null = null) => {
    const token = String(req.params.token);
    const id = verifyStatusToken(sealer, token);
    const r = id === null ? null : registrations.get(id);
    if (!r) return void notFound(res, 'This status link is not valid; use the link from your mail.');
    const st = participantStatus(r, config.publicUrl);
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).render('portal/status', {
      title: st.workshop.name,
      st,
      token,
      stateText: STATE_TEXT[st.state] ?? st.state,
      timeLeft: st.secondsLeft === null ? '' : timeLeft(st.secondsLeft),
      survey: readSurvey(db, r.id),
      notice: notice?.text ?? (req.query.ended ? 'Your workshop has ended. Its account is being cleaned now.' : req.query.thanks ? 'Thank you for your answer!' : null),
      noticeKind: notice?.kind ?? 'ok',
    });
  };
  router.get('/status/:token', (req, res) => statusPage(req, res));
  router.post('/status/:token/feedback', (req, res) => {
    const id = verifyStatusToken(sealer, String(req.params.token));
    const r = id === null ? null : registrations.get(id);
    if (!r) return void notFound(res, 'This status link is not valid; use the link from your mail.');
    const answer = surveyInput.safeParse(req.body);
    if (!answer.success) {
      res.status(422);
      return statusPage(req, res, { text: `Please complete your answer: ${answer.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}.`, kind: 'error' });
    }
    db.transaction(() => {
      saveSurvey(db, r.id, answer.data, `participant:${r.participant.email}`);
      deps.letters.feedback(r.id, answer.data.rating);
    })();
    res.redirect(303, `${req.app.locals.prefix}status/${req.params.token}?thanks=1#feedback`);
  });

  router.post('/status/:token/end', (req, res) => {
    const id = verifyStatusToken(sealer, String(req.params.token));
    const r = id === null ? null : registrations.get(id);
    if (!r) return void notFound(res, 'This status link is not valid; use the link from your mail.');
    if ((req.body as { confirm?: string } | undefined)?.confirm !== 'yes') {
      res.status(422);
      return statusPage(req, res, { text: 'Tick the box to confirm that you want to end your workshop now.', kind: 'error' });
    }
    try {
      registrations.end(r.id, `participant:${r.participant.email}`, 'participant');
      res.redirect(303, `${req.app.locals.prefix}status/${req.params.token}?ended=1`);
    } catch (e) {
      if (!(e instanceof RegistrationError)) throw e;
      res.status(e.status);
      statusPage(req, res, { text: e.message, kind: 'error' });
    }
  });

  // Public badge pages, made to be shared: OpenGraph tags carry the title, description and image.
  router.get('/badges/workshop/:folder', (req, res) => {
    const folder = String(req.params.folder);
    const e = WORKSHOP_FOLDER.test(folder) ? getWorkshop(db, folder) : null;
    if (!e) return void notFound(res, 'There is no such badge.');
    const w = publicWorkshop(req.app.locals.prefix, e);
    const image = w.badgeImg ? `${w.badgeImg.startsWith('/') ? config.publicUrl : ''}${w.badgeImg}` : `${config.publicUrl}${req.app.locals.prefix}badges/finisher.svg`;
    const url = `${config.publicUrl}${req.app.locals.prefix}badges/workshop/${folder}`;
    const title = `${w.name}: finisher`;
    const description = `Completed the hands-on ${w.name} workshop on ${brand.name}.`;
    res.render('portal/badge', { title, description, image, url, og: { title, description, url, image } });
  });
  router.get('/badges/:slug.svg', (req, res) => {
    const m = MILESTONES.find((x) => slugOf(x.name) === req.params.slug) ?? (req.params.slug === 'finisher' ? { name: 'Finisher', count: 1 } : null);
    if (!m) return void res.status(404).end();
    res.set({ 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=86400' }).send(Buffer.from(badgeSvg(m.name, m.count, brand.primaryColor)));
  });
  router.get('/badges/:slug', (req, res) => {
    const m = MILESTONES.find((x) => slugOf(x.name) === req.params.slug);
    if (!m) return void notFound(res, 'There is no such badge.');
    const url = `${config.publicUrl}${req.app.locals.prefix}badges/${req.params.slug}`;
    const title = `${m.name} badge`;
    const description = `Completed ${m.count} hands-on workshops on ${brand.name}.`;
    const image = `${url}.svg`;
    res.render('portal/badge', { title, description, image, url, og: { title, description, url, image } });
  });

  return router;
}

const slugOf = (name: string) => name.toLowerCase().replace(/\s+/g, '-');

/** A milestone badge, drawn rather than shipped: a medal with the level and the count. */
function badgeSvg(name: string, count: number, colour: string): string {
  const esc = (t: string) => t.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" role="img" aria-label="${esc(name)} badge">
  <circle cx="100" cy="100" r="94" fill="${esc(colour)}"/><circle cx="100" cy="100" r="80" fill="none" stroke="#fff" stroke-width="4" stroke-dasharray="6 6"/>
  <text x="100" y="92" text-anchor="middle" font-family="sans-serif" font-size="${name.length > 8 ? 22 : 28}" font-weight="700" fill="#fff">${esc(name)}</text>
  <text x="100" y="126" text-anchor="middle" font-family="sans-serif" font-size="18" fill="#fff">${count} workshop${count === 1 ? '' : 's'}</text>
</svg>
`;
}
