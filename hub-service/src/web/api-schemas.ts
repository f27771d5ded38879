/** Request schemas of the admin API, shared by the routes and the OpenAPI document. */
import { z } from 'zod';
import { JOB_STATES, VERBS } from '../jobs/store.js';
import { REGISTRATION_STATES } from '../registrations/states.js';

export const workshopPatch = z
  .object({
    active: z.boolean(),
    capacity: z.number().int().min(0),
    priority: z.number().int(),
  })
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, 'give at least one of active, capacity, priority');

export const registrationQuery = z.object({
  q: z.string().trim().max(200).optional(),
  state: z.enum(REGISTRATION_STATES).optional(),
  workshop: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const poolQuery = z.union([
  z.object({ workshop: z.string().min(1) }).strict(),
  z.object({ first: z.coerce.number().int().min(1), last: z.coerce.number().int().min(1) }).strict(),
]);

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

export const surveyQuery = z.object({
  workshop: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
