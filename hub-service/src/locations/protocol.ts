/**
 * What a portal and its backends say to each other (web/location-api.ts serves it, the OpenAPI
 * document is derived from it): the one owner of the wire format of locations.
 *
 *   portal → backend   a registration to seat, its end, more time, new credentials, forget it;
 *                      the seats and health of each workshop
 *   backend → portal   how each registration it seats stands (its updates), and the credentials,
 *                      which are never stored: the portal mails them at once
 */
import { z } from 'zod';
import { LANGUAGE_CODE } from '../i18n/i18n.js';
import { registrationInput } from '../registrations/input.js';
import { REGISTRATION_STATES } from '../registrations/states.js';
import { surveyAnswerSchema, timestamp } from '../web/views.js';

const count = z.number().int().min(0);
/** The portal's registration id: the backend knows a routed registration by its portal and this. */
export const ref = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).meta({ description: "the registration's id at the portal" });

/** A registration the portal asks a backend to seat: the participant as the portal's desk accepted them. */
export const seatRequest = registrationInput
  .omit({ acceptTerms: true })
  .extend({ ref, language: z.string().regex(LANGUAGE_CODE).nullable().default(null) })
  .strict()
  .meta({ description: 'a registration accepted by the portal, to be seated here; sent again, it is the same registration' });
export type SeatRequest = z.output<typeof seatRequest>;

/** How a routed registration stands at its backend; the portal's copy follows it. */
export const seatUpdate = z
  .object({
    ref,
    state: z.enum(REGISTRATION_STATES),
    student: z.string().nullable(),
    readyAt: timestamp.nullable(),
    deadlineAt: timestamp.nullable(),
    endedAt: timestamp.nullable(),
    endReason: z.string().max(64).nullable(),
    completion: z.number().min(0).max(1).nullable(),
    progress: z.object({ executed: count, total: count, at: timestamp }).nullable(),
    checks: z.object({ passed: count, total: count }).nullable(),
    survey: surveyAnswerSchema.nullable(),
  })
  .strict()
  .meta({ description: 'a routed registration as its backend holds it' });
export type SeatUpdate = z.output<typeof seatUpdate>;

export const seatUpdates = z.object({ updates: z.array(seatUpdate).max(500) }).strict();

/** The credentials of a routed registration, sent once by the CREATE that made them (the password lives in memory only). */
export const seatCredentials = z
  .object({
    ref,
    /** one per CREATE job, however often its step runs: the portal mails them once */
    key: z.string().regex(/^[\w.:-]{1,100}$/),
    student: z.string().min(1).max(64),
    password: z.string().min(8).max(200),
    deadlineAt: timestamp,
  })
  .strict()
  .meta({ description: "a routed registration's login, for the portal to mail at once; never stored" });
export type SeatCredentials = z.output<typeof seatCredentials>;

/** What the portal may tell a backend about a registration it seats (location_commands.command). */
export const LOCATION_COMMANDS = ['end', 'extend', 'credentials', 'cancel'] as const;
export type LocationCommand = (typeof LOCATION_COMMANDS)[number];

export const endRequest = z.object({ reason: z.enum(['participant', 'admin']) }).strict();
export const extendRequest = z
  .object({
    minutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60),
  })
  .strict();

/** A backend's seats: per workshop, what a registration could take now. */
export const locationSeats = z
  .object({
    location: z.string().nullable().meta({ description: "the backend's locations.name" }),
    workshops: z.array(z.object({ folder: z.string(), active: z.boolean(), capacity: count, seats: count })),
    jobs: z.object({ queued: count, running: count }),
  })
  .strict()
  .meta({ description: "a backend's free seats per workshop, and its lifecycle's queue" });
export type LocationSeats = z.output<typeof locationSeats>;

export const startLink = z.object({ url: z.string().nullable().meta({ description: 'the one-click login, valid until the deadline; null before there is one' }) });
