/**
 * npm run bench:lab [-- --loads 10]
 *
 * The JupyterLab extension: the size of its built JavaScript (raw and gzipped, what a student's
 * browser downloads), and, in real Chromium against a real wod, how long after navigation JupyterLab
 * is loaded (its splash screen gone) and the top-bar clock and progress show, over --loads page
 * loads of one student's JupyterLab (the first, cold, left out of the figures).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { parseArgs } from 'node:util';
import { credentialsIn, waitForMail } from '../../tests/support/outbox';
import { launchChromium } from '../../tests/support/chromium';
import { ROOT } from '../../tests/support/hub';
import { benchHub, percentile, registrationBody } from './common';

const { values } = parseArgs({ options: { loads: { type: 'string', default: '10' }, help: { type: 'boolean', default: false } } });
if (values.help) {
  console.log('usage: npm run bench:lab -- [--loads N]');
  process.exit(0);
}
const loads = Number(values.loads);

/** A notebook of 20 code cells, so the progress has something to count. */
const NOTEBOOK = JSON.stringify({
  cells: Array.from({ length: 20 }, (_, i) => ({ cell_type: 'code', id: `c${i}`, metadata: {}, source: [`x = ${i}`], execution_count: null, outputs: [] })),
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  nbformat: 4,
  nbformat_minor: 5,
});

function bundleSize(): void {
  const dir = path.join(ROOT, '.venv', 'share', 'jupyter', 'labextensions', '@wod', 'labextension', 'static');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.js'));
  let raw = 0;
  let gzipped = 0;
  for (const f of files) {
    const data = fs.readFileSync(path.join(dir, f));
    raw += data.length;
    gzipped += zlib.gzipSync(data).length;
  }
  console.log(`bundle: ${files.length} JavaScript files, ${(raw / 1024).toFixed(1)} KiB, ${(gzipped / 1024).toFixed(1)} KiB gzipped (${dir})`);
}

/**
 * Records, in the page, when each thing first shows (ms since navigation start). A string, not a
 * function: tsx would wrap a function with helpers the page does not have.
 */
const WATCH = `
  const marks = (window.__wod = {});
  new MutationObserver(() => {
    const t = performance.now();
    const has = (s) => document.querySelector(s) !== null;
    if (!marks.shell && has('#jp-top-panel')) marks.shell = t;
    if (marks.shell && !marks.loaded && !has('#jupyterlab-splash')) marks.loaded = t;
    if (!marks.clock && /\\d:\\d\\d/.test(document.querySelector('#wod-clock')?.textContent ?? '')) marks.clock = t;
    if (!marks.progress && /\\/20/.test(document.querySelector('#wod-progress')?.textContent ?? '')) marks.progress = t;
  }).observe(document, { childList: true, subtree: true, characterData: true });
`;
type Marks = Record<'shell' | 'loaded' | 'clock' | 'progress', number>;

async function main(): Promise<void> {
  bundleSize();
  const { hub, done } = await benchHub(1, {}, NOTEBOOK);
  const browser = await launchChromium();
  try {
    const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: registrationBody(0) });
    if (res.status !== 201) throw new Error(`registration answered ${res.status}`);
    const { startUrl, student } = credentialsIn(await waitForMail(hub.dataDir, (m) => !!m.subject?.includes('is ready'), 120_000));
    const context = await browser.newContext({ viewport: { width: 1366, height: 800 } });
    await context.addInitScript({ content: WATCH });
    const page = await context.newPage();
    await page.goto(startUrl!);
    const rows: Marks[] = [];
    for (let i = 0; i <= loads; i++) {
      if (i > 0) await page.goto(`${hub.url}/user/${student}/lab`);
      await page.waitForFunction('window.__wod.loaded && window.__wod.clock && window.__wod.progress', undefined, { timeout: 120_000 });
      const m = (await page.evaluate('window.__wod')) as Marks;
      if (process.stdout.isTTY) process.stdout.write(`\rbench: page load ${i}/${loads}`);
      if (i > 0) rows.push(m);
    }
    if (process.stdout.isTTY) process.stdout.write('\n');
    const stat = (label: string, pick: (m: Marks) => number) => {
      const v = rows.map(pick).sort((a, b) => a - b);
      console.log(`${label.padEnd(46)} p50 ${percentile(v, 50).toFixed(0).padStart(5)} ms   p95 ${percentile(v, 95).toFixed(0).padStart(5)} ms`);
    };
    console.log(`over ${rows.length} warm page loads (ms since navigation start):`);
    stat("JupyterLab's shell in the page", (m) => m.shell);
    stat('JupyterLab loaded (splash screen gone)', (m) => m.loaded);
    stat('clock shows the time left', (m) => m.clock);
    stat('progress shows its count', (m) => m.progress);
    console.log('relative to JupyterLab loaded (negative: the widgets were there before):');
    stat('clock', (m) => m.clock - m.loaded);
    stat('progress', (m) => m.progress - m.loaded);
  } finally {
    await browser.close();
    await done();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
