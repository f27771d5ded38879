/**
 * The OpenAPI 3.1 description of REST API v1 and of the location API wods of locations call each
 * other by (./location-api.ts, its own server below the service). Request bodies come from the same
 * zod schemas that validate them, and response bodies from the zod schemas the presenters return
 * (./api-responses.ts), so the document cannot drift from what the routes accept or answer.
 */
import { z } from 'zod';
import type { WodConfig } from '../config/schema.js';
import { portalUrl } from '../config/urls.js';
import { LOCATION_API, type PeerRole } from '../locations/peers.js';
import { endRequest, extendRequest, seatCredentials, seatRequest, seatUpdates } from '../locations/protocol.js';
import { registrationInput } from '../registrations/input.js';
import { surveyInput } from '../registrations/survey.js';
import { VERSION } from '../version.js';
import { responseComponents, type ResponseName } from './api-responses.js';
import { actionInput, extendInput, jobQuery, mailQuery, participantQuery, poolQuery, registrationQuery, surveyQuery, warmEventInput, workshopPatch } from './api-schemas.js';
import { progressInput } from './me.js';

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ref = (name: ResponseName | RequestName) => ({ $ref: `#/components/schemas/${name}` });
/** A response whose body is the named component. */
const body = (description: string, name: ResponseName) => ({ description, ...json(ref(name)) });
const error = (description: string) => ({ description, ...json(ref('Error')) });
/** A request schema as JSON Schema: what a client may send. */
const toSchema = (s: z.ZodType) => {
  const { $schema: _, ...schema } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
  return schema;
};
/** A query schema's fields as OpenAPI query parameters. */
const queryParameters = (s: z.ZodType) =>
  Object.entries((toSchema(s) as { properties: Record<string, object> }).properties).map(([name, schema]) => ({ name, in: 'query', schema }));

const pathParameter = (name: string, type: 'string' | 'integer') => ({ name, in: 'path', required: true, schema: { type } });

interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  parameters?: object[];
  requestBody?: object;
  responses: Record<number, object>;
}
/** An admin operation: a hub token with custom:wod:admin, or the panel's session (and CSRF header). */
const admin = (op: Operation) => ({
  ...op,
  tags: ['admin'],
  security: [{ hubToken: [] }, { adminCookie: [] }],
  responses: { ...op.responses, 401: error('no login'), 403: error('not an admin, or a session change without its CSRF token') },
});
/** A student operation: the token JupyterHub gives the student's JupyterLab page. */
const student = (op: Operation) => ({
  ...op,
  tags: ['student'],
  security: [{ hubToken: [] }],
  responses: { ...op.responses, 401: error('no token'), 404: error('no workshop for this user') },
});

/** Who may ask for more time, and when (../registrations/extension.ts). */
const EXTEND_RULE =
  "Granted when the workshop's wod.yml has `extend`, the clock runs, fewer than `extend.times` were taken, the deadline is within " +
  'the reminder window (timers.reminderMinutes), and the seat is not needed: the workshop is not full while people are arriving for it ' +
  '(a warm event runs, or registrations wait for their deployment). `extension` in the status says beforehand whether it would be.';
const EXTEND_REFUSED = 'refused, with the reason in `message`: `not-allowed`, `not-running`, `already-extended`, `too-early` or `seat-needed`';

/**
 * An operation of the location API: served below the service, not below api/v1 (its own
 * `servers`), for the peer of `role` presenting the token this wod issued for it.
 */
const peerOperation = (config: WodConfig, role: PeerRole) => (op: Operation) => ({
  ...op,
  tags: ['locations'],
  servers: [{ url: portalUrl(config).replace(/\/$/, '') }],
  security: [{ locationToken: [] }],
  responses: { ...op.responses, 401: error(`no location token, or not one this wod issued for a ${role}`) },
});

/** The location API's paths, as the document names them: below the service, like its router. */
function locationPaths(config: WodConfig) {
  const fromPortal = peerOperation(config, 'portal');
  const fromBackend = peerOperation(config, 'backend');
  const at = (route: string) => `/${LOCATION_API}${route}`;
  const seat = [pathParameter('ref', 'integer')];
  const unknown = error('`unknown-registration`: that portal routed no such registration here');
  const badRef = error('invalid fields, or a ref that is not a registration id');
  return {
    [at('/seats')]: {
      get: fromPortal({
        operationId: 'locationSeats',
        summary: "Backend side: each workshop's free seats here, and the lifecycle's queue (a portal polls it every locations.pollSeconds)",
        responses: { 200: body('the seats', 'LocationSeats') },
      }),
    },
    [at('/registrations')]: {
      post: fromPortal({
        operationId: 'locationSeat',
        summary: 'Backend side: seat a registration the portal accepted',
        description: 'Sent again with the same ref, it is the same registration (200). The participant is mailed by the portal, never from here.',
        requestBody: { required: true, ...json(ref('SeatRequest')) },
        responses: {
          201: body('seated: its CREATE is queued', 'SeatUpdate'),
          200: body('seated before, as it stands', 'SeatUpdate'),
          404: error('`unknown-workshop`: no such workshop here'),
          409: error('`full`, `inactive` or `already-registered`: the portal tries its next place'),
          422: error('invalid fields'),
        },
      }),
    },
    [at('/registrations/{ref}')]: {
      get: fromPortal({
        operationId: 'locationRegistration',
        summary: 'Backend side: a routed registration as it stands here',
        parameters: seat,
        responses: { 200: body('the registration', 'SeatUpdate'), 404: unknown, 422: badRef },
      }),
      delete: fromPortal({
        operationId: 'locationCancel',
        summary: 'Backend side: forget a registration that moved to another place or was given up (ended here if it held a seat)',
        parameters: seat,
        responses: { 204: { description: 'let go' }, 404: unknown, 422: badRef },
      }),
    },
    [at('/registrations/{ref}/end')]: {
      post: fromPortal({
        operationId: 'locationEnd',
        summary: 'Backend side: end a routed registration now (its CLEANUP frees the seat)',
        parameters: seat,
        requestBody: { required: true, ...json(ref('SeatEnd')) },
        responses: { 200: body('ended', 'SeatUpdate'), 404: unknown, 409: error('`not-running`: already ended'), 422: badRef },
      }),
    },
    [at('/registrations/{ref}/extend')]: {
      post: fromPortal({
        operationId: 'locationExtend',
        summary: 'Backend side: give a routed registration more time',
        parameters: seat,
        requestBody: { required: true, ...json(ref('SeatExtend')) },
        responses: { 200: body('the new deadline', 'SeatUpdate'), 404: unknown, 409: error('`not-running`: no running clock'), 422: badRef },
      }),
    },
    [at('/registrations/{ref}/credentials')]: {
      post: fromPortal({
        operationId: 'locationNewCredentials',
        summary: 'Backend side: new credentials (a new password), sent to the portal to mail before the old password stops working',
        parameters: seat,
        responses: { 200: body('relayed', 'SeatUpdate'), 404: unknown, 409: error('`not-running`: not ready'), 422: badRef },
      }),
    },
    [at('/registrations/{ref}/start-link')]: {
      post: fromPortal({
        operationId: 'locationStartLink',
        summary: "Backend side: the registration's one-click login at this hub, for the portal's status page",
        parameters: seat,
        responses: { 200: body('the link', 'StartLink'), 404: unknown, 422: badRef },
      }),
    },
    [at('/updates')]: {
      post: fromBackend({
        operationId: 'locationUpdates',
        summary: 'Portal side: how the registrations a backend seats stand; the portal moves its copies (and mails) to follow',
        requestBody: { required: true, ...json(ref('SeatUpdates')) },
        responses: { 200: body('what was done with each', 'UpdateResults'), 422: error('invalid updates') },
      }),
    },
    [at('/credentials')]: {
      post: fromBackend({
        operationId: 'locationCredentials',
        summary: "Portal side: a routed registration's login, mailed at once and never stored",
        requestBody: { required: true, ...json(ref('SeatCredentials')) },
        responses: { 200: body('mailed', 'CredentialsTaken'), 404: unknown, 422: error('invalid credentials') },
      }),
    },
  };
}

/** The request bodies, by the name the document gives them: converted as input, what a client sends. */
const REQUESTS = {
  RegistrationInput: registrationInput,
  WorkshopPatch: workshopPatch,
  ActionInput: actionInput,
  SurveyInput: surveyInput,
  ProgressInput: progressInput,
  ExtendInput: extendInput,
  WarmEventInput: warmEventInput,
  SeatRequest: seatRequest,
  SeatEnd: endRequest,
  SeatExtend: extendRequest,
  SeatUpdates: seatUpdates,
  SeatCredentials: seatCredentials,
} as const;
type RequestName = keyof typeof REQUESTS;

export function openApiDocument(config: WodConfig) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'wod REST API',
      version: VERSION,
      description:
        "Workshops-on-Demand: the public catalog, registration, a participant's status, and admin endpoints; " +
        `and the location API wods of locations call each other by, below the service at ${LOCATION_API} (tag locations). ` +
        'Errors are `{status, message}`; 422 adds `errors: [{field, message}]`, 409 adds a `code`.',
    },
    servers: [{ url: `${portalUrl(config)}api/v1` }],
    components: {
      securitySchemes: {
        hubToken: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: '`token <JupyterHub API token>` carrying the custom:wod:admin scope (a token narrowed to fewer scopes does not do)',
        },
        adminCookie: { type: 'apiKey', in: 'cookie', name: 'service-wod', description: 'the admin panel session (hub OAuth); changes also need the X-CSRF-Token header' },
        locationToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'wodloc_<43 characters>',
          description: 'the location API: the token this wod issued for the calling peer (`wod locations issue <peer>`), which says who calls and what it may ask',
        },
      },
      schemas: {
        ...(Object.fromEntries(Object.entries(REQUESTS).map(([name, schema]) => [name, toSchema(schema)])) as Record<RequestName, object>),
        ...responseComponents(),
      },
    },
    paths: {
      '/workshops': {
        get: { operationId: 'listWorkshops', summary: 'The open workshops, by priority', tags: ['catalog'], responses: { 200: body('the catalog', 'WorkshopList') } },
      },
      '/workshops/{folder}': {
        get: {
          operationId: 'getWorkshop',
          summary: 'One open workshop',
          tags: ['catalog'],
          parameters: [pathParameter('folder', 'string')],
          responses: { 200: body('the workshop', 'Workshop'), 404: error('no such open workshop') },
        },
      },
      '/registrations': {
        post: {
          operationId: 'register',
          summary: 'Register for a workshop',
          tags: ['registration'],
          description: "Allocates a student of the workshop's range in one transaction and queues its deployment. Credentials follow by mail.",
          parameters: [
            {
              name: 'Accept-Language',
              in: 'header',
              required: false,
              schema: { type: 'string', example: 'fr-FR,fr;q=0.9,en;q=0.8' },
              description: "the participant's language, as browsers send it: their mails and JupyterLab speak the best match wod has, else the site's defaultLanguage",
            },
          ],
          requestBody: { required: true, ...json(ref('RegistrationInput')) },
          responses: {
            201: body('registered', 'Registered'),
            400: error('the body is not JSON'),
            404: error('no such workshop'),
            409: error('`full`, `inactive`, or `already-registered` (one running workshop per email)'),
            422: error('invalid fields, or a refused address (disposable or deny-listed)'),
            429: error('too many registrations from this network or for this address; see Retry-After'),
          },
        },
      },
      '/status/{token}': {
        get: {
          operationId: 'getStatus',
          summary: "A participant's registration, by the signed token of their mails",
          tags: ['registration'],
          parameters: [pathParameter('token', 'string')],
          responses: { 200: body('the status', 'Status'), 404: error('invalid token') },
        },
      },
      '/status/{token}/feedback': {
        put: {
          operationId: 'answerSurvey',
          summary: 'Answer (or change) the short survey of a registration',
          tags: ['registration'],
          parameters: [pathParameter('token', 'string')],
          requestBody: { required: true, ...json(ref('SurveyInput')) },
          responses: { 200: body('stored; acknowledged by mail once', 'SurveyAnswer'), 404: error('invalid token'), 422: error('incomplete answer') },
        },
      },
      '/status/{token}/end': {
        post: {
          operationId: 'endOwnRegistration',
          summary: 'End my workshop now',
          tags: ['registration'],
          parameters: [pathParameter('token', 'string')],
          responses: { 200: body('ended; the seat is cleaned and freed', 'Status'), 404: error('invalid token'), 409: error('already ended') },
        },
      },
      '/status/{token}/extend': {
        post: {
          operationId: 'extendOwnRegistration',
          summary: 'Ask for more time (wod.yml extend), near the end of the workshop',
          description: EXTEND_RULE,
          tags: ['registration'],
          parameters: [pathParameter('token', 'string')],
          responses: { 200: body('granted: the status with the new deadline', 'Status'), 404: error('invalid token'), 409: error(EXTEND_REFUSED) },
        },
      },
      '/me': {
        get: student({
          operationId: 'myWorkshop',
          summary: "A student's own workshop and clock (for the JupyterLab extension)",
          responses: { 200: body('the registration holding this student account', 'Me') },
        }),
      },
      '/me/progress': {
        put: student({
          operationId: 'reportProgress',
          summary: 'Live progress: executed code cells over code cells',
          requestBody: { required: true, ...json(ref('ProgressInput')) },
          responses: { 204: { description: 'stored' }, 422: error('invalid progress') },
        }),
      },
      '/me/survey': {
        put: student({
          operationId: 'answerSurveyInLab',
          summary: 'Answer (or change) the survey while the workshop runs',
          requestBody: { required: true, ...json(ref('SurveyInput')) },
          responses: { 200: body('stored; acknowledged by mail once', 'SurveyAnswer'), 409: error('the workshop has ended'), 422: error('incomplete answer') },
        }),
      },
      '/me/extend': {
        post: student({
          operationId: 'extendInLab',
          summary: "Ask for more time from the lab's clock (wod.yml extend)",
          description: EXTEND_RULE,
          responses: { 200: body('granted: the workshop and clock with the new deadline', 'Me'), 409: error(EXTEND_REFUSED) },
        }),
      },
      '/admin/workshops': {
        get: admin({ operationId: 'adminListWorkshops', summary: 'Every workshop, active or not', responses: { 200: body('workshops', 'AdminWorkshopList') } }),
      },
      '/admin/workshops/{folder}': {
        patch: admin({
          operationId: 'adminUpdateWorkshop',
          summary: 'Set active, capacity, priority or warm (pinned against imports)',
          parameters: [pathParameter('folder', 'string')],
          requestBody: { required: true, ...json(ref('WorkshopPatch')) },
          responses: { 200: body('updated', 'AdminWorkshop'), 404: error('no such workshop'), 422: error('invalid values') },
        }),
      },
      '/admin/warm': {
        get: admin({
          operationId: 'adminWarm',
          summary: "Warm seats: each workshop's target, ready and preparing, and the events",
          responses: { 200: body('warm seats', 'WarmState') },
        }),
      },
      '/admin/warm/events': {
        post: admin({
          operationId: 'adminScheduleWarm',
          summary: 'Keep seats of a workshop warm from a time to a time (an event)',
          requestBody: { required: true, ...json(ref('WarmEventInput')) },
          responses: { 201: body('scheduled', 'WarmEvent'), 422: error('invalid event') },
        }),
      },
      '/admin/warm/events/{id}': {
        delete: admin({
          operationId: 'adminCancelWarm',
          summary: 'Cancel an event',
          parameters: [pathParameter('id', 'integer')],
          responses: { 204: { description: 'cancelled' }, 404: error('no such event') },
        }),
      },
      '/admin/workshops/import': {
        post: admin({
          operationId: 'adminImportWorkshops',
          summary: 'Read the workshop folders now',
          responses: { 200: body('what changed and every problem found', 'ImportReport') },
        }),
      },
      '/admin/registrations': {
        get: admin({
          operationId: 'adminSearchRegistrations',
          summary: 'Search registrations (email, name, company, student, id)',
          parameters: queryParameters(registrationQuery),
          responses: { 200: body('a page of registrations, newest first', 'RegistrationPage'), 422: error('invalid query') },
        }),
      },
      '/admin/registrations/{id}': {
        get: admin({
          operationId: 'adminGetRegistration',
          summary: 'One registration',
          parameters: [pathParameter('id', 'integer')],
          responses: { 200: body('the registration', 'Registration'), 404: error('no such registration') },
        }),
      },
      '/admin/registrations/{id}/end': {
        post: admin({
          operationId: 'adminEndRegistration',
          summary: 'End a registration now',
          parameters: [pathParameter('id', 'integer')],
          responses: { 200: body('ended', 'Registration'), 404: error('no such registration'), 409: error('already ended') },
        }),
      },
      '/admin/registrations/{id}/extend': {
        post: admin({
          operationId: 'adminExtendRegistration',
          summary: 'Give a running registration more time',
          parameters: [pathParameter('id', 'integer')],
          requestBody: { required: true, ...json(ref('ExtendInput')) },
          responses: { 200: body('the new deadline', 'Registration'), 404: error('no such registration'), 409: error('no running clock'), 422: error('invalid minutes') },
        }),
      },
      '/admin/registrations/{id}/credentials': {
        post: admin({
          operationId: 'adminResendCredentials',
          summary: 'Mail new credentials (a new password) to the participant',
          parameters: [pathParameter('id', 'integer')],
          responses: { 202: body('mailed', 'Notice'), 409: error('the registration is not ready') },
        }),
      },
      '/admin/participants': {
        get: admin({
          operationId: 'adminListParticipants',
          summary: 'Find a participant by email (or list them, newest first), before an export or an erasure',
          parameters: queryParameters(participantQuery),
          responses: { 200: body('a page of participants', 'ParticipantPage'), 422: error('invalid query') },
        }),
      },
      '/admin/participants/{id}': {
        get: admin({
          operationId: 'adminExportParticipant',
          summary: 'Everything wod holds about a participant, as a JSON download: registrations, survey answers, mails, audit entries',
          parameters: [pathParameter('id', 'integer')],
          responses: { 200: body('the export (Content-Disposition: attachment)', 'ParticipantExport'), 404: error('no such participant') },
        }),
        delete: admin({
          operationId: 'adminEraseParticipant',
          summary: "Erase a participant's personal data; the anonymous statistics stay",
          description:
            'Email, name and company become placeholders; the mails to them and their outbox files are deleted; client address, api-db id and survey comments are cleared; ' +
            'job logs and audit entries naming them are scrubbed; the deleted bytes are overwritten in the database file and its -wal. Audited with row counts only.',
          parameters: [pathParameter('id', 'integer')],
          responses: {
            200: body('erased', 'Erasure'),
            404: error('`unknown-participant`: no such participant, or erased already'),
            409: error('`participant-active`: a workshop of theirs runs or is not cleaned yet: end it and wait for its CLEANUP'),
          },
        }),
      },
      '/admin/surveys': {
        get: admin({
          operationId: 'adminListSurveys',
          summary: 'Survey answers, newest first, with their mean rating and share who would recommend',
          parameters: queryParameters(surveyQuery),
          responses: { 200: body('a page of answers', 'SurveyPage'), 422: error('invalid query') },
        }),
      },
      '/admin/mails': {
        get: admin({
          operationId: 'adminListMails',
          summary: 'The outbox: every participant mail, newest first',
          parameters: queryParameters(mailQuery),
          responses: { 200: body('a page of mails', 'MailPage'), 422: error('invalid query') },
        }),
      },
      '/admin/mails/{id}': {
        get: admin({
          operationId: 'adminGetMail',
          summary: 'One mail with its text and HTML (credentials mails are not stored)',
          parameters: [pathParameter('id', 'integer')],
          responses: { 200: body('the mail', 'MailDetail'), 404: error('no such mail') },
        }),
      },
      '/admin/mails/{id}/resend': {
        post: admin({
          operationId: 'adminResendMail',
          summary: 'Send a copy of a mail again',
          parameters: [pathParameter('id', 'integer')],
          responses: { 202: body('queued', 'MailQueued'), 404: error('no such mail, or one without a stored body') },
        }),
      },
      '/admin/jobs': {
        get: admin({
          operationId: 'adminListJobs',
          summary: 'Jobs, newest first',
          parameters: queryParameters(jobQuery),
          responses: { 200: body('a page of jobs', 'JobPage'), 422: error('invalid query') },
        }),
      },
      '/admin/jobs/{id}': {
        get: admin({
          operationId: 'adminGetJob',
          summary: 'One job with the log of each step (timings, hook output)',
          parameters: [pathParameter('id', 'integer')],
          responses: { 200: body('the job', 'JobDetail'), 404: error('no such job') },
        }),
      },
      '/admin/actions': {
        post: admin({
          operationId: 'adminRunAction',
          summary: 'Run CREATE, CLEANUP, RESET or PURGE on a student or a range (like wod action)',
          requestBody: { required: true, ...json(ref('ActionInput')) },
          responses: { 202: body('queued', 'ActionQueued'), 422: error('invalid action (unknown workshop, student out of range or in use…)') },
        }),
      },
      '/admin/pool': {
        get: admin({
          operationId: 'adminPoolState',
          summary: "The student pool over a workshop's range or first..last: its counts and a page of its students",
          description:
            'Students come a page at a time, the stuck first, then by number: `limit` (500 unless given, at most 5 000) and `offset`, ' +
            'optionally only those of one `state` (or `stuck`). Compatibility: the fields `stuck`, `total`, `limit`, `offset` and the `state` filter were added; ' +
            'a range of more than 500 students, once listed whole, now needs a larger `limit` or several pages (`total` says how many).',
          parameters: queryParameters(poolQuery),
          responses: { 200: body('counts and a page of students', 'PoolState'), 404: error('no such workshop'), 422: error('give workshop, or first and last') },
        }),
      },
      '/admin/pool/summary': {
        get: admin({
          operationId: 'adminPoolSummary',
          summary: 'The pool at a glance: free, allocated, cleanup and stuck per workshop range and outside every range',
          responses: { 200: body('the counts', 'PoolSummary') },
        }),
      },
      '/admin/capacity': {
        get: admin({
          operationId: 'adminCapacity',
          summary: 'What a working seat costs on this host (median RSS, measured once a minute), the memory available now, and how many more seats fit',
          responses: { 200: body('the figures', 'Capacity') },
        }),
      },
      '/admin/locations': {
        get: admin({
          operationId: 'adminLocations',
          summary: "Locations: each backend's health, seats, queue and this portal's registrations there; each portal's registrations here and the updates it has not taken",
          responses: { 200: body('the locations (empty lists on a wod without locations)', 'Locations') },
        }),
      },
      '/admin/stats': {
        get: admin({
          operationId: 'adminStats',
          summary: "The dashboard's charts: registrations per hour (24 h) and per day (30 days), provision time percentiles, completion and survey ratings per workshop",
          responses: { 200: body('the figures', 'Stats') },
        }),
      },
      '/admin/workshops/{folder}/room': {
        get: admin({
          operationId: 'adminWorkshopRoom',
          summary: "A workshop's live room: every participant deploying or working, with progress, time left and the hub's last activity (unknown when the hub does not answer)",
          parameters: [pathParameter('folder', 'string')],
          responses: { 200: body('the room', 'Room'), 404: error('no such workshop') },
        }),
      },
      '/admin/pool/{id}/retry': {
        post: admin({
          operationId: 'adminRetryStuck',
          summary: 'Run again the CLEANUP, RESET or PURGE that gave up on a stuck student',
          parameters: [pathParameter('id', 'integer')],
          responses: { 202: body('queued', 'ActionQueued'), 409: error('the student is not stuck') },
        }),
      },
      ...locationPaths(config),
    },
  };
}
