/**
 * The shapes the admin API shows of jobs, mails, the student pool, catalog imports and survey
 * answers: each a zod schema, with a presenter that lists exactly which fields leave the server
 * and returns that schema's output type. The OpenAPI document describes these schemas.
 */
import { z } from 'zod';
import type { Problem } from '../catalog/problems.js';
import type { ImportReport } from '../catalog/sync.js';
import type { JobView, StepView } from '../jobs/queries.js';
import { JOB_SOURCES, JOB_STATES, VERBS } from '../jobs/store.js';
import type { MailView } from '../mail-out/queries.js';
import type { PoolCounts, PoolStudent, PoolSummary, RangeState } from '../pool/pool.js';
import type { SurveyRow, SurveySummary } from '../registrations/survey.js';
import { surveyAnswer, surveyAnswerSchema, timestamp } from './views.js';

const count = z.number().int().min(0);

export const jobSchema = z
  .object({
    id: z.number().int(),
    verb: z.enum(VERBS),
    state: z.enum(JOB_STATES),
    student: z.string(),
    registrationId: z.number().int().nullable(),
    workshop: z.string().nullable().meta({ description: 'the folder' }),
    source: z.enum(JOB_SOURCES).meta({ description: 'who asked for it' }),
    attempts: count,
    lastStep: z.string().nullable().meta({ description: 'the last step that finished' }),
    error: z.string().nullable(),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  })
  .meta({ description: 'a job: one verb on one student' });
export type JobOut = z.output<typeof jobSchema>;

export const jobStepSchema = z.object({
  step: z.string(),
  attempt: z.number().int().min(1),
  startedAt: timestamp,
  finishedAt: timestamp.nullable(),
  ok: z.boolean().nullable().meta({ description: 'null while it runs' }),
  output: z.string().nullable().meta({ description: 'what the hook printed' }),
});
export const jobDetailSchema = jobSchema.extend({ steps: z.array(jobStepSchema) }).meta({ description: 'a job with the log of each step' });

export function presentJob(j: JobView): JobOut {
  return {
    id: j.id,
    verb: j.verb,
    state: j.state,
    student: j.student,
    registrationId: j.registrationId,
    workshop: j.workshop,
    source: j.source,
    attempts: j.attempts,
    lastStep: j.lastStep,
    error: j.error,
    createdAt: j.createdAt,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
  };
}

export function presentJobDetail(j: JobView & { steps: StepView[] }): z.output<typeof jobDetailSchema> {
  return {
    ...presentJob(j),
    steps: j.steps.map((s) => ({ step: s.step, attempt: s.attempt, startedAt: s.startedAt, finishedAt: s.finishedAt, ok: s.ok, output: s.output })),
  };
}

export const mailSchema = z
  .object({
    id: z.number().int(),
    key: z.string().meta({ description: 'one per registration and kind: a mail goes once' }),
    kind: z.string().meta({ description: 'welcome, credentials, reminder, thanks, milestone, feedback, apology, relayed (mail of an api-db: no body once sent)' }),
    registrationId: z.number().int().nullable(),
    to: z.string(),
    subject: z.string(),
    state: z.enum(['queued', 'sent']),
    attempts: count,
    error: z.string().nullable(),
    createdAt: timestamp,
    sentAt: timestamp.nullable(),
  })
  .meta({ description: 'a participant mail in the outbox' });
export type MailOut = z.output<typeof mailSchema>;

export const mailDetailSchema = mailSchema
  .extend({
    text: z.string().nullable().meta({ description: 'null for credentials mails, never stored; links shown as words' }),
    html: z.string().nullable(),
  })
  .meta({ description: 'a mail with its text and HTML' });

export function presentMail(m: MailView): MailOut {
  return {
    id: m.id,
    key: m.key,
    kind: m.kind,
    registrationId: m.registrationId,
    to: m.to,
    subject: m.subject,
    state: m.state,
    attempts: m.attempts,
    error: m.error,
    createdAt: m.createdAt,
    sentAt: m.sentAt,
  };
}

export function presentMailDetail(m: MailView & { text: string | null; html: string | null }): z.output<typeof mailDetailSchema> {
  return { ...presentMail(m), text: m.text, html: m.html };
}

const poolCounts = {
  free: count,
  allocated: count,
  cleanup: count,
  stuck: count.meta({ description: 'of those, how many are stuck: a CLEANUP, RESET or PURGE gave up; each keeps its state until an admin retries' }),
};
const span = z.tuple([z.number().int(), z.number().int()]);

export const poolStudentSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  state: z.enum(['free', 'allocated', 'cleanup']),
  registrationId: z.number().int().nullable(),
  updatedAt: timestamp,
  problem: z.string().nullable().meta({ description: 'why its last CLEANUP, RESET or PURGE gave up: the student is stuck until retried (null: fine)' }),
});

export const poolStateSchema = z
  .object({
    range: span,
    ...poolCounts,
    students: z.array(poolStudentSchema).meta({ description: 'a page of the students of the range (of `state` when given): the stuck first, then by number' }),
    total: count.meta({ description: 'how many students of the range match `state` (all of them without it)' }),
    limit: z.number().int().min(1),
    offset: count,
  })
  .meta({ description: 'the student pool over a range: its counts, and a page of its students (`limit` 500 unless given; page with `offset`)' });

export function presentPool(state: RangeState, page: { items: PoolStudent[]; total: number }, paging: { limit: number; offset: number }): z.output<typeof poolStateSchema> {
  return {
    range: state.range,
    free: state.free,
    allocated: state.allocated,
    cleanup: state.cleanup,
    stuck: state.stuck,
    students: page.items.map((s) => ({ id: s.id, name: s.name, state: s.state, registrationId: s.registrationId, updatedAt: s.updatedAt, problem: s.problem })),
    total: page.total,
    limit: paging.limit,
    offset: paging.offset,
  };
}

export const poolSummarySchema = z
  .object({
    count: count.meta({ description: 'the pool is student1 to student`count`' }),
    ...poolCounts,
    workshops: z.array(
      z.object({
        folder: z.string(),
        name: z.string(),
        active: z.boolean(),
        range: span,
        ...poolCounts,
      }),
    ),
    outside: z.object({ spans: z.array(span), size: count, ...poolCounts }).meta({ description: "the students of no workshop's range (some may still hold an old registration)" }),
  })
  .meta({ description: 'the pool at a glance: its counts, per workshop range and outside every range' });

export function presentPoolSummary(s: PoolSummary): z.output<typeof poolSummarySchema> {
  const counts = (c: PoolCounts) => ({ free: c.free, allocated: c.allocated, cleanup: c.cleanup, stuck: c.stuck });
  return {
    count: s.count,
    ...counts(s.total),
    workshops: s.workshops.map((w) => ({ folder: w.folder, name: w.name, active: w.active, range: w.range, ...counts(w) })),
    outside: { spans: s.outside.spans, size: s.outside.size, ...counts(s.outside) },
  };
}

const problemSchema = z.object({
  severity: z.enum(['error', 'warning']),
  file: z.string().meta({ description: "the file's path" }),
  line: z.number().int().optional(),
  field: z.string().optional(),
  message: z.string(),
  fix: z.string().optional(),
});

export const importReportSchema = z
  .object({
    inserted: z.array(z.string()),
    updated: z.array(z.string()),
    deactivated: z.array(z.string()),
    unchanged: z.array(z.string()),
    problems: z.array(problemSchema),
  })
  .meta({ description: 'what an import changed (workshop folders) and every problem it found' });

function presentProblem(p: Problem): z.output<typeof problemSchema> {
  return { severity: p.severity, file: p.file, line: p.line, field: p.field, message: p.message, fix: p.fix };
}

export function presentImport(r: ImportReport): z.output<typeof importReportSchema> {
  return { inserted: r.inserted, updated: r.updated, deactivated: r.deactivated, unchanged: r.unchanged, problems: r.problems.map(presentProblem) };
}

export const surveyRowSchema = surveyAnswerSchema
  .extend({
    registrationId: z.number().int(),
    workshop: z.object({ folder: z.string(), name: z.string() }),
    participant: z.object({ name: z.string(), email: z.string() }),
  })
  .meta({ description: 'a survey answer with who gave it for which workshop' });

export const surveySummarySchema = z
  .object({
    answers: count,
    meanRating: z.number().nullable(),
    recommend: z.number().min(0).max(1).nullable().meta({ description: 'the share who would recommend, 0 to 1' }),
  })
  .meta({ description: 'what the answers add up to' });

export function presentSurveyRow(r: SurveyRow): z.output<typeof surveyRowSchema> {
  return {
    registrationId: r.registrationId,
    workshop: { folder: r.workshop.folder, name: r.workshop.name },
    participant: { name: r.participant.name, email: r.participant.email },
    ...surveyAnswer(r),
  };
}

export function presentSurveySummary(s: SurveySummary): z.output<typeof surveySummarySchema> {
  return { answers: s.answers, meanRating: s.meanRating, recommend: s.recommend };
}

export const warmEventSchema = z
  .object({
    id: z.number().int(),
    workshop: z.string().meta({ description: 'the folder' }),
    seats: z.number().int().min(1),
    startsAt: timestamp,
    endsAt: timestamp,
    note: z.string(),
    createdBy: z.string(),
    createdAt: timestamp,
    active: z.boolean().meta({ description: 'running now' }),
  })
  .meta({ description: 'seats of a workshop kept warm from a time to a time' });

export const warmStateSchema = z
  .object({
    workshops: z.array(
      z.object({
        folder: z.string(),
        target: z.number().int().min(0).meta({ description: 'seats to keep warm now: its own warm plus its running events, at most the seats it can have at once' }),
        ready: z.number().int().min(0).meta({ description: 'warm seats ready' }),
        preparing: z.number().int().min(0).meta({ description: 'being prepared' }),
      }),
    ),
    events: z.array(warmEventSchema).meta({ description: 'events not over yet, soonest first' }),
  })
  .meta({ description: 'warm seats: where each workshop stands, and the events' });
