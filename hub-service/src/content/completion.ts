/**
 * How far a student got: code cells that have an execution count over all code cells, across the
 * workshop's notebooks. Cells are counted in the notebook JSON (the original counted text lines and
 * counted executed cells with a result twice). Pure.
 */
export interface Completion {
  executed: number;
  total: number;
  /** 0..1, or null when there is no code cell at all */
  ratio: number | null;
}

interface Cell {
  cell_type?: string;
  execution_count?: number | null;
}

export function notebookCounts(json: string): { executed: number; total: number } {
  const nb = JSON.parse(json) as { cells?: Cell[] };
  const code = (nb.cells ?? []).filter((c) => c.cell_type === 'code');
  return { executed: code.filter((c) => typeof c.execution_count === 'number').length, total: code.length };
}

export function completion(notebooks: string[]): Completion {
  let executed = 0;
  let total = 0;
  for (const json of notebooks) {
    try {
      const c = notebookCounts(json);
      executed += c.executed;
      total += c.total;
    } catch {
      // A notebook the student broke counts as nothing done, not as a failed cleanup.
    }
  }
  return { executed, total, ratio: total ? executed / total : null };
}
