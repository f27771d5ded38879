/**
 * The rules for label values, pure. A label value is a series of its own for as long as Prometheus
 * keeps it, and anyone who may scrape reads it: so only a bounded set of words, never what a request
 * carried (an address, a name, the token in /status/<token>).
 */
import { WORKSHOP_FOLDER } from '../catalog/spec.js';

/** Stands for a workshop that is not (known to be) in the catalog. */
export const UNKNOWN_WORKSHOP = 'unknown';

/** Handler of a request that no route took (a 404, or refused before its route). */
export const NO_ROUTE = 'none';

/** A workshop folder name, or `unknown`: the caller vouches it is in the catalog, the pattern keeps anything else out. */
export function workshopLabel(folder: string | null): string {
  return folder && WORKSHOP_FOLDER.test(folder) ? folder : UNKNOWN_WORKSHOP;
}

/**
 * The route template that answered, below the service prefix (`/status/:token`, `/api/v1/registrations/:id`),
 * from Express's matched route and the literal path of the router it is mounted on.
 * A request a router's middleware answered before its route is `<mount>/*`; one nothing took is `none`.
 */
export function handlerLabel(req: { baseUrl: string; route?: { path?: unknown } }, prefix: string): string {
  const base = prefix.replace(/\/$/, '');
  if (!req.baseUrl.startsWith(base)) return NO_ROUTE;
  const mount = req.baseUrl.slice(base.length);
  if (typeof req.route?.path === 'string') return `${mount}${req.route.path}` || '/';
  return `${mount}/*`;
}
