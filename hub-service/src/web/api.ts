/**
 * REST API v1 under /services/wod/api/v1/ (described by ./openapi.ts at /api/v1/openapi.json).
 * Public: the catalog, registration, a participant's status by signed token. Admin: workshops,
 * registrations and the pool, for a hub token with the wod admin scope or the admin OAuth cookie.
 * Errors are always `{status, message}` (+ `errors` with field messages on 422, `code` on 409).
 */
import express, { type Request, type Response } from 'express';
import type { z } from 'zod';
import { getWorkshop, listWorkshops, updateWorkshop, WorkshopUpdateError } from '../catalog/catalog.js';
import { dataPaths } from '../config/paths.js';
import { hubUrlFor } from '../config/urls.js';
import { getJob, listJobs } from '../jobs/queries.js';
import { getMail, listMails } from '../mail-out/queries.js';
import { placeAction } from '../registrations/order-desk.js';
import { OrderError } from '../mail-in/orders.js';
import { fieldErrors } from '../registrations/input.js';
import { askExtension, ExtensionError, extensionNow } from '../registrations/extension.js';
import { queueProgress } from '../registrations/queue.js';
import type { RegistrationView } from '../registrations/registrations.js';
import { verifyStatusToken } from '../registrations/status-token.js';
import { listSurveys, saveSurvey, surveyInput } from '../registrations/survey.js';
import { NotStuck, poolSummary, rangeState, retryStuck, studentPage } from '../pool/pool.js';
import type { DeskOutcome } from '../registrations/desk.js';
import type { WebDeps } from './deps.js';
import { actionInput, extendInput, jobQuery, mailQuery, participantQuery, poolQuery, registrationQuery, surveyQuery, warmEventInput, workshopPatch } from './api-schemas.js';
import { cancelWarm, listWarmEvents, scheduleWarm, WarmEventError, warmTargets } from '../lifecycle/warm.js';
import { presentCapacity } from './capacity-view.js';
import { presentLocations } from './locations-view.js';
import { eraseParticipant } from '../participants/erase.js';
import { exportParticipant, isErased, listParticipants, ParticipantError } from '../participants/participants.js';
import { presentErasure, presentParticipantExport, presentParticipantSummary } from './participant-view.js';
import { presentRoom, presentStats } from './stats-view.js';
import { dashboardStats } from '../stats/stats.js';
import { workshopRoom } from '../stats/room.js';
import { meRouter } from './me.js';
import { poolWorkshops } from './admin-pool.js';
import { openApiDocument } from './openapi.js';
import {
  presentImport,
  presentJob,
  presentJobDetail,
  presentMail,
  presentMailDetail,
  presentPool,
  presentPoolSummary,
  presentSurveyRow,
  presentSurveySummary,
} from './admin-views.js';
import type { registeredSchema } from './api-responses.js';
import { adminRegistration, adminWorkshop, participantStatus, publicWorkshop, surveyAnswer } from './views.js';
import { askedLanguage } from './language.js';

function invalid(res: Response, error: z.ZodError): void {
  res.status(422).json({ status: 422, message: 'invalid request', errors: fieldErrors(error) });
}

/** Sends a desk outcome as the API answers it. */
export function sendOutcome(res: Response, outcome: DeskOutcome): void {
  switch (outcome.status) {
    case 201: {
      const registered: z.output<typeof registeredSchema> = {
        registration: {
          id: outcome.registration.id,
          state: outcome.registration.state,
          workshop: outcome.registration.workshop.folder,
          createdAt: outcome.registration.createdAt,
        },
        message: `Registered. Check ${outcome.registration.participant.email}: the credentials follow by mail.`,
      };
      res.status(201).json(registered);
      return;
    }
    case 422:
      res.status(422).json({ status: 422, message: outcome.message, errors: outcome.errors });
      return;
    case 429:
      res.status(429).set('Retry-After', String(outcome.retryAfterSeconds)).json({ status: 429, message: outcome.message });
      return;
    default:
      res.status(outcome.status).json({ status: outcome.status, code: outcome.code, message: outcome.message, ...outcome.details });
  }
}

export function apiRouter(deps: WebDeps): express.Router {
  const { db, config, registrations, sealer, auth } = deps;
  const router = express.Router();
  const actor = (req: Request) => `admin:${req.visitor!.name}`;

  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(config));
  });
  router.get('/docs', (_req, res) => {
    res.render('api-docs', { title: 'wod REST API v1', doc: openApiDocument(config) });
  });

  // --- public ----------------------------------------------------------------------------------
  router.get('/workshops', (req, res) => {
    res.json({ items: listWorkshops(db).map((e) => publicWorkshop(req.app.locals.prefix, deps.locations.seatsOf(e), config.workshops.assetsDir)) });
  });
  router.get('/workshops/:folder', (req, res) => {
    const e = getWorkshop(db, req.params.folder);
    if (!e || !e.active) return void res.status(404).json({ status: 404, message: `there is no open workshop ${req.params.folder}` });
    res.json(publicWorkshop(req.app.locals.prefix, deps.locations.seatsOf(e), config.workshops.assetsDir));
  });

  router.post('/registrations', (req, res) => {
    sendOutcome(res, deps.desk.submit(req.body, { ip: req.ip ?? 'unknown', source: 'api', language: askedLanguage(res) }));
  });

  const byToken = (req: Request, res: Response) => {
    const id = verifyStatusToken(sealer, String(req.params.token));
    const found = id === null ? null : registrations.get(id);
    // an erased participant's links open nothing: their page would show only placeholders
    const r = found && !isErased(found.participant.email) ? found : null;
    if (!r) res.status(404).json({ status: 404, message: 'this status link is not valid; use the link from your mail' });
    return r;
  };
  // in the words of the participant's language, as their status page
  const statusOf = (r: RegistrationView) =>
    participantStatus(
      r,
      hubUrlFor(config, r.location),
      Date.now(),
      queueProgress(db, r.id, config.lifecycle, deps.languages.get(r.language ?? config.defaultLanguage)),
      extensionNow(db, r.id, config.timers.reminderMinutes),
    );
  router.get('/status/:token', (req, res) => {
    const r = byToken(req, res);
    if (r) res.json(statusOf(r));
  });
  router.put('/status/:token/feedback', (req, res) => {
    const r = byToken(req, res);
    if (!r) return;
    const answer = surveyInput.safeParse(req.body);
    if (!answer.success) return invalid(res, answer.error);
    const stored = db.transaction(() => {
      const saved = saveSurvey(db, r.id, answer.data, `participant:${r.participant.email}`);
      deps.letters.feedback(r.id, answer.data.rating);
      return saved;
    })();
    res.json(surveyAnswer(stored));
  });
  router.post('/status/:token/end', (req, res) => {
    const r = byToken(req, res);
    if (!r) return;
    res.json(participantStatus(registrations.end(r.id, `participant:${r.participant.email}`, 'participant'), hubUrlFor(config, r.location)));
  });
  router.post('/status/:token/extend', (req, res) => {
    const r = byToken(req, res);
    if (!r) return;
    try {
      res.json(statusOf(askExtension(db, registrations, r.id, `participant:${r.participant.email}`, config.timers.reminderMinutes)));
    } catch (e) {
      if (!(e instanceof ExtensionError)) throw e;
      res.status(409).json({ status: 409, code: e.code, message: e.message });
    }
  });

  // --- admin -----------------------------------------------------------------------------------
  const admin = express.Router();
  admin.use(auth.requireUser, auth.requireWodAdmin, auth.requireCsrf);

  admin.get('/workshops', (req, res) => {
    res.json({ items: listWorkshops(db, { includeInactive: true }).map((e) => adminWorkshop(req.app.locals.prefix, e, config.workshops.assetsDir)) });
  });
  admin.patch('/workshops/:folder', (req, res) => {
    const patch = workshopPatch.safeParse(req.body);
    if (!patch.success) return invalid(res, patch.error);
    try {
      const updated = updateWorkshop(db, req.params.folder, patch.data, actor(req));
      if (!updated) return void res.status(404).json({ status: 404, message: `there is no workshop ${req.params.folder}` });
      res.json(adminWorkshop(req.app.locals.prefix, updated, config.workshops.assetsDir));
    } catch (e) {
      if (!(e instanceof WorkshopUpdateError)) throw e;
      res.status(422).json({ status: 422, message: e.message, errors: [{ field: e.field, message: e.message }] });
    }
  });
  admin.post('/workshops/import', (req, res) => {
    res.json(presentImport(deps.importCatalog(actor(req))));
  });

  admin.get('/warm', (_req, res) => {
    res.json({ workshops: warmTargets(db).map(({ folder, target, ready, preparing }) => ({ folder, target, ready, preparing })), events: listWarmEvents(db) });
  });
  admin.post('/warm/events', (req, res) => {
    const input = warmEventInput.safeParse(req.body);
    if (!input.success) return invalid(res, input.error);
    try {
      const e = input.data;
      res.status(201).json(scheduleWarm(db, { ...e, startsAt: new Date(e.startsAt), endsAt: new Date(e.endsAt) }, actor(req)));
    } catch (e) {
      if (!(e instanceof WarmEventError)) throw e;
      res.status(422).json({ status: 422, message: e.message, errors: [{ field: 'event', message: e.message }] });
    }
  });
  admin.delete('/warm/events/:id', (req, res) => {
    if (!cancelWarm(db, Number(req.params.id), actor(req))) return void res.status(404).json({ status: 404, message: `there is no event ${req.params.id}` });
    res.status(204).end();
  });

  admin.get('/registrations', (req, res) => {
    const q = registrationQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    const { items, total } = registrations.search(q.data);
    res.json({ items: items.map(adminRegistration), total, limit: q.data.limit, offset: q.data.offset });
  });
  admin.get('/registrations/:id', (req, res) => {
    const r = registrations.get(Number(req.params.id));
    if (!r) return void res.status(404).json({ status: 404, message: `there is no registration ${req.params.id}` });
    res.json(adminRegistration(r));
  });
  admin.post('/registrations/:id/end', (req, res) => {
    res.json(adminRegistration(registrations.end(Number(req.params.id), actor(req), 'admin')));
  });

  admin.post('/registrations/:id/extend', (req, res) => {
    const x = extendInput.safeParse(req.body);
    if (!x.success) return invalid(res, x.error);
    res.json(adminRegistration(registrations.extend(Number(req.params.id), x.data.minutes, actor(req))));
  });
  admin.post('/registrations/:id/credentials', async (req, res) => {
    await deps.letters.newCredentials(Number(req.params.id));
    res.status(202).json({ status: 202, message: 'new credentials mailed; the old password no longer works' });
  });

  admin.get('/surveys', (req, res) => {
    const q = surveyQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    const { items, total, summary } = listSurveys(db, q.data);
    res.json({ items: items.map(presentSurveyRow), total, limit: q.data.limit, offset: q.data.offset, summary: presentSurveySummary(summary) });
  });

  admin.get('/participants', (req, res) => {
    const q = participantQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    const { items, total } = listParticipants(db, q.data);
    res.json({ items: items.map(presentParticipantSummary), total, limit: q.data.limit, offset: q.data.offset });
  });
  admin.get('/participants/:id', (req, res) => {
    const x = /^\d{1,12}$/.test(req.params.id) ? exportParticipant(db, Number(req.params.id)) : null;
    if (!x) return void res.status(404).json({ status: 404, code: 'unknown-participant', message: `there is no participant ${req.params.id}` });
    res.set('Content-Disposition', `attachment; filename="participant-${x.participant.id}.json"`).json(presentParticipantExport(x));
  });
  admin.delete('/participants/:id', (req, res) => {
    try {
      if (!/^\d{1,12}$/.test(req.params.id)) throw new ParticipantError(404, 'unknown-participant', `there is no participant ${req.params.id}`);
      const erasure = eraseParticipant(db, Number(req.params.id), { actor: actor(req), outboxDir: dataPaths(config).outbox });
      // the erasure stands: a VACUUM or checkpoint that failed after it is the operator's to see, not a 500
      if (erasure.warning) deps.log.warn('participant erased, with a warning', { participant: erasure.participant, warning: erasure.warning });
      res.json(presentErasure(erasure));
    } catch (e) {
      if (!(e instanceof ParticipantError)) throw e;
      res.status(e.status).json({ status: e.status, code: e.code, message: e.message });
    }
  });

  admin.get('/mails', (req, res) => {
    const q = mailQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    const { items, total } = listMails(db, { registrationId: q.data.registration, limit: q.data.limit, offset: q.data.offset });
    res.json({ items: items.map(presentMail), total, limit: q.data.limit, offset: q.data.offset });
  });
  admin.get('/mails/:id', (req, res) => {
    const mail = getMail(db, Number(req.params.id));
    if (!mail) return void res.status(404).json({ status: 404, message: `there is no mail ${req.params.id}` });
    res.json(presentMailDetail(mail));
  });
  admin.post('/mails/:id/resend', (req, res) => {
    const id = deps.mailer.resend(Number(req.params.id));
    if (id === null)
      return void res.status(404).json({ status: 404, message: `there is no mail ${req.params.id} with a stored body (credentials are resent from the registration)` });
    res.status(202).json({ id });
  });

  admin.get('/jobs', (req, res) => {
    const q = jobQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    const { registration, ...rest } = q.data;
    const { items, total } = listJobs(db, { ...rest, registrationId: registration });
    res.json({ items: items.map(presentJob), total, limit: q.data.limit, offset: q.data.offset });
  });
  admin.get('/jobs/:id', (req, res) => {
    const job = getJob(db, Number(req.params.id));
    if (!job) return void res.status(404).json({ status: 404, message: `there is no job ${req.params.id}` });
    res.json(presentJobDetail(job));
  });
  admin.post('/actions', (req, res) => {
    const a = actionInput.safeParse(req.body);
    if (!a.success) return invalid(res, a.error);
    try {
      const jobs = placeAction(db, a.data, config.mail.operatorAddress, config.students.count, 'admin');
      deps.onJobs();
      res.status(202).json({ jobs });
    } catch (e) {
      if (!(e instanceof OrderError)) throw e;
      res.status(422).json({ status: 422, message: e.message, errors: [{ field: 'students', message: e.message }] });
    }
  });

  admin.get('/pool', (req, res) => {
    const q = poolQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    let range: [number, number];
    if (q.data.workshop !== undefined) {
      const w = getWorkshop(db, q.data.workshop);
      if (!w) return void res.status(404).json({ status: 404, message: `there is no workshop ${q.data.workshop}` });
      range = w.range;
    } else {
      range = [q.data.first!, q.data.last!];
    }
    const { state, limit, offset } = q.data;
    res.json(presentPool(rangeState(db, ...range), studentPage(db, { first: range[0], last: range[1], state, limit, offset }), { limit, offset }));
  });
  admin.get('/pool/summary', (_req, res) => {
    res.json(presentPoolSummary(poolSummary(db, poolWorkshops(db), config.students.count)));
  });

  admin.get('/capacity', (_req, res) => {
    res.json(presentCapacity(deps.capacity.figures()));
  });

  admin.get('/locations', (_req, res) => {
    res.json(presentLocations(db, deps.locations, config.locations.name ?? null));
  });

  admin.get('/stats', (_req, res) => {
    res.json(presentStats(dashboardStats(db, new Date())));
  });
  admin.get('/workshops/:folder/room', async (req, res) => {
    const room = await workshopRoom(db, deps.hubProbe, req.params.folder);
    if (!room) return void res.status(404).json({ status: 404, message: `there is no workshop ${req.params.folder}` });
    res.json(presentRoom(room));
  });

  admin.post('/pool/:id/retry', (req, res) => {
    try {
      const job = retryStuck(db, Number(req.params.id), actor(req));
      deps.onJobs();
      res.status(202).json({ jobs: [job] });
    } catch (e) {
      if (!(e instanceof NotStuck)) throw e;
      res.status(409).json({ status: 409, message: e.message });
    }
  });

  router.use('/admin', admin);
  router.use('/me', meRouter(deps));
  router.use((req, res) => void res.status(404).json({ status: 404, message: `no API route ${req.method} ${req.path}` }));
  return router;
}
