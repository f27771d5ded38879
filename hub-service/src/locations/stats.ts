/**
 * What this wod's registrations are at each peer now, for the admin panel (web/locations-view.ts):
 * a portal counts those it routed to a backend, a backend those a portal routed here and the
 * changes that portal has not taken yet (location_updates).
 */
import { HOLDS_SEAT, sqlList } from '../registrations/states.js';
import type { Db } from '../store/db.js';

/** Portal side: the registrations at a backend that hold a seat there (or wait for one). */
export interface AtBackend {
  /** sent, not accepted yet (routing 'pending') */
  waiting: number;
  /** accepted there and not ended */
  running: number;
  /** of both, those that came from another place (a refusal or a silent backend) */
  rerouted: number;
}

/** Backend side: what a portal routed here. */
export interface FromPortal {
  /** holding a seat here now */
  running: number;
  /** every one it routed here, ended ones included */
  total: number;
  /** changed here and not taken by the portal yet (it is down, or refuses our token) */
  updatesWaiting: number;
}

const HOLDING = sqlList(HOLDS_SEAT);

export function registrationsAtBackend(db: Db, location: string): AtBackend {
  const r = db
    .prepare(
      `SELECT COALESCE(SUM(routing = 'pending'), 0) AS waiting, COALESCE(SUM(routing IS NOT 'pending'), 0) AS running, COALESCE(SUM(reroutes > 0), 0) AS rerouted
         FROM registrations WHERE location = ? AND state IN (${HOLDING})`,
    )
    .get(location) as AtBackend;
  return { waiting: r.waiting, running: r.running, rerouted: r.rerouted };
}

export function registrationsFromPortal(db: Db, portal: string): FromPortal {
  const r = db
    .prepare(
      `SELECT COALESCE(SUM(state IN (${HOLDING})), 0) AS running, COUNT(*) AS total,
              (SELECT COUNT(*) FROM location_updates u JOIN registrations x ON x.id = u.registration_id WHERE x.portal = ?) AS updatesWaiting
         FROM registrations WHERE portal = ?`,
    )
    .get(portal, portal) as FromPortal;
  return { running: r.running, total: r.total, updatesWaiting: r.updatesWaiting };
}
