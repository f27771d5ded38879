/**
 * Completion, pure: executed code cells over code cells across the workshop's notebooks, the rule
 * the service's CLEANUP applies to the saved files (a code cell counts once it has an execution
 * count, whatever the kernel; markdown and raw cells do not count).
 */
import { english, type Trans } from './trans';

export interface CellLike {
  cell_type?: string;
  /** nbformat's field, as in a notebook file */
  execution_count?: number | null;
}

export interface Counts {
  executed: number;
  total: number;
}

export function countCells(cells: Iterable<CellLike>): Counts {
  let executed = 0;
  let total = 0;
  for (const cell of cells) {
    if (cell.cell_type !== 'code') continue;
    total++;
    if (typeof cell.execution_count === 'number') executed++;
  }
  return { executed, total };
}

export function sumCounts(counts: Iterable<Counts>): Counts {
  let executed = 0;
  let total = 0;
  for (const c of counts) {
    executed += c.executed;
    total += c.total;
  }
  return { executed, total };
}

/** Whole percent, rounded down so 100 % means every cell ran; null without code cells. */
export function percent(c: Counts): number | null {
  return c.total ? Math.floor((100 * c.executed) / c.total) : null;
}

/** "7/20 · 35 %" for the top bar. */
export function formatProgress(c: Counts, trans: Trans = english): string {
  const p = percent(c);
  return p === null ? trans.__('no exercises') : `${c.executed}/${c.total} · ${p} %`;
}

/** The notebooks that count: those at the top of the workshop folder, as CLEANUP reads them. */
export function isWorkshopNotebook(path: string, folder: string): boolean {
  const prefix = `${folder}/`;
  if (!path.startsWith(prefix)) return false;
  const name = path.slice(prefix.length);
  return name.endsWith('.ipynb') && !name.includes('/');
}
