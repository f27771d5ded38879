/** `wod workshops new`: the range it picks, the wod.yml it writes, a folder that lints clean; the solutions `workshops test` merges. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { contentFiles } from '../../hub-service/src/catalog/folders';
import { lintWorkshops } from '../../hub-service/src/catalog/importer';
import { parseWorkshopSpec } from '../../hub-service/src/catalog/spec';
import { loadConfig } from '../../hub-service/src/config/load';
import { progressBar, formatResult } from '../../hub-service/src/authoring/report';
import { chooseRange, createWorkshop, EXERCISE_CELL, LAB_NOTEBOOK, renderWodYml, ScaffoldError } from '../../hub-service/src/authoring/scaffold';
import { mergeSolutions, type Notebook, SOLUTIONS_DIR } from '../../hub-service/src/authoring/solutions';
import { tempWorkshops, writeWorkshop } from '../support/workshops';
import { ROOT } from '../support/hub';

const TEMPLATE = path.join(ROOT, 'workshops', 'WKSHP-Template');

describe('chooseRange', () => {
  test('takes the lowest block no range touches', () => {
    expect(chooseRange([], 100)).toEqual([1, 10]);
    expect(
      chooseRange(
        [
          [1, 40],
          [41, 80],
        ],
        100,
      ),
    ).toEqual([81, 90]);
    expect(chooseRange([[5, 8]], 100)).toEqual([9, 18]);
    expect(
      chooseRange(
        [
          [41, 80],
          [1, 30],
        ],
        100,
      ),
    ).toEqual([31, 40]);
    expect(
      chooseRange(
        [
          [1, 30],
          [35, 50],
        ],
        100,
      ),
    ).toEqual([51, 60]);
    expect(chooseRange([[20, 30]], 100)).toEqual([1, 10]);
  });
  test('is null when the pool has no room', () => {
    expect(chooseRange([[1, 95]], 100)).toBeNull();
    expect(chooseRange([[1, 90]], 100)).toEqual([91, 100]);
  });
});

test('renderWodYml gives a spec the catalog reads, with its range and no unknown field', () => {
  const text = renderWodYml({ folder: 'WKSHP-Demo', title: 'Demo: it\'s "quoted"', kernel: 'bash', range: [81, 90] });
  const parsed = parseWorkshopSpec({ text, file: 'wod.yml' }, 'WKSHP-Demo');
  expect(parsed.problems).toEqual([]);
  expect(parsed.spec).toMatchObject({ name: 'Demo: it\'s "quoted"', range: [81, 90], capacity: 5, active: false, duration: 2 });
});

describe('createWorkshop', () => {
  const config = loadConfig({ env: { WOD_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'wod-authoring-data-')) }, projectRoot: ROOT });

  test.each(['python3', 'bash'])('a %s workshop next to others lints clean, on a range of its own', (kernel) => {
    const root = tempWorkshops();
    writeWorkshop(root, 'WKSHP-One', { range: [1, 40] });
    writeWorkshop(root, 'WKSHP-Two', { range: [41, 80], active: false });
    const { dir, workshop } = createWorkshop({ name: 'Demo101', kernel, roots: { dir: root }, poolSize: 100, template: TEMPLATE });
    expect(workshop).toMatchObject({ folder: 'WKSHP-Demo101', range: [81, 90], kernel });
    expect(fs.readdirSync(dir).sort()).toEqual(
      ['0-ReadMeFirst.ipynb', '1-FirstSteps.ipynb', '2-Lab.ipynb', '3-Conclusion.ipynb', 'LICENCE.md', 'README.md', 'badge.svg', 'presenter.svg', 'solutions', 'wod.yml'].sort(),
    );
    const nb = JSON.parse(fs.readFileSync(path.join(dir, LAB_NOTEBOOK), 'utf8')) as Notebook;
    expect(nb.metadata?.kernelspec?.name).toBe(kernel);
    const scan = lintWorkshops({ ...config, workshops: { ...config.workshops, dir: root, overlayDir: undefined } });
    expect(scan.problems.filter((p) => p.file.startsWith(dir))).toEqual([]);
    expect(scan.workshops.map((w) => w.spec.folder)).toContain('WKSHP-Demo101');
    // the solution solves the lab's exercise cell, and is never deployed to students
    const solution = JSON.parse(fs.readFileSync(path.join(dir, SOLUTIONS_DIR, LAB_NOTEBOOK), 'utf8')) as Notebook;
    expect(mergeSolutions(nb, solution)).toMatchObject({ replaced: [EXERCISE_CELL], unknown: [] });
    expect(contentFiles({ content: dir, source: 'public' }).files.map((f) => f.rel)).not.toContainEqual(expect.stringMatching(/^solutions/));
  });

  test('refuses a bad name, an existing folder, an unknown kernel and a full pool, writing nothing', () => {
    const root = tempWorkshops();
    writeWorkshop(root, 'WKSHP-Taken', { range: [1, 95] });
    const make =
      (name: string, kernel = 'python3', poolSize = 200) =>
      () =>
        createWorkshop({ name, kernel, roots: { dir: root }, poolSize });
    expect(make('../evil')).toThrow(ScaffoldError);
    expect(make('-x')).toThrow(/is not a workshop name/);
    expect(make('Taken')).toThrow(/exists already/);
    expect(make('Ruby', 'ruby')).toThrow(/not a kernel/);
    expect(make('Full', 'python3', 100)).toThrow(/raise students.count/);
    expect(fs.readdirSync(root)).toEqual(['WKSHP-Taken']);
  });
});

describe('mergeSolutions', () => {
  const nb: Notebook = {
    cells: [
      { cell_type: 'markdown', id: 'm', source: 'text' },
      { cell_type: 'code', id: 'ex', source: ['answer = None'] },
      { cell_type: 'code', id: 'check', source: 'assert answer == 3' },
    ],
  };
  test('replaces the cells of the same id, and only those', () => {
    const r = mergeSolutions(nb, { cells: [{ cell_type: 'code', id: 'ex', source: ['answer = 3'] }] });
    expect(r.notebook.cells.map((c) => c.source)).toEqual(['text', ['answer = 3'], 'assert answer == 3']);
    expect(r).toMatchObject({ replaced: ['ex'], unknown: [] });
    expect(nb.cells[1].source).toEqual(['answer = None']);
  });
  test('names a solution whose cell the notebook lacks, and never replaces a markdown cell', () => {
    const r = mergeSolutions(nb, {
      cells: [
        { cell_type: 'code', id: 'gone', source: 'x' },
        { cell_type: 'code', id: 'm', source: 'y' },
      ],
    });
    expect(r.notebook.cells).toEqual(nb.cells);
    expect(r.unknown).toEqual(['gone', 'm']);
  });
});

test('the report names the failing notebook, cell and error', () => {
  expect(progressBar('WKSHP-X', 3, 6, '1-A.ipynb')).toBe(`WKSHP-X [${'#'.repeat(15)}${'.'.repeat(15)}] 3/6 cells  1-A.ipynb`);
  const text = formatResult({
    folder: 'WKSHP-X',
    student: 'student3',
    notebooks: [
      { file: '1-A.ipynb', cells: 2, failure: null },
      {
        file: '2-B.ipynb',
        cells: 4,
        failure: { notebook: '2-B.ipynb', cell: 5, source: 'x = 1\nraise ValueError("no")\nmore\nhidden', ename: 'ValueError', evalue: 'no', output: 'printed before' },
      },
    ],
    problem: null,
    survey: true,
    completion: 0.5,
    seconds: 12.34,
  });
  expect(text).toContain('FAIL WKSHP-X (student3) in 12.3 s');
  expect(text).toContain('ok   1-A.ipynb (2 code cells)');
  expect(text).toContain('FAIL 2-B.ipynb cell 5: ValueError: no');
  expect(text).toContain('| raise ValueError("no")');
  expect(text).not.toContain('hidden');
  expect(text).toContain('> printed before');
  expect(text).toContain('completion at CLEANUP: 50%');
});
