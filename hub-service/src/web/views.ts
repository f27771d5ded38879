/**
 * The shapes the API and the pages show, built from domain objects: what a visitor may see of a
 * workshop, what a participant sees of their registration, what an admin sees of one. Each shape
 * is a zod schema and its presenter returns that schema's output type, so the OpenAPI document
 * (./openapi.ts, through ./api-responses.ts) describes exactly what the presenter builds.
 */
import { z } from 'zod';
import type { CatalogEntry } from '../catalog/catalog.js';
import { workshopImageUrls } from '../catalog/images.js';
import { PINNABLE } from '../catalog/sync.js';
import type { ServerHealth } from '../lifecycle/reconcile.js';
import type { ExtensionAnswer } from '../registrations/extension.js';
import type { QueueProgress } from '../registrations/queue.js';
import type { RegistrationView } from '../registrations/registrations.js';
import { CLOCK_RUNNING, HOLDS_SEAT, REGISTRATION_STATES } from '../registrations/states.js';
import { extensionSchema, presentExtension } from './extension-view.js';

/** A timestamp as the service writes them: ISO 8601 in UTC (`2026-05-04T10:00:00.000Z`). */
export const timestamp = z.iso.datetime();
const count = z.number().int().min(0);
const imageUrl = z.string().nullable().meta({ description: "image URL; wod's drawn badge or avatar when the name in wod.yml is found nowhere, null when not set" });

export const workshopSchema = z
  .object({
    folder: z.string().meta({ example: 'WKSHP-Python101' }),
    name: z.string(),
    description: z.string(),
    durationMinutes: z.number().int(),
    category: z.array(z.string()),
    presenter: z.string().nullable(),
    role: z.string().nullable(),
    avatar: imageUrl,
    badgeImg: imageUrl,
    workshopImg: imageUrl,
    replayLink: z.string().nullable(),
    beta: z.boolean(),
    popular: z.boolean().meta({ description: 'among the three workshops with the most participants' }),
    seats: count.meta({ description: 'seats free now: min(capacity − running registrations, free students in range)' }),
    full: z.boolean(),
    url: z.string().meta({ description: 'the workshop page' }),
  })
  .meta({ description: 'an open workshop, as the catalog shows it' });
export type PublicWorkshop = z.output<typeof workshopSchema>;

/**
 * `assetsDir` is config `workshops.assetsDir`: image names are resolved there and in the workshop's
 * folder (../catalog/images.ts); a name found nowhere shows wod's drawn badge or avatar.
 */
export function publicWorkshop(prefix: string, e: CatalogEntry, assetsDir: string | undefined): PublicWorkshop {
  const images = workshopImageUrls(prefix, e.folder, e, { workshopDir: e.path, assetsDir });
  return {
    folder: e.folder,
    name: e.name,
    description: e.description,
    durationMinutes: e.durationMinutes,
    category: e.category,
    presenter: e.presenter,
    role: e.role,
    avatar: images.avatar,
    badgeImg: images.badgeImg,
    workshopImg: images.workshopImg,
    replayLink: e.replayLink,
    beta: e.beta,
    popular: e.popular,
    seats: e.seats,
    full: e.seats === 0,
    url: `${prefix}workshops/${encodeURIComponent(e.folder)}`,
  };
}

export const adminWorkshopSchema = workshopSchema
  .extend({
    active: z.boolean(),
    capacity: count,
    priority: z.number().int(),
    warm: count.meta({ description: 'seats kept warm (home ready, server running) ahead of registrations' }),
    warmReady: count.meta({ description: 'warm seats ready now' }),
    range: z.tuple([z.number().int(), z.number().int()]).meta({ description: 'first and last student number' }),
    running: count.meta({ description: 'registrations holding a seat now' }),
    participants: count.meta({ description: 'distinct participants ever' }),
    source: z.enum(['public', 'overlay']),
    pinned: z.array(z.enum(PINNABLE)).meta({ description: 'fields set by an admin, kept by imports' }),
    removed: z.boolean().meta({ description: 'its folder is gone' }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ description: 'a workshop, active or not, with what an admin sets and counts' });
export type AdminWorkshop = z.output<typeof adminWorkshopSchema>;

export function adminWorkshop(prefix: string, e: CatalogEntry, assetsDir: string | undefined): AdminWorkshop {
  return {
    ...publicWorkshop(prefix, e, assetsDir),
    active: e.active,
    capacity: e.capacity,
    priority: e.priority,
    warm: e.warm,
    warmReady: e.warmReady,
    range: e.range,
    running: e.running,
    participants: e.participants,
    source: e.source,
    pinned: e.pinned,
    removed: e.removed,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

const registrationState = z.enum(REGISTRATION_STATES);
export const registrationLanguage = z
  .string()
  .nullable()
  .meta({ description: "the language the participant registered in (their mails, status page and JupyterLab speak it); null: the site's defaultLanguage", example: 'fr' });
const workshopRef = z.object({ folder: z.string(), name: z.string(), durationMinutes: z.number().int() });

/** A survey answer as stored: the answer the participant gave (SurveyInput, read) and when. */
export const surveyAnswerSchema = z
  .object({
    rating: z.number().int().min(1).max(5),
    good: z.string(),
    improve: z.string(),
    recommend: z.boolean(),
    answeredAt: timestamp,
  })
  .meta({ description: "a participant's survey answer, with when they gave it" });

export const queueSchema = z
  .object({
    state: z.enum(['queued', 'running']).meta({ description: 'the CREATE job waits for a slot, or runs' }),
    ahead: count.meta({ description: 'CREATE jobs queued or running that were created before this one, any workshop, warm-seat preparations included (they share the engine)' }),
    step: z.string().nullable().meta({ description: 'the step running now (as in the admin job log), null while queued' }),
    stepLabel: z.string().nullable().meta({ description: 'the same step in words for the participant' }),
    estimateSeconds: count.nullable().meta({
      description:
        'seconds until ready, about: the median of the latest finished CREATE jobs × (ahead ÷ lifecycle.concurrency + 1); null with fewer than 3 of them or while paused',
    }),
    samples: count.meta({ description: 'how many finished CREATE jobs the estimate comes from (at most 20)' }),
    paused: z.boolean().meta({ description: 'the lifecycle is paused by the operators: the job waits, its place is kept' }),
  })
  .meta({ description: 'where the deployment of a registration stands, while it is registered or deploying' });

export const statusSchema = z
  .object({
    id: z.number().int(),
    state: registrationState,
    running: z.boolean().meta({ description: 'the registration holds its seat' }),
    workshop: workshopRef,
    name: z.string(),
    email: z.string(),
    student: z.string().nullable(),
    createdAt: timestamp,
    readyAt: timestamp.nullable(),
    deadlineAt: timestamp.nullable(),
    secondsLeft: count.nullable(),
    endedAt: timestamp.nullable(),
    completion: z.number().min(0).max(1).nullable().meta({ description: 'at CLEANUP, executed code cells over code cells (0 to 1)' }),
    jupyterUrl: z.string().nullable().meta({ description: 'set once the JupyterLab is ready' }),
    queue: queueSchema.nullable().meta({ description: 'while its CREATE is queued or running; null otherwise' }),
    extension: extensionSchema.nullable().meta({ description: 'whether more time can be asked now; null in the answer to an end' }),
    language: registrationLanguage,
  })
  .meta({ description: "a participant's registration, as their status page shows it: never the password, never other people" });
export type ParticipantStatus = z.output<typeof statusSchema>;

/**
 * What the participant's status page and API show: never the password, never other people (of the
 * queue, only how many are ahead). `queue` is ../registrations/queue.ts's `queueProgress`.
 */
export function participantStatus(
  r: RegistrationView,
  publicUrl: string,
  now = Date.now(),
  queue: QueueProgress | null = null,
  extension: ExtensionAnswer | null = null,
): ParticipantStatus {
  const running = (HOLDS_SEAT as readonly string[]).includes(r.state);
  const secondsLeft = r.deadlineAt ? Math.max(0, Math.round((Date.parse(r.deadlineAt) - now) / 1000)) : null;
  return {
    id: r.id,
    state: r.state,
    running,
    workshop: { folder: r.workshop.folder, name: r.workshop.name, durationMinutes: r.workshop.durationMinutes },
    name: r.participant.name,
    email: r.participant.email,
    student: r.student,
    createdAt: r.createdAt,
    readyAt: r.readyAt,
    deadlineAt: r.deadlineAt,
    secondsLeft,
    endedAt: r.endedAt,
    completion: r.completion,
    jupyterUrl: running && r.readyAt && r.student ? `${publicUrl}/user/${r.student}/lab` : null,
    queue: queue && {
      state: queue.state,
      ahead: queue.ahead,
      step: queue.step,
      stepLabel: queue.stepLabel,
      estimateSeconds: queue.estimateSeconds,
      samples: queue.samples,
      paused: queue.paused,
    },
    extension: extension && presentExtension(extension),
    language: r.language,
  };
}

/** Exercise checks (code cells tagged wod-check) passed; null before the lab reported any. */
export const checksView = z.object({ passed: count, total: count }).nullable().meta({
  description:
    'check cells (tagged wod-check) whose latest run passed, over all of them: live as the JupyterLab extension reports them, then from the saved notebooks at CLEANUP; null before any report',
});

export const registrationSchema = z
  .object({
    id: z.number().int(),
    state: registrationState,
    workshop: workshopRef,
    participant: z.object({ id: z.number().int(), email: z.string(), name: z.string(), company: z.string() }),
    student: z.string().nullable(),
    createdAt: timestamp,
    readyAt: timestamp.nullable(),
    deadlineAt: timestamp.nullable(),
    endedAt: timestamp.nullable(),
    endReason: z.string().nullable(),
    completion: z.number().min(0).max(1).nullable().meta({ description: 'at CLEANUP, executed code cells over code cells (0 to 1)' }),
    progress: z.object({ executed: count, total: count, at: timestamp }).nullable().meta({ description: 'live, as the JupyterLab extension reports it' }),
    checks: checksView,
    survey: surveyAnswerSchema.nullable(),
    language: registrationLanguage,
    location: z.string().nullable().meta({ description: 'the backend wod that seats it (locations.backends); null: this one', example: 'lyon' }),
  })
  .meta({ description: 'a registration, as an admin sees it' });
export type AdminRegistration = z.output<typeof registrationSchema>;

export function adminRegistration(r: RegistrationView): AdminRegistration {
  return {
    id: r.id,
    state: r.state,
    workshop: { folder: r.workshop.folder, name: r.workshop.name, durationMinutes: r.workshop.durationMinutes },
    participant: { id: r.participant.id, email: r.participant.email, name: r.participant.name, company: r.participant.company },
    student: r.student,
    createdAt: r.createdAt,
    readyAt: r.readyAt,
    deadlineAt: r.deadlineAt,
    endedAt: r.endedAt,
    endReason: r.endReason,
    completion: r.completion,
    progress: r.progress && { executed: r.progress.executed, total: r.progress.total, at: r.progress.at },
    checks: r.checks && { passed: r.checks.passed, total: r.checks.total },
    survey: r.survey && surveyAnswer(r.survey),
    language: r.language,
    location: r.location,
  };
}

export function surveyAnswer(s: z.output<typeof surveyAnswerSchema>): z.output<typeof surveyAnswerSchema> {
  return { rating: s.rating, good: s.good, improve: s.improve, recommend: s.recommend, answeredAt: s.answeredAt };
}

/** The student's server on the admin registration page: watched while the registration runs. */
export function adminServer(state: string, h: ServerHealth | null) {
  if (!h || !(CLOCK_RUNNING as readonly string[]).includes(state)) return null;
  return {
    down: h.problem !== null,
    status: h.problem ? 'down' : h.failures ? `restarting (${h.failures} failed attempt${h.failures === 1 ? '' : 's'})` : h.checkedAt ? 'no problem' : 'not checked yet',
    problem: h.problem,
    checkedAt: h.checkedAt,
  };
}
