/** The public portal: catalog, workshop pages, registration, the participant's status page. */
import express from 'express';
import type { WebDeps } from './deps.js';

export function portalRouter(deps: WebDeps): express.Router {
  const router = express.Router();
  void deps;
  return router;
}
