/**
 * Every response body of REST API v1 and of the location API, as zod schemas: the presenters'
 * shapes (./views.ts, ./admin-views.ts, ./me.ts, ../locations/protocol.ts) and the envelopes around
 * them (errors, pages, acknowledgements).
 * `responseComponents()` turns them into the OpenAPI document's component schemas, each described
 * once; a shape used inside another becomes a `$ref` to its component.
 */
import { z } from 'zod';
import type { Applied } from '../locations/mirror.js';
import { locationSeats, ref, seatUpdate, startLink } from '../locations/protocol.js';
import type { ParticipantError } from '../participants/participants.js';
import type { ExtensionError } from '../registrations/extension.js';
import type { RegistrationError } from '../registrations/registrations.js';
import { REGISTRATION_STATES } from '../registrations/states.js';
import {
  importReportSchema,
  jobDetailSchema,
  jobSchema,
  mailDetailSchema,
  mailSchema,
  poolStateSchema,
  poolSummarySchema,
  surveyRowSchema,
  surveySummarySchema,
  warmEventSchema,
  warmStateSchema,
} from './admin-views.js';
import { capacitySchema } from './capacity-view.js';
import { locationsSchema } from './locations-view.js';
import { roomSchema, statsSchema } from './stats-view.js';
import { meSchema } from './me.js';
import { erasureSchema, participantExportSchema, participantPageSchema, participantSummarySchema } from './participant-view.js';
import { adminWorkshopSchema, registrationSchema, statusSchema, surveyAnswerSchema, timestamp, workshopSchema } from './views.js';

/** Every `code` a refusal can carry (409 and 404 of the registration desk and its verbs, and of participants' erasure). */
const ERROR_CODES: { [C in RegistrationError['code'] | ParticipantError['code'] | ExtensionError['code']]: C } = {
  'unknown-workshop': 'unknown-workshop',
  inactive: 'inactive',
  full: 'full',
  'already-registered': 'already-registered',
  'not-running': 'not-running',
  'unknown-registration': 'unknown-registration',
  'unknown-participant': 'unknown-participant',
  'participant-active': 'participant-active',
  'not-allowed': 'not-allowed',
  'already-extended': 'already-extended',
  'too-early': 'too-early',
  'seat-needed': 'seat-needed',
};

export const errorSchema = z
  .object({
    status: z.number().int().min(400).max(599),
    message: z.string().meta({ description: 'safe to show the person who asked' }),
    code: z.enum(ERROR_CODES).optional().meta({ description: 'on 409 and some 404: what was refused' }),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'on 422: a message per invalid field' }),
    workshop: z.string().optional().meta({ description: 'on already-registered: the workshop the address runs' }),
    deadlineAt: timestamp.nullable().optional().meta({ description: 'on already-registered: when that workshop ends' }),
  })
  .meta({ description: 'every refusal and failure: `{status, message}`, 422 adds `errors`, 409 adds a `code`' });
export type ApiError = z.output<typeof errorSchema>;

/** An accepted request that has nothing to return but a sentence. */
export const noticeSchema = z.object({ status: z.literal(202), message: z.string() }).meta({ description: 'accepted' });

export const registeredSchema = z
  .object({
    registration: z.object({
      id: z.number().int(),
      state: z.enum(REGISTRATION_STATES),
      workshop: z.string().meta({ description: 'the folder' }),
      createdAt: timestamp,
    }),
    message: z.string(),
  })
  .meta({ description: 'registered: the credentials follow by mail' });

const paging = { total: z.number().int().min(0), limit: z.number().int().min(1), offset: z.number().int().min(0) };
const pageOf = <T extends z.ZodType>(item: T, description: string) => z.object({ items: z.array(item), ...paging }).meta({ description });

export const workshopListSchema = z.object({ items: z.array(workshopSchema) }).meta({ description: 'the open workshops, by priority' });
export const adminWorkshopListSchema = z.object({ items: z.array(adminWorkshopSchema) }).meta({ description: 'every workshop, by priority' });
export const registrationPageSchema = pageOf(registrationSchema, 'a page of registrations, newest first');
export const jobPageSchema = pageOf(jobSchema, 'a page of jobs, newest first');
export const mailPageSchema = pageOf(mailSchema, 'a page of mails, newest first');
export const surveyPageSchema = z
  .object({ items: z.array(surveyRowSchema), ...paging, summary: surveySummarySchema })
  .meta({ description: 'a page of survey answers, newest first, and what all the matching answers add up to' });
export const mailQueuedSchema = z.object({ id: z.number().int().meta({ description: 'the new mail' }) }).meta({ description: 'a copy queued' });
export const actionQueuedSchema = z.object({ jobs: z.array(z.number().int()) }).meta({ description: 'the jobs queued, one per student' });

/** What a portal did with each update a backend sent (locations/mirror.ts). */
const APPLIED: { [A in Applied]: A } = { applied: 'applied', unknown: 'unknown', 'moved-away': 'moved-away' };
export const updateResultsSchema = z
  .object({
    results: z.array(
      z.object({
        ref,
        result: z.enum(APPLIED).meta({ description: 'applied: taken; unknown: not routed to that backend; moved-away: it moved to another place since' }),
      }),
    ),
  })
  .meta({ description: 'what the portal did with each update, in the order sent' });
export const credentialsTakenSchema = z.object({ result: z.literal('applied') }).meta({ description: 'taken: the portal mails them now' });

/** The component schemas, by the name the document gives them. */
export const RESPONSE_SCHEMAS = {
  Error: errorSchema,
  Notice: noticeSchema,
  Workshop: workshopSchema,
  WorkshopList: workshopListSchema,
  AdminWorkshop: adminWorkshopSchema,
  AdminWorkshopList: adminWorkshopListSchema,
  Registered: registeredSchema,
  Status: statusSchema,
  SurveyAnswer: surveyAnswerSchema,
  Me: meSchema,
  Registration: registrationSchema,
  RegistrationPage: registrationPageSchema,
  SurveyRow: surveyRowSchema,
  SurveySummary: surveySummarySchema,
  SurveyPage: surveyPageSchema,
  Mail: mailSchema,
  MailDetail: mailDetailSchema,
  MailPage: mailPageSchema,
  MailQueued: mailQueuedSchema,
  Job: jobSchema,
  JobDetail: jobDetailSchema,
  JobPage: jobPageSchema,
  ActionQueued: actionQueuedSchema,
  ImportReport: importReportSchema,
  PoolState: poolStateSchema,
  PoolSummary: poolSummarySchema,
  Capacity: capacitySchema,
  Stats: statsSchema,
  Room: roomSchema,
  WarmState: warmStateSchema,
  Participant: participantSummarySchema,
  ParticipantPage: participantPageSchema,
  ParticipantExport: participantExportSchema,
  Erasure: erasureSchema,
  WarmEvent: warmEventSchema,
  Locations: locationsSchema,
  LocationSeats: locationSeats,
  SeatUpdate: seatUpdate,
  StartLink: startLink,
  UpdateResults: updateResultsSchema,
  CredentialsTaken: credentialsTakenSchema,
} as const;
export type ResponseName = keyof typeof RESPONSE_SCHEMAS;

/**
 * The response schemas as JSON Schema (2020-12, which OpenAPI 3.1 uses), from what the presenters
 * output: objects are closed (`additionalProperties: false`), every field not optional is required.
 */
export function responseComponents(): Record<ResponseName, object> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(RESPONSE_SCHEMAS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io: 'output', uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' });
  // Each is a component of the document, not a document of its own.
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema])) as Record<ResponseName, object>;
}
