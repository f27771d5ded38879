/**
 * Imports scanned workshops into the database: inserts new ones, updates changed ones (except the
 * fields an admin pinned), deactivates those whose folder is gone. Registrations are never touched:
 * a running workshop keeps going whatever its folder does.
 */
import { type Actor, audit } from '../audit/audit.js';
import type { Db } from '../store/db.js';
import type { CatalogScan } from './loader.js';
import type { Problem } from './problems.js';

export interface ImportReport {
  inserted: string[];
  updated: string[];
  deactivated: string[];
  unchanged: string[];
  problems: Problem[];
}

/** Fields an admin may set from the panel; an import leaves a pinned one alone. */
export const PINNABLE = ['active', 'capacity', 'priority', 'warm'] as const;
export type Pinnable = (typeof PINNABLE)[number];

/** A row of the workshops table. */
export interface WorkshopRow {
  id: number;
  folder: string;
  source: 'public' | 'overlay';
  path: string;
  name: string;
  active: number;
  capacity: number;
  priority: number;
  warm: number;
  range_min: number;
  range_max: number;
  duration_minutes: number;
  spec: string;
  pinned: string;
  removed_at: string | null;
  created_at: string;
  updated_at: string;
}
type Row = WorkshopRow;

export function importWorkshops(db: Db, scan: CatalogScan, actor: Actor): ImportReport {
  const report: ImportReport = { inserted: [], updated: [], deactivated: [], unchanged: [], problems: [...scan.problems] };
  const byFolder = db.prepare('SELECT * FROM workshops WHERE folder = ?');
  const insert = db.prepare(`INSERT INTO workshops
    (folder, source, path, name, active, capacity, priority, warm, range_min, range_max, duration_minutes, spec)
    VALUES (@folder, @source, @path, @name, @active, @capacity, @priority, @warm, @range_min, @range_max, @duration_minutes, @spec)`);
  const update = db.prepare(`UPDATE workshops SET source = @source, path = @path, name = @name, active = @active,
    capacity = @capacity, priority = @priority, warm = @warm, range_min = @range_min, range_max = @range_max,
    duration_minutes = @duration_minutes, spec = @spec, removed_at = NULL,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = @id`);

  db.transaction(() => {
    for (const w of scan.workshops) {
      const s = w.spec;
      const next = {
        folder: s.folder,
        source: w.source,
        path: w.path,
        name: s.name,
        active: s.active ? 1 : 0,
        capacity: s.capacity,
        priority: s.priority,
        warm: s.warm ?? 0,
        range_min: s.range[0],
        range_max: s.range[1],
        duration_minutes: Math.round(s.duration * 60),
        spec: JSON.stringify(s),
      };
      const row = byFolder.get(s.folder) as Row | undefined;
      if (!row) {
        const { lastInsertRowid } = insert.run(next);
        audit(db, actor, 'workshop.imported', { type: 'workshop', id: Number(lastInsertRowid) }, { folder: s.folder });
        report.inserted.push(s.folder);
        continue;
      }
      const pinned = JSON.parse(row.pinned) as Pinnable[];
      for (const field of pinned) (next as Record<string, unknown>)[field] = row[field];
      const changed = (Object.keys(next) as (keyof typeof next)[]).filter((k) => next[k] !== row[k]);
      if (!changed.length && row.removed_at === null) {
        report.unchanged.push(s.folder);
        continue;
      }
      update.run({ ...next, id: row.id });
      audit(db, actor, 'workshop.updated', { type: 'workshop', id: row.id }, { folder: s.folder, changed });
      report.updated.push(s.folder);
    }

    // A folder found but not valid keeps what was imported last, and says so.
    const valid = new Set(scan.workshops.map((w) => w.spec.folder));
    for (const folder of scan.seen.filter((f) => !valid.has(f))) {
      const row = byFolder.get(folder) as Row | undefined;
      if (!row || row.removed_at !== null) continue;
      report.problems.push({
        severity: 'warning',
        file: row.path,
        message: `not imported: ${folder} keeps its last good state (imported ${row.updated_at})${row.active ? ', still in the catalog' : ''}`,
        fix: 'correct the errors above and import again',
      });
    }
    const seen = new Set(scan.seen);
    const live = db.prepare('SELECT id, folder FROM workshops WHERE removed_at IS NULL').all() as Pick<Row, 'id' | 'folder'>[];
    for (const row of live.filter((r) => !seen.has(r.folder))) {
      db.prepare(`UPDATE workshops SET active = 0, removed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`).run(row.id);
      audit(db, actor, 'workshop.removed', { type: 'workshop', id: row.id }, { folder: row.folder });
      report.deactivated.push(row.folder);
    }
  }).immediate();
  return report;
}
