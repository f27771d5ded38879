/**
 * Which notebook concludes a workshop, where the lab extension asks for the survey. The workshop's
 * wod.yml may name it with a pattern (`conclusion: "9-Wrap*"`, `*` and `?` as in a shell, case
 * ignored); by default it is the notebook whose name contains "Conclusion". When nothing matches,
 * the last numbered notebook is the conclusion (`3-Labs.ipynb` after `2-…`). Pure.
 */

const DEFAULT_CONCLUSION = '*Conclusion*';

export function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Notebook file names in reading order: numbers compared as numbers (`10-…` after `9-…`). */
function notebookOrder(names: readonly string[]): string[] {
  return names.filter((n) => n.toLowerCase().endsWith('.ipynb')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** The first notebook matching the pattern, else the highest numbered one, else null. */
export function findConclusion(names: readonly string[], pattern: string | null): string | null {
  const notebooks = notebookOrder(names);
  const re = globToRegExp(pattern ?? DEFAULT_CONCLUSION);
  const match = notebooks.find((n) => re.test(n));
  if (match) return match;
  const numbered = notebooks.filter((n) => /^\d+[-_ .]/.test(n));
  return numbered.at(-1) ?? null;
}
