/**
 * Exercise checks: the rule (a code cell tagged wod-check passed when its latest run ended without
 * error), the lab's and CLEANUP's readings of it agreeing, the report's schema, and where the
 * service keeps the figures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { workshopFiles, LAB_NOTEBOOK } from '../../hub-service/src/authoring/scaffold';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { checks, notebookChecks } from '../../hub-service/src/content/checks';
import { syncPool } from '../../hub-service/src/pool/pool';
import { saveProgress } from '../../hub-service/src/registrations/queries';
import { participantRegistrations } from '../../hub-service/src/registrations/registrations';
import { roomRows } from '../../hub-service/src/stats/room';
import { openDatabase } from '../../hub-service/src/store/db';
import { progressInput } from '../../hub-service/src/web/me';
import { adminRegistration } from '../../hub-service/src/web/views';
import { CHECK_TAG, countChecks, describeChecks, sumChecks } from '../../labextension/src/checks';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const check = (cell: object) => ({ cell_type: 'code', metadata: { tags: [CHECK_TAG] }, source: [], execution_count: null, outputs: [], ...cell });
const passed = check({ execution_count: 3, outputs: [{ output_type: 'stream', name: 'stdout', text: ['✅ Well done!\n'] }] });
const failed = check({ execution_count: 4, outputs: [{ output_type: 'error', ename: 'AssertionError', evalue: 'Not yet', traceback: [] }] });
const notRun = check({});
const untagged = { cell_type: 'code', metadata: { tags: ['other'] }, source: [], execution_count: 1, outputs: [] };
const taggedMarkdown = { cell_type: 'markdown', metadata: { tags: [CHECK_TAG] }, source: [] };
const notebook = (cells: object[]) => JSON.stringify({ cells, metadata: {}, nbformat: 4, nbformat_minor: 5 });

describe('the rule', () => {
  test('a tagged code cell passes once run without an error output; failed and not run do not', () => {
    expect(countChecks([passed])).toEqual({ passed: 1, total: 1 });
    expect(countChecks([failed])).toEqual({ passed: 0, total: 1 });
    expect(countChecks([notRun])).toEqual({ passed: 0, total: 1 });
    expect(countChecks([untagged, taggedMarkdown, { cell_type: 'code' }])).toEqual({ passed: 0, total: 0 });
  });

  test('the lab and CLEANUP read a notebook alike', () => {
    for (const cells of [[passed, failed, notRun, untagged, taggedMarkdown], [], [passed, passed]]) {
      expect(countChecks(cells)).toEqual(notebookChecks(notebook(cells)));
    }
  });

  test('CLEANUP sums the saved notebooks; a broken one counts as no check', () => {
    expect(checks([notebook([passed, failed]), notebook([notRun, passed]), '{broken'])).toEqual({ passed: 2, total: 4 });
    expect(checks([])).toEqual({ passed: 0, total: 0 });
    expect(
      sumChecks([
        { passed: 1, total: 2 },
        { passed: 2, total: 2 },
      ]),
    ).toEqual({ passed: 3, total: 4 });
  });

  test('says it for a screen reader', () => {
    expect(describeChecks({ passed: 2, total: 3 })).toBe('Checks: 2 of 3 passed');
  });

  test('`wod workshops new` tags the lab check, and only it', () => {
    const files = workshopFiles({ folder: 'WKSHP-New', title: 'New', kernel: 'python3', range: [1, 10] });
    const lab = JSON.parse(files[LAB_NOTEBOOK]) as { cells: { id: string; metadata: { tags?: string[] } }[] };
    expect(lab.cells.filter((c) => c.metadata.tags?.includes(CHECK_TAG)).map((c) => c.id)).toEqual(['lab-check']);
    expect(notebookChecks(files[LAB_NOTEBOOK])).toEqual({ passed: 0, total: 1 });
  });
});

describe('PUT /me/progress body', () => {
  test('takes the checks, and an old client without them', () => {
    expect(progressInput.parse({ executed: 2, total: 5, checks: { passed: 1, total: 2 } })).toEqual({ executed: 2, total: 5, checks: { passed: 1, total: 2 } });
    expect(progressInput.parse({ executed: 2, total: 5 })).toEqual({ executed: 2, total: 5 });
  });

  test.each([
    ['more passed than there are', { passed: 3, total: 2 }],
    ['a negative count', { passed: -1, total: 2 }],
    ['a fraction', { passed: 0.5, total: 2 }],
    ['an unknown field', { passed: 1, total: 2, failed: 1 }],
    ['a missing total', { passed: 1 }],
  ])('refuses %s', (_, bad) => {
    expect(progressInput.safeParse({ executed: 1, total: 1, checks: bad }).success).toBe(false);
  });
});

describe('stored on the registration', () => {
  let root: string;
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test('a report sets them, a report without them keeps them; the admin view and the room show them', () => {
    root = tempWorkshops();
    writeWorkshop(root, 'WKSHP-A', { name: 'Alpha', range: [1, 5], priority: 1 });
    const db = openDatabase(path.join(root, 'wod.sqlite'));
    try {
      syncPool(db, 5);
      importWorkshops(db, scanWorkshops({ dir: root }, 5), 'test');
      const participant = db.prepare(`INSERT INTO participants (email, name, company) VALUES ('a@example.com', 'Ann', 'ACME')`).run().lastInsertRowid;
      const id = Number(
        db
          .prepare(
            `INSERT INTO registrations (participant_id, workshop_id, student_id, state) VALUES (?, (SELECT id FROM workshops), (SELECT id FROM students WHERE name = 'student1'), 'ready')`,
          )
          .run(participant).lastInsertRowid,
      );
      const view = () => participantRegistrations(db, Number(participant))[0];
      expect(view().checks).toBeNull();
      saveProgress(db, id, { executed: 3, total: 5, checks: { passed: 1, total: 2 } });
      saveProgress(db, id, { executed: 4, total: 5 });
      expect(view().checks).toEqual({ passed: 1, total: 2 });
      expect(adminRegistration(view()).checks).toEqual({ passed: 1, total: 2 });
      expect(roomRows(db, 'WKSHP-A')!.rows[0].checks).toEqual({ passed: 1, total: 2 });
    } finally {
      db.close();
    }
  });
});
