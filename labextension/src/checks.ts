/**
 * Exercise checks, pure: a code cell tagged `wod-check` (cell metadata `tags`, JupyterLab's tag
 * editor) is a check; it has passed when its latest execution ended without error (an execution
 * count and no error output). A run clears the outputs and sets the count again, so the latest
 * execution is the one the cell shows. The service applies the same rule to the saved notebooks at
 * CLEANUP (hub-service/src/content/checks.ts, proven to agree in tests/unit/labextension.test.ts).
 */
import type { CellLike } from './progress';
import { english, type Trans } from './trans';

export const CHECK_TAG = 'wod-check';

export interface CheckCellLike extends CellLike {
  metadata?: { tags?: unknown };
  outputs?: readonly { output_type?: string }[];
}

export interface Checks {
  passed: number;
  total: number;
}

export function isCheck(cell: CheckCellLike): boolean {
  const tags = cell.metadata?.tags;
  return cell.cell_type === 'code' && Array.isArray(tags) && tags.includes(CHECK_TAG);
}

export function checkPassed(cell: CheckCellLike): boolean {
  return typeof cell.execution_count === 'number' && !(cell.outputs ?? []).some((o) => o.output_type === 'error');
}

export function countChecks(cells: Iterable<CheckCellLike>): Checks {
  let passed = 0;
  let total = 0;
  for (const cell of cells) {
    if (!isCheck(cell)) continue;
    total++;
    if (checkPassed(cell)) passed++;
  }
  return { passed, total };
}

export function sumChecks(checks: Iterable<Checks>): Checks {
  let passed = 0;
  let total = 0;
  for (const c of checks) {
    passed += c.passed;
    total += c.total;
  }
  return { passed, total };
}

/** "Checks: 2 of 3 passed", what a screen reader hears. */
export function describeChecks(c: Checks, trans: Trans = english): string {
  return trans.__('Checks: %1 of %2 passed', c.passed, c.total);
}
