/** The OpenAPI document describes exactly the routes the API router serves. */
import type express from 'express';
import { loadConfig } from '../../hub-service/src/config/load';
import { apiRouter } from '../../hub-service/src/web/api';
import type { WebDeps } from '../../hub-service/src/web/deps';
import { openApiDocument } from '../../hub-service/src/web/openapi';

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
  const served = routes(router)
    .filter((r) => !r.endsWith('/openapi.json') && !r.endsWith('/docs'))
    .map((r) => r.replace(/:(\w+)/g, '{$1}'))
    .sort();
  const doc = openApiDocument(config);
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)).sort();
  expect(served).toEqual(documented);
  const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => (op as { operationId: string }).operationId));
  expect(new Set(ids).size).toBe(ids.length);
});
