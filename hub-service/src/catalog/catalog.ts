/**
 * The catalog as people and admins see it: workshops with their free seats (derived, never
 * stored), popularity, and the tabs of the portal. Admin edits pin the fields they set.
 */
import { type Actor, audit } from '../audit/audit.js';
import type { Db } from '../store/db.js';
import type { Pinnable, WorkshopRow } from './sync.js';
import type { WorkshopSpec } from './spec.js';
import { HOLDS_SEAT, sqlList } from '../registrations/states.js';

/** The display fields come from wod.yml; active, capacity and priority may have been set by an admin. */
type SpecFields = 'folder' | 'name' | 'description' | 'category' | 'presenter' | 'role' | 'avatar' | 'replayId' | 'replayLink' | 'workshopImg' | 'badgeImg' | 'beta';

export interface CatalogEntry extends Pick<WorkshopSpec, SpecFields> {
  active: boolean;
  capacity: number;
  priority: number;
  /** seats to keep warm (wod.yml warm:, or an admin's) */
  warm: number;
  /** warm seats ready now */
  warmReady: number;
  range: [number, number];
  durationMinutes: number;
  /** seats a registration could take here now: min(capacity − running, free students in range) */
  seats: number;
  running: number;
  /** distinct participants ever */
  participants: number;
  popular: boolean;
  source: 'public' | 'overlay';
  pinned: Pinnable[];
  removed: boolean;
  createdAt: string;
  updatedAt: string;
  spec: WorkshopSpec;
  /** the folder on disk, where its images are looked up (./images.ts) */
  path: string;
}

interface Row extends WorkshopRow {
  running: number;
  warm_ready: number;
  free_students: number;
  participants: number;
}

const RUNNING_SQL = sqlList(HOLDS_SEAT);
const SELECT = `
  SELECT w.*,
    (SELECT COUNT(*) FROM registrations r WHERE r.workshop_id = w.id AND r.state IN (${RUNNING_SQL}) AND r.location IS NULL) AS running,
    (SELECT COUNT(*) FROM students s WHERE s.state = 'free' AND s.id BETWEEN w.range_min AND w.range_max) AS free_students,
    (SELECT COUNT(*) FROM students s WHERE s.state = 'free' AND s.warm_workshop_id = w.id) AS warm_ready,
    (SELECT COUNT(DISTINCT r.participant_id) FROM registrations r WHERE r.workshop_id = w.id) AS participants
  FROM workshops w`;

/** How many of the most-attended workshops carry the "popular" mark. */
const POPULAR_COUNT = 3;

function toEntry(r: Row, popular: Set<string>): CatalogEntry {
  const spec = JSON.parse(r.spec) as WorkshopSpec;
  return {
    folder: r.folder,
    name: r.name,
    description: spec.description,
    active: !!r.active && !r.removed_at,
    capacity: r.capacity,
    priority: r.priority,
    warm: r.warm,
    warmReady: r.warm_ready,
    range: [r.range_min, r.range_max],
    durationMinutes: r.duration_minutes,
    category: spec.category,
    presenter: spec.presenter,
    role: spec.role,
    avatar: spec.avatar,
    replayId: spec.replayId,
    replayLink: spec.replayLink,
    workshopImg: spec.workshopImg,
    badgeImg: spec.badgeImg,
    beta: spec.beta,
    seats: Math.max(0, Math.min(r.capacity - r.running, r.free_students)),
    running: r.running,
    participants: r.participants,
    popular: popular.has(r.folder),
    source: r.source,
    pinned: JSON.parse(r.pinned) as Pinnable[],
    removed: !!r.removed_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    spec,
    path: r.path,
  };
}

function popularSet(rows: Row[]): Set<string> {
  return new Set(
    rows
      .filter((r) => r.participants > 0 && r.active && !r.removed_at)
      .sort((a, b) => b.participants - a.participants)
      .slice(0, POPULAR_COUNT)
      .map((r) => r.folder),
  );
}

/** Workshops by priority (then name); the public catalog shows only active ones. */
export function listWorkshops(db: Db, opts: { includeInactive?: boolean } = {}): CatalogEntry[] {
  const rows = db.prepare(`${SELECT} ORDER BY w.priority, w.name`).all() as Row[];
  const popular = popularSet(rows);
  return rows.map((r) => toEntry(r, popular)).filter((e) => opts.includeInactive || e.active);
}

export function getWorkshop(db: Db, folder: string): CatalogEntry | null {
  return listWorkshops(db, { includeInactive: true }).find((e) => e.folder === folder) ?? null;
}

/** Where a workshop's folder is on disk (its pictures are served from it); null when there is no such workshop or it was removed. */
export function workshopPath(db: Db, folder: string): string | null {
  const row = db.prepare('SELECT path FROM workshops WHERE folder = ? AND removed_at IS NULL').get(folder) as { path: string } | undefined;
  return row?.path ?? null;
}

export interface Tab {
  id: string;
  label: string;
  entries: CatalogEntry[];
}

/** All, Latest (newest first), Popular (most participants), then one tab per category. */
export function catalogTabs(entries: CatalogEntry[]): Tab[] {
  const categories = new Map<string, string>();
  for (const e of entries) for (const c of e.category) if (!categories.has(c.toLowerCase())) categories.set(c.toLowerCase(), c);
  const slug = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
  return [
    { id: 'all', label: 'All', entries },
    { id: 'latest', label: 'Latest', entries: [...entries].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, 10) },
    {
      id: 'popular',
      label: 'Popular',
      entries: entries
        .filter((e) => e.participants > 0)
        .sort((a, b) => b.participants - a.participants)
        .slice(0, 10),
    },
    ...[...categories]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, label]) => ({
        id: `category-${slug(key)}`,
        label,
        entries: entries.filter((e) => e.category.some((c) => c.toLowerCase() === key)),
      })),
  ];
}

export class WorkshopUpdateError extends Error {
  constructor(
    readonly field: 'capacity' | 'warm',
    message: string,
  ) {
    super(message);
  }
}

/** An admin's change to active, capacity, priority or warm; the fields set are pinned against imports. */
export function updateWorkshop(db: Db, folder: string, patch: Partial<Record<Pinnable, number | boolean>>, actor: Actor): CatalogEntry | null {
  return db
    .transaction(() => {
      const current = getWorkshop(db, folder);
      if (!current) return null;
      const size = current.range[1] - current.range[0] + 1;
      if (typeof patch.capacity === 'number' && patch.capacity > size) {
        throw new WorkshopUpdateError('capacity', `capacity ${patch.capacity} is more than the ${size} students of range [${current.range.join(', ')}]`);
      }
      if (typeof patch.warm === 'number' && patch.warm > size) {
        throw new WorkshopUpdateError('warm', `warm ${patch.warm} is more than the ${size} students of range [${current.range.join(', ')}]`);
      }
      const fields = Object.keys(patch) as Pinnable[];
      if (!fields.length) return current;
      const pinned = [...new Set([...current.pinned, ...fields])];
      const sets = fields.map((f) => `${f} = @${f}`).join(', ');
      const values = Object.fromEntries(fields.map((f) => [f, typeof patch[f] === 'boolean' ? (patch[f] ? 1 : 0) : patch[f]]));
      db.prepare(`UPDATE workshops SET ${sets}, pinned = @pinned, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE folder = @folder`).run({
        ...values,
        pinned: JSON.stringify(pinned),
        folder,
      });
      audit(db, actor, 'workshop.edited', { type: 'workshop', id: folder }, patch);
      return getWorkshop(db, folder);
    })
    .immediate();
}
