/**
 * The OpenAPI document describes exactly the routes the API router and the location API's router
 * serve (the latter below the service, with its own server and token scheme), and its response
 * schemas are the presenters' zod schemas: each shape once, as a closed component, that what the
 * presenters build conforms to. (The handlers' real answers are checked in
 * tests/integration/openapi-responses.test.ts.)
 */
import type express from 'express';
import type { CatalogEntry } from '../../hub-service/src/catalog/catalog';
import { loadConfig } from '../../hub-service/src/config/load';
import { LOCATION_API } from '../../hub-service/src/locations/peers';
import { seatRequest } from '../../hub-service/src/locations/protocol';
import type { RegistrationView } from '../../hub-service/src/registrations/registrations';
import { REGISTRATION_STATES } from '../../hub-service/src/registrations/states';
import { presentJobDetail, presentMailDetail, presentPool } from '../../hub-service/src/web/admin-views';
import { apiRouter } from '../../hub-service/src/web/api';
import { RESPONSE_SCHEMAS } from '../../hub-service/src/web/api-responses';
import type { WebDeps } from '../../hub-service/src/web/deps';
import { locationApiRouter } from '../../hub-service/src/web/location-api';
import { openApiDocument } from '../../hub-service/src/web/openapi';
import { adminRegistration, adminWorkshop, participantStatus, publicWorkshop } from '../../hub-service/src/web/views';
import type { Me as LabMe } from '../../labextension/src/service';
import type { Me } from '../../hub-service/src/web/me';
import { type OpenApiDocument, ResponseChecker } from '../support/openapi';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: express.Router & { stack?: Layer[] };
  rawPath?: string;
}

/** Method and path of every route, nested routers included (at the path they are mounted on). */
function routes(router: { stack: Layer[] }, base = ''): string[] {
  return router.stack.flatMap((layer) => {
    if (layer.route) return Object.keys(layer.route.methods).map((m) => `${m} ${base}${layer.route!.path}`.replace(/(.)\/$/, '$1'));
    if (layer.handle.stack) return routes(layer.handle as unknown as { stack: Layer[] }, `${base}${layer.rawPath ?? ''}`);
    return [];
  });
}

test('every API route is in the document, and every documented operation exists', () => {
  const config = loadConfig({ env: {} });
  const fake = { requireUser: jest.fn(), requireWodAdmin: jest.fn(), requireCsrf: jest.fn() };
  const router = apiRouter({ config, auth: fake } as unknown as WebDeps) as unknown as { stack: Layer[] };
  // mounted by main.ts below the service, beside api/v1
  const locationRouter = locationApiRouter({} as Parameters<typeof locationApiRouter>[0]) as unknown as { stack: Layer[] };
  const served = [...routes(router), ...routes(locationRouter, `/${LOCATION_API}`)]
    .filter((r) => !r.endsWith('/openapi.json') && !r.endsWith('/docs'))
    .map((r) => r.replace(/:(\w+)/g, '{$1}'))
    .sort();
  const doc = openApiDocument(config);
  const documented = Object.entries(doc.paths)
    .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`))
    .sort();
  expect(served).toEqual(documented);
  const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => (op as { operationId: string }).operationId));
  expect(new Set(ids).size).toBe(ids.length);
});

test("the location API has its own server below the service and the location token; api/v1 keeps the document's", () => {
  const config = loadConfig({ env: { WOD_PUBLIC_URL: 'https://portal.example.org' } });
  const doc = openApiDocument(config);
  expect(doc.servers).toEqual([{ url: 'https://portal.example.org/services/wod/api/v1' }]);
  expect(doc.components.securitySchemes.locationToken).toMatchObject({ type: 'http', scheme: 'bearer' });
  const operations = Object.entries(doc.paths).flatMap(([p, ops]) =>
    Object.values(ops).map((op) => ({ p, op: op as { servers?: { url: string }[]; security?: object[]; responses: Record<string, object> } })),
  );
  const location = operations.filter(({ p }) => p.startsWith(`/${LOCATION_API}/`));
  expect(location.length).toBe(10);
  for (const { p, op } of location) {
    // server + path is where main.ts mounts the router: /services/wod/api/locations/v1/…
    expect(`${op.servers![0].url}${p}`).toMatch(/^https:\/\/portal\.example\.org\/services\/wod\/api\/locations\/v1\//);
    expect(op.security).toEqual([{ locationToken: [] }]);
    expect(Object.keys(op.responses)).toContain('401');
  }
  for (const { op } of operations.filter(({ p }) => !p.startsWith(`/${LOCATION_API}/`))) {
    expect(op.servers).toBeUndefined();
    expect(JSON.stringify(op.security ?? [])).not.toContain('locationToken');
  }
  // request bodies are the protocol's schemas, as a client sends them
  const seat = (doc.paths as Record<string, Record<string, unknown>>)[`/${LOCATION_API}/registrations`].post as {
    requestBody: { content: { 'application/json': { schema: { $ref: string } } } };
  };
  expect(seat.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/SeatRequest' });
  const requestSchema = doc.components.schemas.SeatRequest as { required: string[]; additionalProperties: boolean };
  expect(requestSchema.required).toEqual(expect.arrayContaining(['ref', 'workshop', 'email']));
  expect(requestSchema.additionalProperties).toBe(false);
  expect(seatRequest.safeParse({ ref: 1, workshop: 'WKSHP-X', email: 'a@example.com', name: 'A', company: 'B', extra: 1 }).success).toBe(false);
});

describe('response schemas', () => {
  const config = loadConfig({ env: {} });
  const doc = openApiDocument(config) as unknown as OpenApiDocument & { components: { schemas: Record<string, Record<string, unknown>> } };
  const schemas = doc.components.schemas;
  const checker = new ResponseChecker(doc);
  const operations = Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).map(([method, op]) => ({ p, method, op })));

  test('every response body is a reference to a component, and every component of a response is one the presenters define', () => {
    const inline: string[] = [];
    for (const { p, method, op } of operations) {
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        const schema = response.content?.['application/json']?.schema as { $ref?: string } | undefined;
        if (!schema) continue;
        if (!schema.$ref?.startsWith('#/components/schemas/')) inline.push(`${method} ${p} ${status}`);
        else expect(Object.keys(RESPONSE_SCHEMAS)).toContain(schema.$ref.split('/').pop());
      }
    }
    expect(inline).toEqual([]);
  });

  test('every response object is closed, with its fields required unless they may be left out', () => {
    const open: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}[${i}]`));
      if (!node || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      if (o.type === 'object' && o.additionalProperties !== false) open.push(where);
      for (const [k, v] of Object.entries(o)) walk(v, `${where}.${k}`);
    };
    for (const name of Object.keys(RESPONSE_SCHEMAS)) walk(schemas[name], name);
    expect(open).toEqual([]);
    const required = (name: string) => (schemas[name] as { required: string[] }).required;
    expect(required('Status')).toEqual(expect.arrayContaining(['createdAt', 'readyAt', 'endedAt', 'completion', 'secondsLeft', 'jupyterUrl']));
    expect(required('Error')).toEqual(['status', 'message']);
  });

  test("/me is described once, and states are the state machine's", () => {
    // The lab extension reads GET /me as its own interface: what the service sends must fit it (type check).
    const sent: Me = {
      registration: 1,
      state: 'ready',
      workshop: { folder: 'F', name: 'N', conclusion: null },
      deadlineAt: null,
      secondsLeft: null,
      closesAt: null,
      now: '2026-03-01T10:00:00.000Z',
      survey: null,
      checks: { passed: 1, total: 2 },
      extension: { possible: false, minutes: null, code: 'not-allowed', reason: 'this workshop does not allow more time' },
    };
    const read: LabMe = sent;
    expect(read).toBe(sent);
    const me = doc.paths['/me'].get.responses!['200'].content!['application/json'].schema;
    expect(me).toEqual({ $ref: '#/components/schemas/Me' });
    const closesAt = Object.entries(schemas).filter(([, s]) => JSON.stringify(s).includes('"closesAt"'));
    expect(closesAt.map(([name]) => name)).toEqual(['Me']);
    for (const name of ['Status', 'Registration', 'Me']) {
      expect((schemas[name] as { properties: { state: { enum: string[] } } }).properties.state.enum).toEqual([...REGISTRATION_STATES]);
    }
  });

  const entry: CatalogEntry = {
    folder: 'WKSHP-Python101',
    name: 'Python 101',
    description: 'Learn Python',
    category: ['Languages'],
    presenter: null,
    role: null,
    avatar: 'me.png',
    replayId: null,
    replayLink: null,
    workshopImg: null,
    badgeImg: 'https://example.com/b.png',
    beta: false,
    active: true,
    capacity: 10,
    priority: 1,
    warm: 0,
    warmReady: 0,
    range: [1, 10],
    durationMinutes: 120,
    seats: 3,
    running: 7,
    participants: 9,
    popular: true,
    source: 'public',
    pinned: ['capacity'],
    removed: false,
    createdAt: '2026-03-01T09:00:00.000Z',
    updatedAt: '2026-03-01T09:30:00.000Z',
    spec: {} as CatalogEntry['spec'],
    path: '/nowhere/WKSHP-Python101',
  };
  const view: RegistrationView = {
    id: 4,
    state: 'ready',
    workshop: { folder: entry.folder, name: entry.name, durationMinutes: 120 },
    participant: { id: 2, email: 'a@example.com', name: 'Ann', company: 'ACME' },
    student: 'student3',
    createdAt: '2026-03-01T10:00:00.000Z',
    readyAt: '2026-03-01T10:01:00.000Z',
    deadlineAt: '2026-03-01T12:01:00.000Z',
    endedAt: null,
    endReason: null,
    completion: null,
    progress: { executed: 2, total: 5, at: '2026-03-01T10:30:00.000Z' },
    checks: { passed: 1, total: 2 },
    survey: { rating: 5, good: 'all', improve: '', recommend: true, answeredAt: '2026-03-01T11:00:00.000Z' },
    language: 'fr',
    location: 'lyon',
  };

  test.each<[string, string, string, number, () => unknown]>([
    ['a public workshop', '/workshops/{folder}', 'get', 200, () => publicWorkshop('/services/wod/', entry, undefined)],
    ['an admin workshop', '/admin/workshops/{folder}', 'patch', 200, () => adminWorkshop('/services/wod/', entry, undefined)],
    ["a participant's status", '/status/{token}', 'get', 200, () => participantStatus(view, 'https://hub.example.com', Date.parse('2026-03-01T11:00:00Z'))],
    [
      'an ended status',
      '/status/{token}/end',
      'post',
      200,
      () => participantStatus({ ...view, state: 'ended', endedAt: '2026-03-01T11:00:00.000Z', completion: 0.4 }, 'https://h'),
    ],
    ['a registration', '/admin/registrations/{id}', 'get', 200, () => adminRegistration(view)],
    ['a registration without progress or survey', '/admin/registrations/{id}/end', 'post', 200, () => adminRegistration({ ...view, progress: null, checks: null, survey: null })],
    [
      'a job with steps',
      '/admin/jobs/{id}',
      'get',
      200,
      () =>
        presentJobDetail({
          id: 1,
          verb: 'CREATE',
          state: 'done',
          student: 'student3',
          registrationId: 4,
          workshop: entry.folder,
          source: 'api',
          attempts: 1,
          lastStep: 'notify',
          error: null,
          createdAt: view.createdAt,
          startedAt: view.createdAt,
          finishedAt: view.readyAt,
          steps: [{ step: 'notify', attempt: 1, startedAt: view.createdAt, finishedAt: null, ok: null, output: null }],
        }),
    ],
    [
      'a mail',
      '/admin/mails/{id}',
      'get',
      200,
      () =>
        presentMailDetail({
          id: 1,
          key: 'welcome-4',
          kind: 'welcome',
          registrationId: 4,
          to: 'a@example.com',
          subject: 'Welcome',
          state: 'sent',
          attempts: 1,
          error: null,
          createdAt: view.createdAt,
          sentAt: view.readyAt,
          text: 'hi',
          html: null,
        }),
    ],
    [
      'the pool',
      '/admin/pool',
      'get',
      200,
      () =>
        presentPool(
          { range: [1, 2], free: 1, allocated: 1, cleanup: 0, stuck: 1 },
          {
            items: [
              { id: 1, name: 'student1', state: 'allocated', registrationId: 4, updatedAt: view.createdAt, problem: 'CLEANUP gave up' },
              { id: 2, name: 'student2', state: 'free', registrationId: null, updatedAt: view.createdAt, problem: null },
            ],
            total: 2,
          },
          { limit: 500, offset: 0 },
        ),
    ],
  ])('what the presenter builds for %s conforms to the document', (_what, p, method, status, present) => {
    expect(checker.problems(p, method, status, JSON.parse(JSON.stringify(present())))).toEqual([]);
  });

  test('a missing field, an extra field, a wrong state or a timestamp not in ISO form is refused', () => {
    const good = JSON.parse(JSON.stringify(participantStatus(view, 'https://h'))) as Record<string, unknown>;
    const { createdAt: _, ...missing } = good;
    expect(checker.problems('/status/{token}', 'get', 200, missing)).toEqual([expect.stringContaining("must have required property 'createdAt'")]);
    expect(checker.problems('/status/{token}', 'get', 200, { ...good, password: 'x' })).toEqual([expect.stringContaining('(password)')]);
    expect(checker.problems('/status/{token}', 'get', 200, { ...good, state: 'running' })).not.toEqual([]);
    expect(checker.problems('/status/{token}', 'get', 200, { ...good, createdAt: '2026-03-01 10:00:00' })).not.toEqual([]);
    expect(checker.problems('/status/{token}', 'get', 418, good)).toEqual([expect.stringContaining('not documented')]);
    expect(checker.problems('/status/{token}', 'get', 404, { status: 404, message: 'invalid' })).toEqual([]);
  });
});
