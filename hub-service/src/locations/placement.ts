/**
 * Where a registration's seat goes: the workshop's `location`, then its `alternateLocation`s, in
 * that order, each either this wod (HERE) or a backend; the first that has a seat now, else the
 * first that may have one when it answers again. Pure: the seats and health are given.
 */
import { TRANSITIONS, type RegistrationState } from '../registrations/states.js';

/** This wod, as a place for seats. */
export const HERE = null;
export type Place = string | typeof HERE;

/** What a portal knows of a backend's workshop right now (locations/health.ts). */
export type Availability = 'seats' | 'full' | 'unknown';

/**
 * The places a workshop may run, in order, from its wod.yml: its location (unset, this wod's own
 * name or one nobody here knows: here), then each alternate this wod knows; here only once.
 */
export function placesOf(w: { location: string | null; alternateLocation: readonly string[] }, self: string | null, backends: readonly string[]): Place[] {
  const place = (name: string | null): Place | undefined => (name === null || name === self ? HERE : backends.includes(name) ? name : undefined);
  const first = place(w.location) ?? HERE;
  const out: Place[] = [first];
  for (const alt of w.alternateLocation) {
    const p = place(alt);
    if (p !== undefined && !out.includes(p)) out.push(p);
  }
  return out;
}

/**
 * The place for a registration among `places`, skipping `not`: the first with a seat now; else the
 * first remote one not known to be full (it waits there until it answers); none: every one is full.
 */
export function choosePlace(places: readonly Place[], availability: (p: Place) => Availability, not: readonly Place[] = []): Place | undefined {
  const open = places.filter((p) => !not.includes(p));
  // by index: HERE is null, which `find(...) ?? …` would take for "none"
  const i = open.findIndex((p) => availability(p) === 'seats');
  const j = i >= 0 ? i : open.findIndex((p) => p !== HERE && availability(p) === 'unknown');
  return j >= 0 ? open[j] : undefined;
}

/** The moves that take a registration from one state to another, shortest first; null when none can. */
export function pathBetween(from: RegistrationState, to: RegistrationState): RegistrationState[] | null {
  if (from === to) return [];
  const seen = new Map<RegistrationState, RegistrationState[]>([[from, []]]);
  const queue: RegistrationState[] = [from];
  while (queue.length) {
    const s = queue.shift()!;
    for (const next of TRANSITIONS[s]) {
      if (seen.has(next)) continue;
      const path = [...seen.get(s)!, next];
      if (next === to) return path;
      seen.set(next, path);
      queue.push(next);
    }
  }
  return null;
}
