/**
 * GET /metrics (/services/wod/metrics): the Prometheus text format, for a hub token whose scopes
 * include read:metrics (the hub's own /hub/metrics scope, so one token scrapes both) or the wod
 * admin scope, as JupyterHub's authenticate_prometheus does. The token may be a user's or a
 * service's (`wod metrics token`: the token-only wod-metrics service). No cookie: a scraper sends
 * `Authorization: Bearer <token>`.
 */
import express from 'express';
import { type Identities, WOD_ADMIN_SCOPE } from '../auth/identity.js';
import type { Logger } from '../log.js';
import type { WodMetrics } from './metrics.js';

export const METRICS_SCOPES = ['read:metrics', WOD_ADMIN_SCOPE];

export function metricsRouter(deps: { metrics: WodMetrics; identities: Pick<Identities, 'bearer'>; log: Logger }): express.Router {
  const router = express.Router();
  router.get('/metrics', async (req, res, next) => {
    try {
      const token = req.get('authorization')?.match(/^(?:token|bearer)\s+(\S+)$/i)?.[1];
      if (!token) {
        res.status(401).json({ status: 401, message: 'send a hub token with the read:metrics scope (Authorization: Bearer …; `wod metrics token` prints one)' });
        return;
      }
      const bearer = await deps.identities.bearer(token);
      if (!bearer) {
        res.status(401).json({ status: 401, message: 'the hub does not know this token' });
        return;
      }
      if (!bearer.scopes.some((s) => METRICS_SCOPES.includes(s))) {
        deps.log.info('metrics refused to a token without read:metrics', { [bearer.kind]: bearer.name });
        res.status(403).json({ status: 403, message: `this needs a hub token with the read:metrics or ${WOD_ADMIN_SCOPE} scope` });
        return;
      }
      const { contentType, text } = await deps.metrics.exposition();
      res.set('Content-Type', contentType).set('Cache-Control', 'no-store').send(text);
    } catch (e) {
      next(e);
    }
  });
  return router;
}
