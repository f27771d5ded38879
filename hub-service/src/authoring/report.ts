/** What `wod workshops test` prints: a progress bar on a terminal, plain lines otherwise, and the verdict per workshop. Pure but for the Progress writers. */
import type { Progress, WorkshopResult } from './workshop-test.js';
import { passed } from './workshop-test.js';

const BAR = 30;

export function progressBar(folder: string, done: number, total: number, label: string): string {
  const filled = total ? Math.round((done / total) * BAR) : 0;
  return `${folder} [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${done}/${total} cells  ${label}`;
}

/** On a terminal one line redrawn in place; elsewhere (CI logs) a line per step and per notebook. */
export function progressWriter(folder: string, out: NodeJS.WriteStream): Progress & { end(): void } {
  let total = 0;
  let last = '';
  const tty = out.isTTY;
  const started = Date.now();
  // in a CI log, when each step began: where a slow workshop spends its time
  const line = (text: string) => out.write(`${folder} +${((Date.now() - started) / 1000).toFixed(1)} s: ${text}\n`);
  return {
    total: (n) => (total = n),
    step: (what) => (tty ? out.write(`\r\x1b[K${folder}: ${what}…`) : line(what)),
    cell: (notebook, done) => {
      if (tty) return void out.write(`\r\x1b[K${progressBar(folder, done, total, notebook)}`);
      if (notebook !== last) line(`running ${notebook}`);
      last = notebook;
    },
    end: () => void (tty && out.write('\r\x1b[K')),
  };
}

const indent = (text: string, mark: string) =>
  text
    .split('\n')
    .map((l) => `      ${mark} ${l}`)
    .join('\n');
const firstLines = (source: string, n = 3) => source.split('\n').slice(0, n).join('\n');

export function formatResult(r: WorkshopResult): string {
  const out = [`${passed(r) ? 'PASS' : 'FAIL'} ${r.folder}${r.student ? ` (${r.student})` : ''} in ${r.seconds.toFixed(1)} s`];
  for (const n of r.notebooks) {
    if (!n.failure) out.push(`  ok   ${n.file} (${n.cells} code cells)`);
    else {
      out.push(`  FAIL ${n.file} cell ${n.failure.cell}: ${n.failure.ename}: ${n.failure.evalue}`, indent(firstLines(n.failure.source), '|'));
      if (n.failure.output) out.push(indent(n.failure.output, '>'));
    }
  }
  if (r.problem) out.push(`  FAIL ${r.problem}`);
  out.push(`  survey: ${r.survey ? 'answered' : 'not answered'}`);
  out.push(`  completion at CLEANUP: ${r.completion === null ? 'none' : `${Math.round(r.completion * 100)}%`}`);
  return out.join('\n');
}
