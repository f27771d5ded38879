/**
 * Checks that need more than one file: a workshop's range against the student pool and against the
 * other active workshops, its capacity against its range, its first notebook, its conclusion. Pure.
 */
import { lastNumbered, matchConclusion } from '../content/conclusion.js';
import type { Problem } from './problems.js';
import type { ParsedSpec, WorkshopSpec } from './spec.js';

export interface Candidate extends ParsedSpec {
  spec: WorkshopSpec;
  /** wod.yml, for messages */
  file: string;
}

export function checkAgainstPool(c: Candidate, poolSize: number): Problem[] {
  const problems: Problem[] = [];
  const { spec, file, lines } = c;
  const [first, last] = spec.range;
  if (last > poolSize) {
    problems.push({
      severity: 'error',
      file,
      line: lines.range,
      field: 'range',
      message: `[${first}, ${last}] goes beyond the student pool (student1 to student${poolSize})`,
      fix: `keep the range within 1–${poolSize}, or raise students.count`,
    });
  }
  const size = last - first + 1;
  if (spec.capacity > size) {
    problems.push({
      severity: 'error',
      file,
      line: lines.capacity,
      field: 'capacity',
      message: `capacity ${spec.capacity} is more than the ${size} students of range [${first}, ${last}]`,
      fix: `lower capacity to ${size} or widen the range`,
    });
  }
  return problems;
}

/** Two active workshops must not share a student: each gets an error naming the other. */
export function checkOverlaps(candidates: Candidate[]): Problem[] {
  const active = candidates.filter((c) => c.spec.active).sort((a, b) => a.spec.range[0] - b.spec.range[0]);
  const problems: Problem[] = [];
  for (let i = 0; i < active.length; i++) {
    for (let j = i + 1; j < active.length && active[j].spec.range[0] <= active[i].spec.range[1]; j++) {
      const [a, b] = [active[i], active[j]];
      for (const [self, other] of [
        [a, b],
        [b, a],
      ]) {
        problems.push({
          severity: 'error',
          file: self.file,
          line: self.lines.range,
          field: 'range',
          message: `[${self.spec.range.join(', ')}] overlaps ${other.spec.folder}'s [${other.spec.range.join(', ')}]; both are active`,
          fix: 'give each active workshop its own students, or deactivate one',
        });
      }
    }
  }
  return problems;
}

/**
 * The first notebook must exist and be a notebook. Workshop notebooks are Jinja templates, so a
 * file with template tags may only become JSON once rendered: that is a warning, not an error.
 */
export function checkReadMeFirst(text: string | null, file: string): Problem[] {
  if (text === null) {
    return [{ severity: 'error', file, message: 'is missing', fix: 'add 0-ReadMeFirst.ipynb, the notebook students open first' }];
  }
  try {
    const nb = JSON.parse(text) as { nbformat?: number; cells?: unknown };
    if (nb.nbformat !== 4 || !Array.isArray(nb.cells)) {
      return [{ severity: 'error', file, message: 'is JSON but not a Jupyter notebook (nbformat 4 with cells)', fix: 'save it from JupyterLab' }];
    }
    return [];
  } catch (e) {
    if (/\{[{%]/.test(text)) {
      return [{ severity: 'warning', file, message: 'is not JSON before templating; it is checked again when deployed' }];
    }
    const pos = Number((e as Error).message.match(/position (\d+)/)?.[1] ?? NaN);
    const line = Number.isFinite(pos) ? text.slice(0, pos).split('\n').length : undefined;
    return [{ severity: 'error', file, line, message: `is not valid JSON: ${(e as Error).message}`, fix: 'save it again from JupyterLab' }];
  }
}

/** A `conclusion` pattern that names no notebook is most likely a typo: say which notebook is used instead. */
export function checkConclusion(pattern: string | null, files: string[], file: string, line?: number): Problem[] {
  if (!pattern || matchConclusion(files, pattern)) return [];
  const found = lastNumbered(files);
  return [
    {
      severity: 'warning',
      file,
      line,
      field: 'conclusion',
      message: `"${pattern}" matches no notebook: ${found ? `the survey opens with ${found}, the last numbered one` : 'no notebook asks for the survey'}`,
      fix: 'correct the pattern (* and ? as in a shell), or remove it to use the notebook whose name contains "Conclusion"',
    },
  ];
}
