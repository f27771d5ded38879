/**
 * Checks that need more than one file: a workshop's range against the student pool and against the
 * other active workshops, its capacity against its range, its first notebook, its conclusion. Pure.
 */
import { lastNumbered, matchConclusion } from '../content/conclusion.js';
import type { Problem } from './problems.js';
import type { ParsedSpec, WorkshopSpec } from './spec.js';

export interface Candidate extends ParsedSpec {
  spec: WorkshopSpec;
  /** the wod.yml read last (the overlay's when it has one), for messages */
  file: string;
}

/** Where a field was written, for a problem about it. */
const where = (c: Candidate, field: keyof WorkshopSpec) => ({ file: c.at[field]?.file ?? c.file, line: c.at[field]?.line, field });

export function checkAgainstPool(c: Candidate, poolSize: number): Problem[] {
  const problems: Problem[] = [];
  const { spec } = c;
  const [first, last] = spec.range;
  if (last > poolSize) {
    problems.push({
      severity: 'error',
      ...where(c, 'range'),
      message: `[${first}, ${last}] goes beyond the student pool (student1 to student${poolSize})`,
      fix: `keep the range within 1–${poolSize}, or raise students.count`,
    });
  }
  const size = last - first + 1;
  // Normal in the original's files (API101: 20 seats, 6 students): seats stay derived, never more than the range's free students.
  if (spec.capacity > size) {
    problems.push({
      severity: 'warning',
      ...where(c, 'capacity'),
      message: `capacity ${spec.capacity} is more than the ${size} students of range [${first}, ${last}]: at most ${size} seats at once`,
      fix: `lower capacity to ${size} or widen the range`,
    });
  }
  const seatsAtOnce = Math.min(spec.capacity, size);
  if (spec.warm > seatsAtOnce) {
    problems.push({
      severity: 'warning',
      ...where(c, 'warm'),
      message: `warm ${spec.warm} is more than the ${seatsAtOnce} seats it can have at once: at most ${seatsAtOnce} are kept warm`,
      fix: `lower warm to ${seatsAtOnce}`,
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
          ...where(self, 'range'),
          message: `[${self.spec.range.join(', ')}] overlaps ${other.spec.folder}'s [${other.spec.range.join(', ')}]; both are active`,
          fix: 'give each active workshop its own students, or deactivate one',
        });
      }
    }
  }
  return problems;
}

/** A `conclusion` pattern that names no notebook is most likely a typo: say which notebook is used instead. */
export function checkConclusion(pattern: string | null, files: string[], at: { file: string; line?: number }): Problem[] {
  if (!pattern || matchConclusion(files, pattern)) return [];
  const found = lastNumbered(files);
  return [
    {
      severity: 'warning',
      ...at,
      field: 'conclusion',
      message: `"${pattern}" matches no notebook: ${found ? `the survey opens with ${found}, the last numbered one` : 'no notebook asks for the survey'}`,
      fix: 'correct the pattern (* and ? as in a shell), or remove it to use the notebook whose name contains "Conclusion"',
    },
  ];
}
