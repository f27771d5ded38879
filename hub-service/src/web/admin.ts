/**
 * The admin panel, behind hub OAuth (a session or token carrying custom:wod:admin only): a dashboard,
 * workshops (edit, import now), registrations (search, detail, end), survey answers, the student
 * pool, jobs with their step logs, and actions (a verb on a student or a range). Forms carry the
 * session's CSRF token.
 */
import express, { type Request, type Response } from 'express';
import type { z } from 'zod';
import { auditTrail } from '../audit/audit.js';
import { dataPaths } from '../config/paths.js';
import { getWorkshop, listWorkshops, updateWorkshop, WorkshopUpdateError } from '../catalog/catalog.js';
import { type ImportReport, PINNABLE } from '../catalog/sync.js';
import { WORKSHOP_FOLDER } from '../catalog/spec.js';
import { getJob, listJobs } from '../jobs/queries.js';
import { serverHealth, serversDown } from '../lifecycle/reconcile.js';
import { placeAction } from '../registrations/order-desk.js';
import { OrderError } from '../mail-in/orders.js';
import { getMail, listMails } from '../mail-out/queries.js';
import { NotStuck, rangeState, retryStuck, stuckStudents } from '../pool/pool.js';
import { registrationFigures } from '../registrations/queries.js';
import { RegistrationError } from '../registrations/registrations.js';
import { listSurveys, surveySummary } from '../registrations/survey.js';
import { VERSION } from '../version.js';
import { actionInput, extendInput, registrationQuery, surveyQuery, warmEventInput, workshopPatch } from './api-schemas.js';
import { cancelWarm, listWarmEvents, scheduleWarm, WarmEventError, warmTargets } from '../lifecycle/warm.js';
import type { WebDeps } from './deps.js';
import { adminServer } from './views.js';
import { parsePoolPageQuery, poolPage } from './admin-pool.js';
import { REGISTRATION_STATES } from '../registrations/states.js';
import { recentStops } from '../watchdog/watchdog.js';
import { capacityLines } from './capacity-view.js';
import { roomPage, UPLOT_DIR } from './admin-room.js';
import { seatsThatFit } from '../capacity/capacity.js';
import { eraseParticipant } from '../participants/erase.js';
import { findArchive } from '../work/records.js';
import { isErased, ParticipantError } from '../participants/participants.js';
import type { CapacityFigures } from '../capacity/meter.js';
import { presentLocations } from './locations-view.js';

export function adminRouter(deps: WebDeps): express.Router {
  const { db, config, registrations } = deps;
  const router = express.Router();
  router.use(deps.auth.requireUser, deps.auth.requireWodAdmin, deps.auth.requireCsrf);
  router.use('/assets/uplot', express.static(UPLOT_DIR, { maxAge: '1h', index: false }));
  const actor = (req: Request) => `admin:${req.visitor!.name}`;
  const render = (req: Request, res: Response, view: string, section: string, locals: Record<string, unknown>) =>
    res.render(`admin/${view}`, { title: `${section} · wod admin`, section, visitor: req.visitor, csrfToken: req.csrfToken, notice: null, ...locals });
  const notFound = (res: Response, what: string) => res.status(404).render('message', { title: 'Not found', message: `There is no ${what}.` });
  const positiveId = (value: unknown) => (/^\d{1,12}$/.test(String(value)) ? Number(value) : null);
  /** Lists are pages of 50: the page asked for, 1 when none or nonsense. */
  const pageOf = (req: Request) => (/^\d{1,6}$/.test(String(req.query.page)) ? Math.max(1, Number(req.query.page)) : 1);
  const invalidSearch = (res: Response, error: z.ZodError) =>
    res.status(422).render('message', { title: 'Invalid search', message: error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });

  /** Warm seats on the dashboard, with a warning when the targets need more seats than this host can hold now. */
  const warmView = (f: CapacityFigures) => {
    const workshops = warmTargets(db);
    // a warm seat costs what was measured of warm seats, else what a working one does
    const seatsMore = f.availableBytes === null ? null : seatsThatFit(f.availableBytes, f.perWarmSeatBytes ?? f.perSeatBytes, f.reserveBytes);
    const toPrepare = workshops.reduce((n, w) => n + Math.max(0, w.target - w.ready - w.preparing), 0);
    const warning =
      seatsMore !== null && toPrepare > seatsMore
        ? `The warm targets need ${toPrepare} more seat${toPrepare === 1 ? '' : 's'}; this host can hold ${seatsMore} more now (see Capacity): lower a target or an event.`
        : null;
    return { workshops, events: listWarmEvents(db), warning };
  };
  const WARM_NOTICES: Record<string, { text: string; kind: string }> = {
    scheduled: { text: 'Event scheduled.', kind: 'ok' },
    cancelled: { text: 'Event cancelled.', kind: 'ok' },
    unknown: { text: 'There is no such event.', kind: 'error' },
  };

  const dashboard = async (req: Request, res: Response, notice: { text: string; kind: string } | null) => {
    const hubVersion = await deps.hubProbe.info().then(
      (i) => i.version,
      () => null,
    );
    const workshops = listWorkshops(db, { includeInactive: true }).filter((w) => !w.removed);
    const pool = rangeState(db, 1, config.students.count);
    const survey = surveySummary(db);
    const figures = registrationFigures(db, new Date().toISOString().slice(0, 10));
    const down = serversDown(db);
    // read once: the capacity block and the warm seats' warning say the same figures
    const capacity = deps.capacity.figures();
    render(req, res, 'index', 'Dashboard', {
      stats: {
        'active workshops': workshops.filter((w) => w.active).length,
        'running registrations': figures.running,
        'registrations today': figures.createdSince,
        'free seats': workshops.filter((w) => w.active).reduce((sum, w) => sum + w.seats, 0),
        'students free': pool.free,
        'students allocated': pool.allocated,
        'students to clean': pool.cleanup,
        'students stuck': stuckStudents(db).length,
        'failed jobs': listJobs(db, { state: 'failed', limit: 0, offset: 0 }).total,
        'servers down': down.length,
        'survey answers': survey.answers,
        'mean rating': survey.meanRating === null ? '–' : `${survey.meanRating.toFixed(1)} / 5`,
        'would recommend': survey.recommend === null ? '–' : `${Math.round(survey.recommend * 100)} %`,
      },
      byWorkshop: workshops.map((w) => {
        const f = figures.finishedByWorkshop.find((x) => x.folder === w.folder);
        return { folder: w.folder, name: w.name, running: w.running, seats: w.seats, participants: w.participants, finished: f?.n ?? 0, completion: f?.completion ?? null };
      }),
      serversDown: down,
      watchdog: { enabled: config.watchdog.enabled, stops: recentStops(db, 20) },
      capacity: capacityLines(capacity),
      warm: warmView(capacity),
      locations: presentLocations(db, deps.locations, config.locations.name ?? null),
      notice,
      facts: {
        'wod version': VERSION,
        'JupyterHub version': hubVersion ?? 'not answering',
        'student mode': config.students.mode,
        'student homes': config.students.homeRoot,
        'public URL': config.publicUrl,
      },
    });
  };

  type WorkshopForm = { active: boolean; capacity: string; priority: string; warm: string };
  const workshopsPage = (
    req: Request,
    res: Response,
    extra: { report?: ImportReport; errors?: Record<string, string>; values?: Record<string, WorkshopForm>; notice?: { text: string; kind: string } } = {},
  ) => {
    const workshops = listWorkshops(db, { includeInactive: true });
    const report = extra.report ?? null;
    // A folder that failed to load is neither imported nor removed: its row stays as it was.
    const listed = new Set(report ? [...report.inserted, ...report.updated, ...report.deactivated, ...report.unchanged] : []);
    const saved = typeof req.query.saved === 'string' && WORKSHOP_FOLDER.test(req.query.saved) ? req.query.saved : null;
    render(req, res, 'workshops', 'Workshops', {
      workshops,
      dirs: [config.workshops.dir, config.workshops.overlayDir].filter(Boolean).join(' and '),
      report,
      kept: report ? workshops.filter((w) => !w.removed && !listed.has(w.folder)).map((w) => w.folder) : [],
      errors: extra.errors ?? {},
      values: extra.values ?? {},
      saved,
      notice: extra.notice ?? (saved ? { text: `${saved} saved.`, kind: 'ok' } : null),
    });
  };
  router.get('/workshops', (req, res) => workshopsPage(req, res));
  router.post('/workshops/import', (req, res) => {
    const report = deps.importCatalog(actor(req));
    const errors = report.problems.filter((p) => p.severity === 'error').length;
    const warnings = report.problems.length - errors;
    const found = [errors && `${errors} error${errors === 1 ? '' : 's'}`, warnings && `${warnings} warning${warnings === 1 ? '' : 's'}`].filter(Boolean).join(' and ');
    workshopsPage(req, res, { report, notice: { text: `Imported${found ? `, with ${found}: see the report below` : ' without any problem'}.`, kind: errors ? 'error' : 'ok' } });
  });
  router.post('/workshops/:folder', (req, res) => {
    const folder = String(req.params.folder);
    const current = WORKSHOP_FOLDER.test(folder) ? getWorkshop(db, folder) : null;
    if (!current) return void notFound(res, `workshop ${folder}`);
    const body = req.body as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
    const typed: WorkshopForm = { active: body.active === 'on', capacity: text(body.capacity), priority: text(body.priority), warm: text(body.warm ?? String(current.warm)) };
    const problems: string[] = [];
    const size = current.range[1] - current.range[0] + 1;
    const whole = (field: 'capacity' | 'priority' | 'warm', min = -1e9) => {
      if (/^-?\d{1,9}$/.test(typed[field]) && Number(typed[field]) >= min) return Number(typed[field]);
      problems.push(field === 'priority' ? `${field}: give a whole number` : `${field}: give a whole number from 0 to ${size}`);
      return current[field];
    };
    const form = { active: typed.active, capacity: whole('capacity', 0), priority: whole('priority'), warm: whole('warm', 0) };
    // Only what changed: an unchanged field must not become pinned.
    const changed = Object.fromEntries(PINNABLE.filter((k) => form[k] !== current[k]).map((k) => [k, form[k]]));
    const refuse = (message: string) => {
      res.status(422);
      workshopsPage(req, res, { errors: { [folder]: message }, values: { [folder]: typed }, notice: { text: `${folder} not saved: ${message}`, kind: 'error' } });
    };
    if (problems.length) return refuse(problems.join('; '));
    if (!Object.keys(changed).length) return void res.redirect(303, `${req.app.locals.prefix}admin/workshops#w-${folder}`);
    const patch = workshopPatch.safeParse(changed);
    if (!patch.success) return refuse(patch.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    try {
      updateWorkshop(db, folder, patch.data, actor(req));
      res.redirect(303, `${req.app.locals.prefix}admin/workshops?saved=${encodeURIComponent(folder)}#w-${folder}`);
    } catch (e) {
      if (!(e instanceof WorkshopUpdateError)) throw e;
      refuse(e.message);
    }
  });

  router.get('/registrations', (req, res) => {
    const page = pageOf(req);
    const raw = Object.fromEntries(Object.entries(req.query).filter(([k, v]) => ['q', 'state', 'workshop'].includes(k) && v));
    const q = registrationQuery.safeParse({ ...raw, limit: 50, offset: (page - 1) * 50 });
    if (!q.success) return void invalidSearch(res, q.error);
    const { items, total } = registrations.search(q.data);
    render(req, res, 'registrations', 'Registrations', {
      items,
      total,
      page,
      query: raw,
      states: REGISTRATION_STATES,
      folders: listWorkshops(db, { includeInactive: true }).map((w) => w.folder),
    });
  });
  const registrationPage = (req: Request, res: Response, id: number, notice: { text: string; kind: string } | null = null) => {
    const r = registrations.get(id);
    if (!r) return void notFound(res, `registration ${id}`);
    render(req, res, 'registration', 'Registrations', {
      r,
      server: adminServer(r.state, serverHealth(db, id)),
      work: findArchive(db, id),
      notice:
        notice ??
        (req.query.ended
          ? { text: 'Ended: the CLEANUP job takes the seat back.', kind: 'ok' }
          : req.query.erased
            ? { text: "Participant's personal data erased.", kind: 'ok' }
            : null),
      erased: isErased(r.participant.email),
      // Oldest first, each with its steps: the registration's story in order.
      jobs: listJobs(db, { registrationId: id, limit: 100, offset: 0 })
        .items.reverse()
        .map((j) => getJob(db, j.id)!),
      mails: listMails(db, { registrationId: id, limit: 100, offset: 0 }).items,
      survey: r.survey,
      audit: auditTrail(db, { type: 'registration', id }),
    });
  };
  router.get('/registrations/:id', (req, res) => {
    const id = positiveId(req.params.id);
    if (id === null) return void notFound(res, 'such registration');
    registrationPage(req, res, id);
  });
  router.post('/registrations/:id/end', (req, res) => {
    const id = positiveId(req.params.id);
    if (id === null) return void notFound(res, 'such registration');
    if ((req.body as { confirm?: string }).confirm !== 'yes') {
      res.status(422);
      return registrationPage(req, res, id, { text: 'Tick the box to confirm.', kind: 'error' });
    }
    try {
      registrations.end(id, actor(req), 'admin');
      res.redirect(303, `${req.app.locals.prefix}admin/registrations/${id}?ended=1`);
    } catch (e) {
      if (!(e instanceof RegistrationError)) throw e;
      res.status(e.status);
      registrationPage(req, res, id, { text: e.message, kind: 'error' });
    }
  });

  // Erasing the participant of a registration, from its page: the page comes back with the outcome.
  router.post('/registrations/:id/erase-participant', (req, res) => {
    const id = positiveId(req.params.id);
    const r = id === null ? null : registrations.get(id);
    if (!r) return void notFound(res, 'such registration');
    // its own field, apart from the end form's confirm: ticking one never confirms the other
    if ((req.body as { erase?: string }).erase !== 'yes') {
      res.status(422);
      return registrationPage(req, res, r.id, { text: 'Tick the box to confirm the erasure.', kind: 'error' });
    }
    try {
      const erasure = eraseParticipant(db, r.participant.id, { actor: actor(req), outboxDir: dataPaths(config).outbox });
      // the erasure stands: a VACUUM or checkpoint that failed after it is logged, not a failed erasure
      if (erasure.warning) deps.log.warn('participant erased, with a warning', { participant: erasure.participant, warning: erasure.warning });
      res.redirect(303, `${req.app.locals.prefix}admin/registrations/${r.id}?erased=1`);
    } catch (e) {
      if (!(e instanceof ParticipantError)) throw e;
      res.status(e.status);
      registrationPage(req, res, r.id, { text: e.message, kind: 'error' });
    }
  });

  router.post('/registrations/:id/extend', (req, res) => {
    const id = positiveId(req.params.id);
    if (id === null) return void notFound(res, 'such registration');
    const x = extendInput.safeParse(req.body);
    try {
      if (!x.success) throw new RegistrationError(409, 'not-running', 'give the minutes, from 1 to 1440');
      const r = registrations.extend(id, x.data.minutes, actor(req));
      registrationPage(req, res, id, { text: `Extended by ${x.data.minutes} minutes: the deadline is now ${r.deadlineAt}.`, kind: 'ok' });
    } catch (e) {
      if (!(e instanceof RegistrationError)) throw e;
      res.status(x.success ? e.status : 422);
      registrationPage(req, res, id, { text: e.message, kind: 'error' });
    }
  });
  router.post('/registrations/:id/credentials', async (req, res, next) => {
    const id = positiveId(req.params.id);
    if (id === null) return void notFound(res, 'such registration');
    try {
      await deps.letters.newCredentials(id);
      registrationPage(req, res, id, { text: 'New credentials mailed; the old password no longer works.', kind: 'ok' });
    } catch (e) {
      if (!(e instanceof RegistrationError)) return next(e);
      res.status(e.status);
      registrationPage(req, res, id, { text: e.message, kind: 'error' });
    }
  });

  router.get('/surveys', (req, res) => {
    const page = pageOf(req);
    const workshop = typeof req.query.workshop === 'string' && req.query.workshop ? req.query.workshop : undefined;
    const q = surveyQuery.safeParse({ workshop, limit: 50, offset: (page - 1) * 50 });
    if (!q.success) return void invalidSearch(res, q.error);
    render(req, res, 'surveys', 'Surveys', {
      ...listSurveys(db, q.data),
      page,
      workshop: workshop ?? '',
      folders: listWorkshops(db, { includeInactive: true }).map((w) => w.folder),
    });
  });

  router.get('/mails', (req, res) => {
    const { items, total } = listMails(db, { limit: 200, offset: 0 });
    render(req, res, 'mails', 'Outbox', { items, total, transport: config.mail.transport });
  });
  router.get('/mails/:id', (req, res) => {
    const id = positiveId(req.params.id);
    const m = id === null ? null : getMail(db, id);
    if (!m) return void notFound(res, `mail ${req.params.id}`);
    render(req, res, 'mail', 'Outbox', { m, notice: req.query.resent ? { text: `Queued again as mail ${req.query.resent}.`, kind: 'ok' } : null });
  });
  router.get('/', (req, res) => dashboard(req, res, WARM_NOTICES[String(req.query.warm)] ?? null));
  router.get('/workshops/:folder/room', (req, res) => {
    const page = roomPage(db, String(req.params.folder));
    if (!page) return void notFound(res, `workshop ${req.params.folder}`);
    render(req, res, 'room', 'Dashboard', page);
  });
  router.post('/warm/events', async (req, res) => {
    const body = req.body as Record<string, string | undefined>;
    // the form's datetime-local fields are UTC, as the page says
    const at = (v: string | undefined) => (v && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v) ? `${v}:00Z` : (v ?? ''));
    const input = warmEventInput.safeParse({
      workshop: body.workshop,
      seats: Number(body.seats),
      startsAt: at(body.startsAt),
      endsAt: at(body.endsAt),
      note: body.note || undefined,
    });
    const refused = (message: string) => {
      res.status(422);
      return dashboard(req, res, { text: `Not scheduled: ${message}`, kind: 'error' });
    };
    if (!input.success) return refused(input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    try {
      scheduleWarm(db, { ...input.data, startsAt: new Date(input.data.startsAt), endsAt: new Date(input.data.endsAt) }, actor(req));
    } catch (e) {
      if (!(e instanceof WarmEventError)) throw e;
      return refused(e.message);
    }
    res.redirect(303, `${req.app.locals.prefix}admin/?warm=scheduled#warm-events`);
  });
  router.post('/warm/events/:id/cancel', (req, res) => {
    const gone = cancelWarm(db, Number(req.params.id), actor(req));
    res.redirect(303, `${req.app.locals.prefix}admin/?warm=${gone ? 'cancelled' : 'unknown'}#warm-events`);
  });
  router.post('/pool/:id/retry', (req, res) => {
    const id = positiveId(req.params.id);
    try {
      const job = retryStuck(db, id ?? 0, actor(req));
      deps.onJobs();
      res.redirect(303, `${req.app.locals.prefix}admin/pool?retried=${job}`);
    } catch (e) {
      if (!(e instanceof NotStuck)) throw e;
      res.status(409).render('message', { title: 'Nothing to retry', message: e.message });
    }
  });
  router.post('/mails/:id/resend', (req, res) => {
    const id = positiveId(req.params.id);
    const copy = id === null ? null : deps.mailer.resend(id);
    if (copy === null) return void notFound(res, `mail ${req.params.id} with a stored body`);
    res.redirect(303, `${req.app.locals.prefix}admin/mails/${id}?resent=${copy}`);
  });

  router.get('/pool', (req, res) => {
    const query = parsePoolPageQuery(req.query);
    const page = poolPage(db, config.students.count, query);
    if (!page) return void notFound(res, `workshop ${query.workshop}`);
    render(req, res, 'pool', 'Student pool', { ...page, retried: positiveId(req.query.retried) });
  });

  router.get('/jobs', (req, res) => {
    const query = { state: (req.query.state as string) || undefined, verb: (req.query.verb as string) || undefined };
    const { items, total } = listJobs(db, { ...query, limit: 200, offset: 0 });
    render(req, res, 'jobs', 'Jobs', { jobs: items, total, query });
  });
  router.get('/jobs/:id', (req, res) => {
    const id = positiveId(req.params.id);
    const job = id === null ? null : getJob(db, id);
    if (!job) return void notFound(res, `job ${req.params.id}`);
    render(req, res, 'job', 'Jobs', { job });
  });

  const actionsPage = (req: Request, res: Response, values: Record<string, unknown> = {}, notice: { text: string; kind: string } | null = null) =>
    render(req, res, 'actions', 'Actions', {
      values,
      notice,
      operator: config.mail.operatorAddress,
      folders: listWorkshops(db, { includeInactive: true })
        .filter((w) => !w.removed)
        .map((w) => w.folder),
      jobs: listJobs(db, { source: 'admin', limit: 20, offset: 0 }).items.map((j) => getJob(db, j.id)!),
    });
  router.get('/actions', (req, res) => actionsPage(req, res));
  router.post('/actions', (req, res) => {
    const body = req.body as Record<string, string>;
    const a = actionInput.safeParse({ verb: body.verb, workshop: body.workshop, students: body.students });
    if (!a.success) {
      res.status(422);
      return actionsPage(req, res, body, { text: a.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), kind: 'error' });
    }
    try {
      const jobs = placeAction(db, a.data, config.mail.operatorAddress, config.students.count, 'admin');
      deps.onJobs();
      actionsPage(req, res, {}, { text: `${a.data.verb} queued as job(s) ${jobs.join(', ')}.`, kind: 'ok' });
    } catch (e) {
      if (!(e instanceof OrderError)) throw e;
      res.status(422);
      actionsPage(req, res, body, { text: e.message, kind: 'error' });
    }
  });

  router.post('/logout', deps.auth.logout);
  return router;
}

/**
 * Method and path (Express syntax, `:id`) of every route a router serves, read from the router
 * itself: the authorization tests walk the admin panel with it, so a new page is covered as soon
 * as it is registered.
 */
export function routesOf(router: express.Router): { method: string; path: string }[] {
  return router.stack.flatMap((layer) => {
    const route = layer.route as { path: string; methods: Record<string, boolean> } | undefined;
    if (!route) return [];
    return Object.keys(route.methods)
      .filter((m) => route.methods[m])
      .map((m) => ({ method: m.toUpperCase(), path: route.path }));
  });
}
