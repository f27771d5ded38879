/**
 * Exercise checks passed in the saved notebooks, at CLEANUP: a code cell tagged `wod-check` is a
 * check, passed when it has an execution count and no error output. The lab extension counts them
 * live by the same rule (labextension/src/checks.ts; tests/unit/labextension.test.ts proves the two
 * agree). Pure.
 */
export const CHECK_TAG = 'wod-check';

export interface ChecksCount {
  passed: number;
  total: number;
}

interface Cell {
  cell_type?: string;
  execution_count?: number | null;
  metadata?: { tags?: unknown };
  outputs?: { output_type?: string }[];
}

const isCheck = (c: Cell) => c.cell_type === 'code' && Array.isArray(c.metadata?.tags) && c.metadata.tags.includes(CHECK_TAG);
const passed = (c: Cell) => typeof c.execution_count === 'number' && !(c.outputs ?? []).some((o) => o.output_type === 'error');

export function notebookChecks(json: string): ChecksCount {
  const checks = ((JSON.parse(json) as { cells?: Cell[] }).cells ?? []).filter(isCheck);
  return { passed: checks.filter(passed).length, total: checks.length };
}

/** Across the notebooks; a notebook the student broke counts as no check, as completion() does. */
export function checks(notebooks: string[]): ChecksCount {
  const sum: ChecksCount = { passed: 0, total: 0 };
  for (const json of notebooks) {
    try {
      const c = notebookChecks(json);
      sum.passed += c.passed;
      sum.total += c.total;
    } catch {
      // unreadable: nothing to count
    }
  }
  return sum;
}
