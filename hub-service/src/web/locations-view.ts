/**
 * Locations as the admin panel and `GET /admin/locations` show them: per backend, its health as
 * this portal last saw it (locations/health.ts), its seats and queue as it last said, and this
 * portal's registrations there; per portal, its registrations seated here and the updates it has
 * not taken yet (locations/stats.ts). One schema, so the OpenAPI document says what is answered.
 */
import { z } from 'zod';
import type { LocationHealth } from '../locations/health.js';
import type { Peers } from '../locations/peers.js';
import { locationSeats } from '../locations/protocol.js';
import { registrationsAtBackend, registrationsFromPortal } from '../locations/stats.js';
import { troubleOf } from '../locations/trouble.js';
import type { Db } from '../store/db.js';
import { timestamp } from './views.js';

const count = z.number().int().min(0);
const tokens = z
  .object({
    issued: z.boolean().meta({ description: 'this wod issued the token the peer presents (wod locations issue)' }),
    accepted: z.boolean().meta({ description: 'this wod holds the token the peer issued for it (wod locations accept)' }),
  })
  .meta({ description: 'a peer needs both: each side calls the other' });

const backendViewSchema = z.object({
  name: z.string(),
  url: z.string(),
  status: z.enum(['up', 'down', 'unknown']).meta({ description: 'up: its last call got an answer; down: it got none; unknown: not asked since this wod started' }),
  error: z.string().nullable().meta({ description: 'why its last call got no answer, as callPeer said it' }),
  trouble: z.string().nullable().meta({ description: 'the same, said as an operator acts on it' }),
  seenAt: timestamp.nullable().meta({ description: 'when it last answered' }),
  checkedAt: timestamp.nullable().meta({ description: 'when it was last called' }),
  latencyMs: count.nullable().meta({ description: 'how long its last seats poll took' }),
  freeSeats: count.nullable().meta({ description: 'the free seats of its active workshops, as it last said (null before it said)' }),
  seats: locationSeats.nullable(),
  registrations: z
    .object({
      waiting: count.meta({ description: 'sent there, not accepted yet' }),
      running: count.meta({ description: 'accepted there, not ended' }),
      rerouted: count.meta({ description: 'of both, those moved there from another place' }),
    })
    .meta({ description: "this portal's registrations holding a seat there now" }),
  tokens,
});

const portalViewSchema = z.object({
  name: z.string(),
  url: z.string(),
  registrations: z.object({ running: count.meta({ description: 'holding a seat here now' }), total: count.meta({ description: 'every one it routed here' }) }),
  updatesWaiting: count.meta({ description: 'registrations changed here that it has not taken yet: it is down, or refuses our token' }),
  tokens,
});

export const locationsSchema = z
  .object({
    name: z.string().nullable().meta({ description: "this wod's locations.name" }),
    backends: z.array(backendViewSchema).meta({ description: 'the wods this one routes registrations to (locations.backends)' }),
    portals: z.array(portalViewSchema).meta({ description: 'the wods that route registrations here (locations.portals)' }),
  })
  .meta({ description: "this wod's locations: each backend's health, seats and registrations, each portal's registrations here" });
export type LocationsView = z.output<typeof locationsSchema>;

export function presentLocations(db: Db, d: { peers: Peers; health: LocationHealth }, name: string | null): LocationsView {
  const tokensOf = new Map(d.peers.state().map((s) => [`${s.role}/${s.name}`, { issued: s.issued, accepted: s.accepted }]));
  const health = new Map(d.health.list().map((h) => [h.name, h]));
  return {
    name,
    backends: d.peers.backends().map((p) => {
      const h = health.get(p.name);
      const seats = h?.seats ?? null;
      const error = h?.up === false ? h.error : null;
      return {
        name: p.name,
        url: p.url,
        status: h?.up === true ? 'up' : h?.up === false ? 'down' : 'unknown',
        error,
        trouble: error === null ? null : troubleOf(p.name, error, name),
        seenAt: h?.seenAt ?? null,
        checkedAt: h?.checkedAt ?? null,
        latencyMs: h?.latencyMs ?? null,
        freeSeats: seats && seats.workshops.filter((w) => w.active).reduce((n, w) => n + w.seats, 0),
        seats,
        registrations: registrationsAtBackend(db, p.name),
        tokens: tokensOf.get(`backend/${p.name}`)!,
      };
    }),
    portals: d.peers.list
      .filter((p) => p.role === 'portal')
      .map((p) => {
        const { running, total, updatesWaiting } = registrationsFromPortal(db, p.name);
        return { name: p.name, url: p.url, registrations: { running, total }, updatesWaiting, tokens: tokensOf.get(`portal/${p.name}`)! };
      }),
  };
}
