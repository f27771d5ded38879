/**
 * Which notebook concludes a workshop, where the lab extension asks for the survey. The workshop's
 * wod.yml may name it with a pattern (`conclusion: "9-Wrap*"`, `*` and `?` as in a shell, case
 * ignored); by default it is the notebook whose name contains "Conclusion". When nothing matches,
 * the last numbered notebook is the conclusion (`3-Labs.ipynb` after `2-…`). Pure.
 */

const DEFAULT_CONCLUSION = '*Conclusion*';

export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Notebook file names in reading order: numbers compared as numbers (`10-…` after `9-…`). */
export function notebookOrder(names: readonly string[]): string[] {
  return names.filter((n) => n.toLowerCase().endsWith('.ipynb')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** The first notebook matching the pattern (`*Conclusion*` when none is set), or null. */
export function matchConclusion(names: readonly string[], pattern: string | null): string | null {
  const re = globToRegExp(pattern ?? DEFAULT_CONCLUSION);
  return notebookOrder(names).find((n) => re.test(n)) ?? null;
}

/** The highest numbered notebook, or null. */
export function lastNumbered(names: readonly string[]): string | null {
  return (
    notebookOrder(names)
      .filter((n) => /^\d+[-_ .]/.test(n))
      .at(-1) ?? null
  );
}

/** The first notebook matching the pattern, else the highest numbered one, else null. */
export function findConclusion(names: readonly string[], pattern: string | null): string | null {
  return matchConclusion(names, pattern) ?? lastNumbered(names);
}
