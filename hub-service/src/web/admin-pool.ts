/**
 * The admin pool page's view model: a summary per workshop range (and the students of none), the
 * stuck students on top, and one page of the student list filtered by workshop and state. Its cost
 * follows the workshops and the page size, not the pool: at 5 000 students it stays a few dozen KiB.
 */
import { listWorkshops } from '../catalog/catalog.js';
import {
  poolSummary,
  type PoolCounts,
  type PoolStudent,
  STUDENT_FILTERS,
  type StudentFilter,
  studentPage,
  stuckStudents,
  type StuckStudent,
  type WorkshopRange,
} from '../pool/pool.js';
import { formatSpans } from '../pool/spans.js';
import type { Db } from '../store/db.js';

/** The page sizes the student list offers, and its default. */
export const POOL_PAGE_SIZES = [50, 100, 200, 500, 1000] as const;
export const DEFAULT_POOL_PAGE_SIZE = 200;
/** Stuck students shown on top; more are reached through the list filtered on `stuck`. */
const STUCK_ON_TOP = 50;

/** The workshops whose ranges share the pool, active ones first (removed ones no longer hold a range). */
export function poolWorkshops(db: Db): WorkshopRange[] {
  return listWorkshops(db, { includeInactive: true })
    .filter((w) => !w.removed)
    .sort((a, b) => Number(b.active) - Number(a.active))
    .map((w) => ({ folder: w.folder, name: w.name, active: w.active, range: w.range }));
}

/** What the page was asked, from its query string; nonsense falls back to the defaults. */
export interface PoolPageQuery {
  workshop?: string;
  state?: StudentFilter;
  page: number;
  size: number;
}

export function parsePoolPageQuery(query: Record<string, unknown>): PoolPageQuery {
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const state = text(query.state);
  const size = Number(query.size);
  return {
    workshop: text(query.workshop),
    state: (STUDENT_FILTERS as readonly string[]).includes(state ?? '') ? (state as StudentFilter) : undefined,
    page: /^\d{1,6}$/.test(String(query.page)) ? Math.max(1, Number(query.page)) : 1,
    size: (POOL_PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_POOL_PAGE_SIZE,
  };
}

export interface PoolGroup extends PoolCounts {
  /** the workshop's folder, or `outside` */
  id: string;
  title: string;
  span: string;
  size: number;
  /** link to the list filtered on this workshop (null: the students of no range) */
  folder: string | null;
}

export interface PoolPage {
  count: number;
  total: PoolCounts;
  groups: PoolGroup[];
  stuck: StuckStudent[];
  /** stuck students beyond those listed on top */
  moreStuck: number;
  folders: string[];
  sizes: readonly number[];
  query: PoolPageQuery;
  /** the list: the selected range, a page of it, how many match, and the query strings of the neighbour pages */
  list: { title: string; span: string; students: PoolStudent[]; total: number; from: number; to: number; pages: number; previous: string | null; next: string | null };
}

/** The page, or null when the workshop asked for does not exist. */
export function poolPage(db: Db, count: number, query: PoolPageQuery): PoolPage | null {
  const workshops = poolWorkshops(db);
  const summary = poolSummary(db, workshops, count);
  const selected = query.workshop === undefined ? null : workshops.find((w) => w.folder === query.workshop);
  if (selected === undefined) return null;
  const [first, last] = selected?.range ?? [1, count];
  const offset = (query.page - 1) * query.size;
  const { items, total } = studentPage(db, { first, last, state: query.state, limit: query.size, offset });
  const pages = Math.max(1, Math.ceil(total / query.size));
  const link = (page: number) => {
    const params = new URLSearchParams();
    if (query.workshop) params.set('workshop', query.workshop);
    if (query.state) params.set('state', query.state);
    if (query.size !== DEFAULT_POOL_PAGE_SIZE) params.set('size', String(query.size));
    params.set('page', String(page));
    return `?${params.toString()}#students`;
  };
  const stuck = stuckStudents(db, { limit: STUCK_ON_TOP });
  return {
    count,
    total: summary.total,
    groups: [
      ...summary.workshops.map((w) => ({
        id: w.folder,
        title: `${w.name}${w.active ? '' : ' (inactive)'}`,
        span: `${w.range[0]}–${w.range[1]}`,
        size: w.range[1] - w.range[0] + 1,
        folder: w.folder,
        free: w.free,
        allocated: w.allocated,
        cleanup: w.cleanup,
        stuck: w.stuck,
      })),
      ...(summary.outside.size ? [{ id: 'outside', title: 'In no workshop range', span: formatSpans(summary.outside.spans), folder: null, ...summary.outside }] : []),
    ],
    stuck,
    moreStuck: Math.max(0, summary.total.stuck - stuck.length),
    folders: workshops.map((w) => w.folder),
    sizes: POOL_PAGE_SIZES,
    query,
    list: {
      title: selected ? `${selected.name}${selected.active ? '' : ' (inactive)'}` : 'The whole pool',
      span: `${first}–${last}`,
      students: items,
      total,
      from: items.length ? offset + 1 : 0,
      to: items.length ? offset + items.length : 0,
      pages,
      previous: query.page > 1 ? link(Math.min(query.page - 1, pages)) : null,
      next: offset + items.length < total ? link(query.page + 1) : null,
    },
  };
}
