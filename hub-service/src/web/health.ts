import express from 'express';
import type { HubClient } from '../hub/client.js';
import type { Db } from '../store/db.js';
import { schemaVersion } from '../store/db.js';
import { VERSION } from '../version.js';

/**
 * GET /health: 200 with "status":"ok" while the database answers, 503 otherwise; whether the hub
 * API answers is reported beside it (the service keeps serving its pages while the hub restarts).
 */
export function healthRouter(deps: { db: Db; hubProbe: HubClient }): express.Router {
  const router = express.Router();
  router.get('/health', async (_req, res) => {
    let database: { ok: boolean; schemaVersion?: number; error?: string };
    try {
      database = { ok: true, schemaVersion: schemaVersion(deps.db) };
    } catch (e) {
      database = { ok: false, error: (e as Error).message };
    }
    let hub: { ok: boolean; version?: string; error?: string };
    try {
      hub = { ok: true, version: (await deps.hubProbe.info()).version };
    } catch (e) {
      hub = { ok: false, error: (e as Error).message };
    }
    res.status(database.ok ? 200 : 503).json({ status: database.ok ? 'ok' : 'error', version: VERSION, database, hub });
  });
  return router;
}
