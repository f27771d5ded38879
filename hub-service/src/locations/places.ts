/**
 * A portal's view of where seats are, for its registration desk (registrations/registrations.ts):
 * the workshop's places (locations/placement.ts) and what its backends last said of their seats.
 */
import type { CatalogEntry } from '../catalog/catalog.js';
import type { WodConfig } from '../config/schema.js';
import type { RegistrationPlaces } from '../registrations/registrations.js';
import type { LocationHealth } from './health.js';
import type { Peers } from './peers.js';
import { HERE, placesOf } from './placement.js';

/** None without backends: every seat is here, as before locations. */
export function portalPlaces(config: Pick<WodConfig, 'locations'>, peers: Peers, health: LocationHealth, onRouted: () => void): RegistrationPlaces | undefined {
  const backends = peers.backends().map((p) => p.name);
  if (!backends.length) return undefined;
  return {
    placesOf: (w) => placesOf(w, config.locations.name ?? null, backends),
    availability: (location, folder) => health.availability(location, folder),
    routed: (location, folder) => {
      health.took(location, folder);
      onRouted();
    },
  };
}

/** The catalog's entry with the seats a registration could take now anywhere it runs: here, and at each backend as it last said. */
export function seatsEverywhere(config: Pick<WodConfig, 'locations'>, peers: Peers, health: LocationHealth): (e: CatalogEntry) => CatalogEntry {
  const backends = peers.backends().map((p) => p.name);
  if (!backends.length) return (e) => e;
  return (e) => {
    const places = placesOf(e.spec, config.locations.name ?? null, backends);
    return { ...e, seats: places.reduce((n: number, p) => n + (p === HERE ? e.seats : health.seatsAt(p, e.folder)), 0) };
  };
}
