/** Pure arithmetic of student ranges: which numbers of the pool no workshop's range reaches. */

export type Span = [number, number];

/** The spans of 1..count that none of `ranges` covers, in order (ranges may overlap or reach beyond count). */
export function uncoveredSpans(ranges: readonly Span[], count: number): Span[] {
  const sorted = ranges.map(([a, b]): Span => [Math.max(1, a), Math.min(count, b)]).filter(([a, b]) => a <= b);
  sorted.sort((x, y) => x[0] - y[0]);
  const gaps: Span[] = [];
  let next = 1;
  for (const [a, b] of sorted) {
    if (a > next) gaps.push([next, a - 1]);
    next = Math.max(next, b + 1);
  }
  if (next <= count) gaps.push([next, count]);
  return gaps;
}

/** [[1, 3], [7, 7]] → "1–3, 7" */
export function formatSpans(spans: readonly Span[]): string {
  return spans.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', ');
}

/** How many numbers the spans hold. */
export function spanSize(spans: readonly Span[]): number {
  return spans.reduce((n, [a, b]) => n + b - a + 1, 0);
}
