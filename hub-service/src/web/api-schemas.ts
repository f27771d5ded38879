/** Request schemas of the admin API, shared by the routes and the OpenAPI document. */
import { z } from 'zod';
import { JOB_STATES, VERBS } from '../jobs/store.js';
import { STUDENT_FILTERS } from '../pool/pool.js';
import { REGISTRATION_STATES } from '../registrations/states.js';

export const workshopPatch = z
  .object({
    active: z.boolean(),
    capacity: z.number().int().min(0),
    priority: z.number().int(),
    warm: z.number().int().min(0),
  })
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, 'give at least one of active, capacity, priority, warm');

export const registrationQuery = z.object({
  q: z.string().trim().max(200).optional(),
  state: z.enum(REGISTRATION_STATES).optional(),
  workshop: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/**
 * The pool over a workshop's range or first..last, a page of its students: `limit` 500 unless given
 * (a workshop of the original WoD fits in one page), up to 5 000.
 */
export const poolQuery = z
  .object({
    workshop: z.string().min(1).optional(),
    first: z.coerce.number().int().min(1).optional(),
    last: z.coerce.number().int().min(1).optional(),
    state: z.enum(STUDENT_FILTERS).optional().meta({ description: 'only the students of this state, or the stuck ones' }),
    limit: z.coerce.number().int().min(1).max(5000).default(500),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict()
  .refine((q) => (q.workshop === undefined) === (q.first !== undefined && q.last !== undefined) && (q.first === undefined) === (q.last === undefined), {
    message: 'give workshop, or first and last',
    path: ['workshop'],
  })
  .refine((q) => q.first === undefined || q.last === undefined || q.last >= q.first, { message: 'must not be below first', path: ['last'] });

export const jobQuery = z.object({
  state: z.enum(JOB_STATES).optional(),
  verb: z.enum(VERBS).optional(),
  registration: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** Run a verb on a student or a range, from the panel: the equivalent of `wod action`. */
export const actionInput = z
  .object({
    verb: z.enum(VERBS),
    workshop: z.string().min(1),
    students: z.string().regex(/^\d+(,\d+)?$/, 'a student number, or min,max'),
  })
  .strict();

export const extendInput = z
  .object({
    minutes: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 60),
  })
  .strict();

export const mailQuery = z.object({
  registration: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** Participants, newest first, or the one of an email (the admin's lookup before an export or erasure). */
export const participantQuery = z.object({
  email: z.string().trim().toLowerCase().min(1).max(254).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const surveyQuery = z.object({
  workshop: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** An event: seats of a workshop kept warm from a time to a time (lifecycle/warm.ts). */
export const warmEventInput = z
  .object({
    workshop: z.string().min(1).max(100),
    seats: z.number().int().min(1).max(10_000),
    startsAt: z.iso.datetime({ offset: true }).meta({ description: 'when the seats must be warm (ISO 8601)' }),
    endsAt: z.iso.datetime({ offset: true }).meta({ description: 'when they are released (ISO 8601)' }),
    note: z.string().max(200).optional(),
  })
  .strict();
