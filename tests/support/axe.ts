/**
 * The accessibility check: axe-core (the engine of Lighthouse's and Deque's audits) run inside a
 * real Chromium page. Only serious and critical violations fail a test: the rest is advice.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';

const AXE = path.join(path.dirname(require.resolve('axe-core')), 'axe.min.js');

export interface Violation {
  id: string;
  impact: string;
  help: string;
  /** the first elements that break the rule, as CSS selectors */
  targets: string[];
}

/** The serious and critical violations in the page, or within `include` (selectors) only. */
export async function accessibilityViolations(page: Page, include?: string[]): Promise<Violation[]> {
  // evaluated rather than added as a script tag: the pages' Content-Security-Policy allows no inline script
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(fs.readFileSync(AXE, 'utf8'));
  const found = await page.evaluate(async (within) => {
    const axe = (
      window as unknown as {
        axe: { run: (context: unknown, options: unknown) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> };
      }
    ).axe;
    const result = await axe.run(within ? { include: within.map((s) => [s]) } : document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact ?? 'unknown', help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  }, include ?? null);
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
