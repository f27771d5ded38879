/**
 * How a workshop ships its solutions for `wod workshops test`: `solutions/<notebook>.ipynb` next to
 * the notebook, whose code cells replace the notebook's cells with the same `id`. The folder is
 * never deployed to students (catalog/folders.ts). Pure.
 */
export const SOLUTIONS_DIR = 'solutions';

export interface NotebookCell {
  cell_type: string;
  id?: string;
  source: string | string[];
  metadata?: Record<string, unknown>;
  execution_count?: number | null;
  outputs?: unknown[];
}

export interface Notebook {
  cells: NotebookCell[];
  metadata?: { kernelspec?: { name?: string } } & Record<string, unknown>;
  [key: string]: unknown;
}

export const cellSource = (c: NotebookCell): string => (Array.isArray(c.source) ? c.source.join('') : c.source);

/**
 * The notebook with each solved cell's source replaced; `unknown` lists solution cells whose id the
 * notebook does not have (a renamed cell: the solution would silently not be used).
 */
export function mergeSolutions(notebook: Notebook, solution: Notebook): { notebook: Notebook; replaced: string[]; unknown: string[] } {
  const answers = new Map(solution.cells.filter((c) => c.cell_type === 'code' && c.id).map((c) => [c.id!, c.source]));
  const replaced: string[] = [];
  const cells = notebook.cells.map((c) => {
    const answer = c.id === undefined ? undefined : answers.get(c.id);
    if (answer === undefined || c.cell_type !== 'code') return c;
    replaced.push(c.id!);
    return { ...c, source: answer };
  });
  return { notebook: { ...notebook, cells }, replaced, unknown: [...answers.keys()].filter((id) => !replaced.includes(id)) };
}
