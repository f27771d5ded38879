/**
 * The sample workshops are valid, render for a student, and their notebooks run from top to bottom
 * in their real kernels (python3, bash) without an error, exercises unanswered.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { workshopFolders } from '../../hub-service/src/catalog/folders';
import { lintWorkshops } from '../../hub-service/src/catalog/importer';
import { loadConfig } from '../../hub-service/src/config/load';
import { deployWorkshop } from '../../hub-service/src/content/deploy';
import { backendVariables, resolveVariables } from '../../hub-service/src/content/site-variables';
import { ROOT } from '../support/hub';

const dir = path.join(ROOT, 'workshops');
const config = loadConfig({ env: { WOD_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'wod-sample-data-')) }, projectRoot: ROOT });

test('the sample workshops lint clean: every template renders, every notebook is valid', () => {
  const scan = lintWorkshops(config);
  expect(scan.problems).toEqual([]);
  expect(scan.workshops.map((w) => [w.spec.folder, w.spec.active])).toEqual([
    ['WKSHP-Bash101', true],
    ['WKSHP-Python101', true],
    ['WKSHP-Template', false],
  ]);
});

test.each(['WKSHP-Python101', 'WKSHP-Bash101', 'WKSHP-Template'])('%s renders and every notebook runs', (folder) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-sample-'));
  try {
    const vars = resolveVariables({
      backend: backendVariables(config),
      files: workshopFolders(config.workshops, folder)!.vars,
      student: { STDID: 7, STUDENT: 'student7', WORKSHOP: folder, CHALLENGE: folder, MODEWS: 'WKSHP' },
    });
    const target = deployWorkshop({ folders: { content: path.join(dir, folder), source: 'public' }, home, folder, vars });
    const notebooks = fs
      .readdirSync(target)
      .filter((f) => f.endsWith('.ipynb'))
      .sort();
    expect(notebooks.length).toBeGreaterThanOrEqual(3);
    expect(fs.readFileSync(path.join(target, notebooks[0]), 'utf8')).toContain('student7');
    for (const nb of notebooks) {
      const run = spawnSync(path.join(ROOT, '.venv', 'bin', 'jupyter'), ['nbconvert', '--to', 'notebook', '--execute', '--stdout', nb], {
        cwd: target,
        env: { ...process.env, HOME: home, PATH: `${path.join(ROOT, '.venv', 'bin')}:${process.env.PATH}` },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect([nb, run.status, run.status === 0 ? '' : run.stderr.slice(-1500)]).toEqual([nb, 0, '']);
      const outputs = JSON.stringify(JSON.parse(run.stdout).cells.map((c: { outputs?: unknown }) => c.outputs ?? []));
      expect(outputs).not.toMatch(/"output_type":"error"/);
    }
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
