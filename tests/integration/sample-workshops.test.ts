/**
 * The sample workshops are valid, render for a student, and their notebooks run from top to bottom
 * in their real kernels (python3, bash) without an error, exercises unanswered.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { deployWorkshop } from '../../hub-service/src/content/deploy';
import { ROOT } from '../support/hub';

const dir = path.join(ROOT, 'workshops');
const vars = {
  STDID: 7,
  STUDENT: 'student7',
  MODEWS: 'WKSHP',
  BRANDING: 'wod',
  BRANDINGWOD: 'wod',
  BRANDINGLOGO: '',
  BRANDINGURL: 'http://x',
  HUB_URL: 'http://x',
  PORTAL_URL: 'http://x/services/wod/',
  JPHUB: 'http://x',
  SURVEYURL: '',
};

test('the sample workshops pass the checks', () => {
  const scan = scanWorkshops({ dir }, 100);
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
    const target = deployWorkshop({ sources: [path.join(dir, folder)], home, folder, vars: { ...vars, WORKSHOP: folder, DATASET_URL: 'x' } });
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
