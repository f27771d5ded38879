import type { Actor } from '../audit/audit.js';
import type { WodConfig } from '../config/schema.js';
import type { Db } from '../store/db.js';
import { scanWorkshops } from './loader.js';
import { type ImportReport, importWorkshops } from './sync.js';

/** Reads the workshop folders and brings the database in line: at start, from the CLI, from the panel. */
export function importCatalog(db: Db, config: Pick<WodConfig, 'workshops' | 'students'>, actor: Actor): ImportReport {
  return importWorkshops(db, scanWorkshops(config.workshops, config.students.count), actor);
}
