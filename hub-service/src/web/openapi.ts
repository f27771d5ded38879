/**
 * The OpenAPI 3.1 description of REST API v1. Request bodies come from the same zod schemas that
 * validate them, so the document cannot drift from what the routes accept.
 */
import { z } from 'zod';
import type { WodConfig } from '../config/schema.js';
import { registrationInput } from '../registrations/input.js';
import { surveyInput } from '../registrations/survey.js';
import { VERSION } from '../version.js';
import { actionInput, extendInput, jobQuery, mailQuery, registrationQuery, surveyQuery, workshopPatch } from './api-schemas.js';
import { progressInput } from './me.js';

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, ...json(ref('Error')) });
const toSchema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
/** A query schema's fields as OpenAPI query parameters. */
const queryParameters = (s: z.ZodType) => Object.entries((toSchema(s) as { properties: Record<string, object> }).properties).map(([name, schema]) => ({ name, in: 'query', schema }));

const ADMIN = [{ hubToken: [] }, { adminCookie: [] }];
const STUDENT = [{ hubToken: [] }];
const STATES = ['registered', 'deploying', 'ready', 'reminded', 'ended', 'cleaned', 'failed'];

const workshop = {
  type: 'object',
  properties: {
    folder: { type: 'string', example: 'WKSHP-Python101' },
    name: { type: 'string' },
    description: { type: 'string' },
    durationMinutes: { type: 'integer' },
    category: { type: 'array', items: { type: 'string' } },
    presenter: { type: ['string', 'null'] },
    role: { type: ['string', 'null'] },
    avatar: { type: ['string', 'null'], description: 'image URL' },
    badgeImg: { type: ['string', 'null'], description: 'image URL' },
    workshopImg: { type: ['string', 'null'], description: 'image URL' },
    replayLink: { type: ['string', 'null'] },
    beta: { type: 'boolean' },
    popular: { type: 'boolean', description: 'among the three workshops with the most participants' },
    seats: { type: 'integer', description: 'seats free now: min(capacity − running registrations, free students in range)' },
    full: { type: 'boolean' },
    url: { type: 'string', description: 'the workshop page' },
  },
};

export function openApiDocument(config: WodConfig) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'wod REST API',
      version: VERSION,
      description:
        'Workshops-on-Demand: the public catalog, registration, a participant\'s status, and admin endpoints. ' +
        'Errors are `{status, message}`; 422 adds `errors: [{field, message}]`, 409 adds a `code`.',
    },
    servers: [{ url: `${config.publicUrl}/services/wod/api/v1` }],
    components: {
      securitySchemes: {
        hubToken: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`token <JupyterHub API token>` of a hub admin or of a user with the custom:wod:admin scope' },
        adminCookie: { type: 'apiKey', in: 'cookie', name: 'service-wod', description: 'the admin panel session (hub OAuth); changes also need the X-CSRF-Token header' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['status', 'message'],
          properties: {
            status: { type: 'integer' },
            message: { type: 'string' },
            code: { type: 'string', enum: ['unknown-workshop', 'inactive', 'full', 'already-registered', 'not-running', 'unknown-registration'] },
            errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
        Workshop: workshop,
        AdminWorkshop: {
          allOf: [ref('Workshop')],
          type: 'object',
          properties: {
            active: { type: 'boolean' },
            capacity: { type: 'integer' },
            priority: { type: 'integer' },
            range: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 2 },
            running: { type: 'integer' },
            participants: { type: 'integer' },
            source: { type: 'string', enum: ['public', 'overlay'] },
            pinned: { type: 'array', items: { type: 'string' }, description: 'fields set by an admin, kept by imports' },
            removed: { type: 'boolean' },
          },
        },
        RegistrationInput: toSchema(registrationInput),
        WorkshopPatch: toSchema(workshopPatch),
        Registration: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            state: { type: 'string', enum: STATES },
            workshop: { type: 'object', properties: { folder: { type: 'string' }, name: { type: 'string' }, durationMinutes: { type: 'integer' } } },
            participant: { type: 'object', properties: { id: { type: 'integer' }, email: { type: 'string' }, name: { type: 'string' }, company: { type: 'string' } } },
            student: { type: ['string', 'null'] },
            createdAt: { type: 'string', format: 'date-time' },
            readyAt: { type: ['string', 'null'], format: 'date-time' },
            deadlineAt: { type: ['string', 'null'], format: 'date-time' },
            endedAt: { type: ['string', 'null'], format: 'date-time' },
            endReason: { type: ['string', 'null'] },
            completion: { type: ['number', 'null'], description: 'at CLEANUP, executed code cells over code cells (0 to 1)' },
            progress: { type: ['object', 'null'], description: 'live, as the JupyterLab extension reports it', properties: { executed: { type: 'integer' }, total: { type: 'integer' }, at: { type: 'string', format: 'date-time' } } },
            survey: { type: ['object', 'null'], description: "the participant's survey answer (SurveyInput, with answeredAt)" },
          },
        },
        Status: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            state: { type: 'string', enum: STATES },
            running: { type: 'boolean' },
            workshop: { type: 'object', properties: { folder: { type: 'string' }, name: { type: 'string' }, durationMinutes: { type: 'integer' } } },
            name: { type: 'string' },
            email: { type: 'string' },
            student: { type: ['string', 'null'] },
            deadlineAt: { type: ['string', 'null'], format: 'date-time' },
            secondsLeft: { type: ['integer', 'null'] },
            jupyterUrl: { type: ['string', 'null'], description: 'set once the JupyterLab is ready' },
          },
        },
        ActionInput: toSchema(actionInput),
        SurveyInput: toSchema(surveyInput),
        ProgressInput: toSchema(progressInput),
        ExtendInput: toSchema(extendInput),
        Mail: {
          type: 'object',
          properties: {
            id: { type: 'integer' }, key: { type: 'string' }, kind: { type: 'string', enum: ['welcome', 'credentials', 'reminder', 'thanks', 'milestone', 'feedback', 'apology'] },
            registrationId: { type: ['integer', 'null'] }, to: { type: 'string' }, subject: { type: 'string' }, state: { type: 'string', enum: ['queued', 'sent'] },
            attempts: { type: 'integer' }, error: { type: ['string', 'null'] }, createdAt: { type: 'string' }, sentAt: { type: ['string', 'null'] },
            text: { type: ['string', 'null'] }, html: { type: ['string', 'null'] },
          },
        },
        Job: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            verb: { type: 'string', enum: ['CREATE', 'CLEANUP', 'RESET', 'PURGE'] },
            state: { type: 'string', enum: ['queued', 'running', 'done', 'failed'] },
            student: { type: 'string' },
            registrationId: { type: ['integer', 'null'] },
            workshop: { type: ['string', 'null'] },
            source: { type: 'string' },
            attempts: { type: 'integer' },
            lastStep: { type: ['string', 'null'] },
            error: { type: ['string', 'null'] },
            steps: {
              type: 'array',
              items: { type: 'object', properties: { step: { type: 'string' }, attempt: { type: 'integer' }, startedAt: { type: 'string' }, finishedAt: { type: ['string', 'null'] }, ok: { type: ['boolean', 'null'] }, output: { type: ['string', 'null'] } } },
            },
          },
        },
        ImportReport: {
          type: 'object',
          properties: {
            inserted: { type: 'array', items: { type: 'string' } },
            updated: { type: 'array', items: { type: 'string' } },
            deactivated: { type: 'array', items: { type: 'string' } },
            unchanged: { type: 'array', items: { type: 'string' } },
            problems: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  severity: { type: 'string', enum: ['error', 'warning'] },
                  file: { type: 'string' },
                  line: { type: 'integer' },
                  field: { type: 'string' },
                  message: { type: 'string' },
                  fix: { type: 'string' },
                },
              },
            },
          },
        },
        PoolState: {
          type: 'object',
          properties: {
            range: { type: 'array', items: { type: 'integer' } },
            free: { type: 'integer' },
            allocated: { type: 'integer' },
            cleanup: { type: 'integer' },
            students: {
              type: 'array',
              items: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, state: { type: 'string', enum: ['free', 'allocated', 'cleanup'] }, registrationId: { type: ['integer', 'null'] } } },
            },
          },
        },
      },
    },
    paths: {
      '/workshops': {
        get: { operationId: 'listWorkshops', summary: 'The open workshops, by priority', tags: ['catalog'], responses: { 200: { description: 'the catalog', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('Workshop') } } }) } } },
      },
      '/workshops/{folder}': {
        get: {
          operationId: 'getWorkshop', summary: 'One open workshop', tags: ['catalog'],
          parameters: [{ name: 'folder', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'the workshop', ...json(ref('Workshop')) }, 404: error('no such open workshop') },
        },
      },
      '/registrations': {
        post: {
          operationId: 'register', summary: 'Register for a workshop', tags: ['registration'],
          description: 'Allocates a student of the workshop\'s range in one transaction and queues its deployment. Credentials follow by mail.',
          requestBody: { required: true, ...json(ref('RegistrationInput')) },
          responses: {
            201: { description: 'registered', ...json({ type: 'object', properties: { registration: { type: 'object', properties: { id: { type: 'integer' }, state: { type: 'string' }, workshop: { type: 'string' }, createdAt: { type: 'string' } } }, message: { type: 'string' } } }) },
            404: error('no such workshop'),
            409: error('`full`, `inactive`, or `already-registered` (one running workshop per email)'),
            422: error('invalid fields, or a refused address (disposable or deny-listed)'),
            429: error('too many registrations from this network or for this address; see Retry-After'),
          },
        },
      },
      '/status/{token}': {
        get: {
          operationId: 'getStatus', summary: 'A participant\'s registration, by the signed token of their mails', tags: ['registration'],
          parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'the status', ...json(ref('Status')) }, 404: error('invalid token') },
        },
      },
      '/status/{token}/feedback': {
        put: {
          operationId: 'answerSurvey', summary: 'Answer (or change) the short survey of a registration', tags: ['registration'],
          parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, ...json(ref('SurveyInput')) },
          responses: { 200: { description: 'stored; acknowledged by mail once', ...json(ref('SurveyInput')) }, 404: error('invalid token'), 422: error('incomplete answer') },
        },
      },
      '/status/{token}/end': {
        post: {
          operationId: 'endOwnRegistration', summary: 'End my workshop now', tags: ['registration'],
          parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'ended; the seat is cleaned and freed', ...json(ref('Status')) }, 404: error('invalid token'), 409: error('already ended') },
        },
      },
      '/me': {
        get: {
          operationId: 'myWorkshop', summary: "A student's own workshop and clock (for the JupyterLab extension)", tags: ['student'], security: STUDENT,
          responses: { 200: { description: 'the registration holding this student account', ...json({ type: 'object', properties: { registration: { type: 'integer' }, state: { type: 'string' }, workshop: { type: 'object', properties: { folder: { type: 'string' }, name: { type: 'string' }, conclusion: { type: ['string', 'null'], description: 'the notebook (file name in the workshop folder) that asks for the survey' } } }, deadlineAt: { type: ['string', 'null'] }, secondsLeft: { type: ['integer', 'null'] }, closesAt: { type: ['string', 'null'], description: 'when the server is stopped: the deadline and a grace to download the work' }, now: { type: 'string', format: 'date-time', description: "the service's clock, to count down against" }, survey: { type: ['object', 'null'] } } }) }, 404: error('no workshop for this user') },
        },
      },
      '/me/progress': {
        put: {
          operationId: 'reportProgress', summary: 'Live progress: executed code cells over code cells', tags: ['student'], security: STUDENT,
          requestBody: { required: true, ...json(ref('ProgressInput')) },
          responses: { 204: { description: 'stored' }, 422: error('invalid progress') },
        },
      },
      '/me/survey': {
        put: {
          operationId: 'answerSurveyInLab', summary: 'Answer (or change) the survey while the workshop runs', tags: ['student'], security: STUDENT,
          requestBody: { required: true, ...json(ref('SurveyInput')) },
          responses: { 200: { description: 'stored; acknowledged by mail once', ...json(ref('SurveyInput')) }, 409: error('the workshop has ended'), 422: error('incomplete answer') },
        },
      },
      '/admin/workshops': {
        get: { operationId: 'adminListWorkshops', summary: 'Every workshop, active or not', tags: ['admin'], security: ADMIN, responses: { 200: { description: 'workshops', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('AdminWorkshop') } } }) }, 401: error('no login'), 403: error('not an admin') } },
      },
      '/admin/workshops/{folder}': {
        patch: {
          operationId: 'adminUpdateWorkshop', summary: 'Set active, capacity or priority (pinned against imports)', tags: ['admin'], security: ADMIN,
          parameters: [{ name: 'folder', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, ...json(ref('WorkshopPatch')) },
          responses: { 200: { description: 'updated', ...json(ref('AdminWorkshop')) }, 404: error('no such workshop'), 422: error('invalid values') },
        },
      },
      '/admin/workshops/import': {
        post: { operationId: 'adminImportWorkshops', summary: 'Read the workshop folders now', tags: ['admin'], security: ADMIN, responses: { 200: { description: 'what changed and every problem found', ...json(ref('ImportReport')) } } },
      },
      '/admin/registrations': {
        get: {
          operationId: 'adminSearchRegistrations', summary: 'Search registrations (email, name, company, student, id)', tags: ['admin'], security: ADMIN,
          parameters: queryParameters(registrationQuery),
          responses: { 200: { description: 'a page of registrations, newest first', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('Registration') }, total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } } }) }, 422: error('invalid query') },
        },
      },
      '/admin/registrations/{id}': {
        get: {
          operationId: 'adminGetRegistration', summary: 'One registration', tags: ['admin'], security: ADMIN,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
          responses: { 200: { description: 'the registration', ...json(ref('Registration')) }, 404: error('no such registration') },
        },
      },
      '/admin/registrations/{id}/end': {
        post: {
          operationId: 'adminEndRegistration', summary: 'End a registration now', tags: ['admin'], security: ADMIN,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
          responses: { 200: { description: 'ended', ...json(ref('Registration')) }, 404: error('no such registration'), 409: error('already ended') },
        },
      },
      '/admin/registrations/{id}/extend': {
        post: {
          operationId: 'adminExtendRegistration', summary: 'Give a running registration more time', tags: ['admin'], security: ADMIN,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
          requestBody: { required: true, ...json(ref('ExtendInput')) },
          responses: { 200: { description: 'the new deadline', ...json(ref('Registration')) }, 404: error('no such registration'), 409: error('no running clock') },
        },
      },
      '/admin/registrations/{id}/credentials': {
        post: {
          operationId: 'adminResendCredentials', summary: 'Mail new credentials (a new password) to the participant', tags: ['admin'], security: ADMIN,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
          responses: { 202: { description: 'mailed', ...json(ref('Error')) }, 409: error('the registration is not ready') },
        },
      },
      '/admin/surveys': {
        get: {
          operationId: 'adminListSurveys', summary: 'Survey answers, newest first, with their mean rating and share who would recommend', tags: ['admin'], security: ADMIN,
          parameters: queryParameters(surveyQuery),
          responses: {
            200: {
              description: 'a page of answers',
              ...json({
                type: 'object',
                properties: {
                  items: { type: 'array', items: { type: 'object', properties: { registrationId: { type: 'integer' }, workshop: { type: 'object' }, participant: { type: 'object' }, rating: { type: 'integer' }, good: { type: 'string' }, improve: { type: 'string' }, recommend: { type: 'boolean' }, answeredAt: { type: 'string' } } } },
                  total: { type: 'integer' },
                  summary: { type: 'object', properties: { answers: { type: 'integer' }, meanRating: { type: ['number', 'null'] }, recommend: { type: ['number', 'null'], description: 'share, 0 to 1' } } },
                },
              }),
            },
            401: error('no login'), 403: error('not an admin'), 422: error('invalid query'),
          },
        },
      },
      '/admin/mails': {
        get: {
          operationId: 'adminListMails', summary: 'The outbox: every participant mail, newest first', tags: ['admin'], security: ADMIN,
          parameters: queryParameters(mailQuery),
          responses: { 200: { description: 'a page of mails', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('Mail') }, total: { type: 'integer' } } }) } },
        },
      },
      '/admin/mails/{id}': {
        get: {
          operationId: 'adminGetMail', summary: 'One mail with its text and HTML (credentials mails are not stored)', tags: ['admin'], security: ADMIN,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
          responses: { 200: { description: 'the mail', ...json(ref('Mail')) }, 404: error('no such mail') },
        },
      },
      '/admin/mails/{id}/resend': {
        post: {
          operationId: 'adminResendMail', summary: 'Send a copy of a mail again', tags: ['admin'], security: ADMIN,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
          responses: { 202: { description: 'queued', ...json({ type: 'object', properties: { id: { type: 'integer' } } }) }, 404: error('no such mail, or one without a stored body') },
        },
      },
      '/admin/jobs': {
        get: {
          operationId: 'adminListJobs', summary: 'Jobs, newest first', tags: ['admin'], security: ADMIN,
          parameters: queryParameters(jobQuery),
          responses: { 200: { description: 'a page of jobs', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('Job') }, total: { type: 'integer' } } }) }, 422: error('invalid query') },
        },
      },
      '/admin/jobs/{id}': {
        get: {
          operationId: 'adminGetJob', summary: 'One job with the log of each step (timings, hook output)', tags: ['admin'], security: ADMIN,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
          responses: { 200: { description: 'the job', ...json(ref('Job')) }, 404: error('no such job') },
        },
      },
      '/admin/actions': {
        post: {
          operationId: 'adminRunAction', summary: 'Run CREATE, CLEANUP, RESET or PURGE on a student or a range (like wod action)', tags: ['admin'], security: ADMIN,
          requestBody: { required: true, ...json(ref('ActionInput')) },
          responses: { 202: { description: 'queued', ...json({ type: 'object', properties: { jobs: { type: 'array', items: { type: 'integer' } } } }) }, 422: error('invalid action (unknown workshop, student out of range or in use…)') },
        },
      },
      '/admin/pool': {
        get: {
          operationId: 'adminPoolState', summary: 'The student pool over a workshop\'s range or first..last', tags: ['admin'], security: ADMIN,
          parameters: [
            { name: 'workshop', in: 'query', schema: { type: 'string' } },
            { name: 'first', in: 'query', schema: { type: 'integer' } },
            { name: 'last', in: 'query', schema: { type: 'integer' } },
          ],
          responses: { 200: { description: 'counts and students', ...json(ref('PoolState')) }, 404: error('no such workshop'), 422: error('give workshop, or first and last') },
        },
      },
    },
  };
}
