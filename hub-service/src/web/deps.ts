import type { Actor } from '../audit/audit.js';
import type { HubAuth } from '../auth/oauth.js';
import type { Sealer } from '../auth/seal.js';
import type { CapacityMeter } from '../capacity/meter.js';
import type { ImportReport } from '../catalog/sync.js';
import type { CatalogEntry } from '../catalog/catalog.js';
import type { WodConfig } from '../config/schema.js';
import type { HubClient } from '../hub/client.js';
import type { Languages } from '../i18n/i18n.js';
import type { Letters } from '../journey/letters.js';
import type { Logger } from '../log.js';
import type { Mailer } from '../mail-out/mailer.js';
import type { RegistrationDesk } from '../registrations/desk.js';
import type { Registrations } from '../registrations/registrations.js';
import type { Db } from '../store/db.js';
import type { LocationHealth } from '../locations/health.js';
import type { Peers } from '../locations/peers.js';
import type { LocationRouter } from '../locations/router.js';

/** What the web routers are built from (assembled in main.ts). */
export interface WebDeps {
  config: WodConfig;
  db: Db;
  registrations: Registrations;
  desk: RegistrationDesk;
  sealer: Sealer;
  auth: HubAuth;
  /** a hub client that fails fast, for pages that only show the hub's state */
  hubProbe: HubClient;
  importCatalog: (actor: Actor) => ImportReport;
  /** jobs were queued: the engine should look now */
  onJobs: () => void;
  mailer: Mailer;
  letters: Letters;
  log: Logger;
  /** what a working seat costs here, and how many more fit (../capacity/meter.ts) */
  capacity: CapacityMeter;
  /** the languages pages and mails speak (../i18n/i18n.ts) */
  languages: Languages;
  /** the other wods, for a portal of locations (../locations/) */
  locations: {
    peers: Peers;
    health: LocationHealth;
    router: LocationRouter;
    /** a catalog entry with its seats anywhere it runs (../locations/places.ts) */
    seatsOf: (e: CatalogEntry) => CatalogEntry;
  };
}
