import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { catalogTabs, getWorkshop, listWorkshops, updateWorkshop, WorkshopUpdateError } from '../../hub-service/src/catalog/catalog';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { formatProblem } from '../../hub-service/src/catalog/problems';
import { parseRange, parseWorkshopSpec } from '../../hub-service/src/catalog/spec';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { syncPool } from '../../hub-service/src/pool/pool';
import { openDatabase } from '../../hub-service/src/store/db';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

describe('wod.yml', () => {
  const parse = (text: string) => parseWorkshopSpec({ text, file: 'WKSHP-X/wod.yml' }, 'WKSHP-X');

  test('the original fields are read and normalised', () => {
    const { spec, problems } = parse(`
name: API 101 - API basics
description: What APIs are.
active: true
capacity: 20
priority: 1
range: [1, 20]
reset: false
ldap: false
varpass: 'yes'
compile: false
location: backend.example.org
alternateLocation: [b2.example.org]
replayId: 9
replayLink: https://youtu.be/x
workshopImg: '???'
badgeImg: WOD-Badge-API101.jpg
beta: false
category: ['Open Source']
duration: 2
presenter: Ada
role: Engineer
avatar: /img/ada.png
monoappliance: true
multiAppliance: false
`);
    expect(problems).toEqual([]);
    expect(spec).toMatchObject({
      folder: 'WKSHP-X',
      name: 'API 101 - API basics',
      active: true,
      capacity: 20,
      range: [1, 20],
      varpass: true,
      compile: [],
      alternateLocation: ['b2.example.org'],
      workshopImg: null,
      category: ['Open Source'],
      duration: 2,
      monoAppliance: true,
      multiAppliance: false,
      replayId: 9,
    });
  });

  test("the original's range forms are all understood", () => {
    expect(parseRange([151, 170])).toEqual([151, 170]);
    expect(parseRange(['1981-1985'])).toEqual([1981, 1985]); // YAML reads [1981-1985] as one string
    expect(parseRange('5-9')).toEqual([5, 9]);
    expect(parseRange('5, 9')).toEqual([5, 9]);
    expect(parse('name: a\ndescription: b\ncapacity: 1\nrange: [1981-1985]\n').spec?.range).toEqual([1981, 1985]);
    expect(() => parseRange([9, 5])).toThrow(/empty/);
    expect(() => parseRange('lots')).toThrow(/not a range/);
  });

  test('missing and invalid fields are errors naming the line and the fix; unknown ones are warnings', () => {
    const { spec, problems } = parse('name: A\ncapacity: many\nactive: perhaps\nrange: [1, x]\nsurprise: 1\n');
    expect(spec).toBeNull();
    const text = problems.map(formatProblem);
    expect(text).toEqual(
      expect.arrayContaining([
        "WKSHP-X/wod.yml:2: error: capacity: 'many' is not a whole number of 0 or more",
        "WKSHP-X/wod.yml:3: error: active: 'perhaps' is not true or false (fix: write true or false)",
        expect.stringMatching(/^WKSHP-X\/wod\.yml:4: error: range: .* is not a range of student numbers \(fix: write it as \[first, last\]/),
        expect.stringMatching(/^WKSHP-X\/wod\.yml:5: warning: surprise: unknown field, ignored/),
        'WKSHP-X/wod.yml: error: description: is missing (fix: add description: …)',
      ]),
    );
  });

  test('malformed YAML is an error with its line', () => {
    const { spec, problems } = parse('name: A\nrange: [1, 2\ncapacity: 1\n');
    expect(spec).toBeNull();
    expect(problems[0]).toMatchObject({ severity: 'error', line: expect.any(Number), message: expect.stringMatching(/^YAML:/) });
    expect(parse('- just\n- a list\n').problems[0].message).toMatch(/mapping/);
  });

  test('every text field is bounded and clean; the problem names the field, the limit or the character', () => {
    const yml = (fields: Record<string, unknown>) => YAML.stringify({ name: 'A', description: 'B', capacity: 1, range: [1, 2], ...fields });
    const { spec, problems } = parse(
      yml({
        name: 'N'.repeat(121),
        description: 'Two lines\nare fine; \u202Eis not',
        presenter: 'Ada\r\nBcc: x@example.com',
        role: 'Engineer\u0007',
        category: Array.from({ length: 21 }, (_, i) => `c${i}`),
        alternateLocation: ['ok', 'h'.repeat(256)],
        replayLink: `https://example.com/${'x'.repeat(2048)}`,
        priority: 1e300,
      }),
    );
    expect(spec).toBeNull();
    expect(problems.map(formatProblem)).toEqual(
      expect.arrayContaining([
        'WKSHP-X/wod.yml:1: error: name: is too long (121 characters, 120 at most) (fix: shorten it to 120 characters or fewer)',
        expect.stringMatching(/^WKSHP-X\/wod\.yml:\d+: error: description: must not contain text-direction controls \(U\+202E found\)/),
        expect.stringMatching(/^WKSHP-X\/wod\.yml:\d+: error: presenter: must be on one line \(it contains a line break, U\+000D\)/),
        expect.stringMatching(/^WKSHP-X\/wod\.yml:\d+: error: role: must not contain control characters \(U\+0007 found\)/),
        expect.stringMatching(/^WKSHP-X\/wod\.yml:\d+: error: category: has 21 items \(20 at most\)/),
        expect.stringMatching(/^WKSHP-X\/wod\.yml:\d+: error: alternateLocation: item 2: is too long \(256 characters, 255 at most\)/),
        expect.stringMatching(/^WKSHP-X\/wod\.yml:\d+: error: replayLink: is too long \(2068 characters, 2048 at most\)/),
        expect.stringMatching(/^WKSHP-X\/wod\.yml:\d+: error: priority: .* is too large/),
      ]),
    );
    expect(problems).toHaveLength(8);

    // NFC and trimmed; a multi-line description keeps its lines; invisible-only is empty
    const clean = parse(yml({ name: ' Cafe\u0301 101 ', description: 'One\nTwo', presenter: '\u200B\u2060', category: ['\uFEFF', 'Data'] }));
    expect(clean.problems).toEqual([]);
    expect(clean.spec).toMatchObject({ name: 'Café 101', description: 'One\nTwo', presenter: null, category: ['Data'] });
    expect(parse(yml({ name: '\u200B\u200D\u3164' })).problems.map(formatProblem)).toEqual(['WKSHP-X/wod.yml:1: error: name: is empty (fix: add name: …)']);
  });

  test('a problem prints as one line, whatever the file held', () => {
    const { problems } = parse('name: A\ndescription: B\ncapacity: 1\nrange: [1, 2]\n"evil\\r\\nkey\\e[31m": 1\n');
    expect(problems).toHaveLength(1);
    expect(formatProblem(problems[0])).toMatch(/^WKSHP-X\/wod\.yml:5: warning: evil key \[31m: unknown field, ignored/);
    // eslint-disable-next-line no-control-regex -- the escape character is what must not be there
    expect(formatProblem(problems[0])).not.toMatch(/[\r\n\u001B]/);
  });

  test('a folder that is not WKSHP-<Name> is refused', () => {
    expect(parseWorkshopSpec({ text: 'name: a\ndescription: b\ncapacity: 1\nrange: [1,2]\n', file: 'x' }, 'Python101').problems[0].fix).toMatch(/WKSHP-/);
  });
});

describe('checks', () => {
  test('pool, overlap and capacity rules; invalid workshops are left out, valid ones kept', () => {
    const root = tempWorkshops();
    writeWorkshop(root, 'WKSHP-A', { range: [1, 10] });
    writeWorkshop(root, 'WKSHP-B', { range: [8, 12] }); // overlaps A
    writeWorkshop(root, 'WKSHP-C', { range: [8, 12], active: false }); // inactive: may overlap
    writeWorkshop(root, 'WKSHP-D', { range: [95, 120] }); // beyond the pool
    writeWorkshop(root, 'WKSHP-E', { range: [20, 22], capacity: 5 }); // capacity > 3 students: normal in the original
    writeWorkshop(root, 'WKSHP-G', { range: [40, 49] });
    const scan = scanWorkshops({ dir: root }, 100);
    expect(scan.workshops.map((w) => w.spec.folder)).toEqual(['WKSHP-C', 'WKSHP-E', 'WKSHP-G']);
    const text = scan.problems.map(formatProblem).join('\n');
    expect(text).toMatch(/WKSHP-A\/wod\.yml:\d+: error: range: \[1, 10\] overlaps WKSHP-B's \[8, 12\]/);
    expect(text).toMatch(/WKSHP-B\/wod\.yml:\d+: error: range: \[8, 12\] overlaps WKSHP-A's/);
    expect(text).toMatch(/WKSHP-D\/wod\.yml:\d+: error: range: .*beyond the student pool.*raise students\.count/);
    expect(text).toMatch(/WKSHP-E\/wod\.yml:\d+: warning: capacity: capacity 5 is more than the 3 students of range \[20, 22\]: at most 3 seats at once.*lower capacity to 3/);
    expect(scan.seen).toHaveLength(6);
  });

  test("the original's overlay rule: a private folder is used where no public one exists; a private wod.yml overrides field by field", () => {
    const pub = tempWorkshops();
    const overlay = tempWorkshops();
    writeWorkshop(pub, 'WKSHP-A', { name: 'public A', range: [1, 5], duration: 3 });
    fs.mkdirSync(path.join(overlay, 'WKSHP-A'));
    fs.writeFileSync(path.join(overlay, 'WKSHP-A', 'wod.yml'), 'name: private A\nactive: false\n');
    writeWorkshop(overlay, 'WKSHP-P', { range: [6, 9], capacity: 4 });
    const scan = scanWorkshops({ dir: pub, overlayDir: overlay }, 100);
    expect(scan.workshops.map((w) => [w.spec.folder, w.spec.name, w.spec.active, w.spec.duration, w.source, w.path])).toEqual([
      ['WKSHP-A', 'private A', false, 3, 'public', path.join(pub, 'WKSHP-A')],
      ['WKSHP-P', 'P workshop', true, 2, 'overlay', path.join(overlay, 'WKSHP-P')],
    ]);
    // a problem in an overriding field names the overlay's file and line
    fs.writeFileSync(path.join(overlay, 'WKSHP-A', 'wod.yml'), 'name: private A\nduration: 99\n');
    expect(scanWorkshops({ dir: pub, overlayDir: overlay }, 100).problems.map(formatProblem)).toContain(
      `${path.join(overlay, 'WKSHP-A', 'wod.yml')}:2: error: duration: 99 hours is not a workshop length (fix: give the length in hours, e.g. 2 or 1.5)`,
    );
  });
});

describe('import and the catalog', () => {
  const setup = () => {
    const root = tempWorkshops();
    const db = openDatabase(path.join(root, 'wod.sqlite'));
    syncPool(db, 100);
    return { root, db };
  };

  test('inserts, updates, keeps admin-pinned fields, deactivates removed folders, keeps invalid ones as they were', () => {
    const { root, db } = setup();
    writeWorkshop(root, 'WKSHP-A', { range: [1, 10], priority: 5 });
    writeWorkshop(root, 'WKSHP-B', { range: [11, 20], priority: 1 });
    const first = importWorkshops(db, scanWorkshops({ dir: root }, 100), 'test');
    expect(first.inserted.sort()).toEqual(['WKSHP-A', 'WKSHP-B']);
    expect(listWorkshops(db).map((w) => w.folder)).toEqual(['WKSHP-B', 'WKSHP-A']); // by priority

    updateWorkshop(db, 'WKSHP-A', { capacity: 2 }, 'admin:x');
    writeWorkshop(root, 'WKSHP-A', { range: [1, 10], priority: 5, capacity: 7, name: 'A, renamed' });
    const second = importWorkshops(db, scanWorkshops({ dir: root }, 100), 'test');
    expect(second.updated).toEqual(['WKSHP-A']);
    expect(second.unchanged).toEqual(['WKSHP-B']);
    const a = getWorkshop(db, 'WKSHP-A')!;
    expect([a.name, a.capacity, a.pinned]).toEqual(['A, renamed', 2, ['capacity']]);

    fs.writeFileSync(path.join(root, 'WKSHP-A', 'wod.yml'), 'name: [broken\n');
    fs.rmSync(path.join(root, 'WKSHP-B'), { recursive: true });
    const third = importWorkshops(db, scanWorkshops({ dir: root }, 100), 'test');
    expect(third.deactivated).toEqual(['WKSHP-B']);
    expect(third.problems.some((p) => p.file.endsWith('WKSHP-A/wod.yml') && p.severity === 'error')).toBe(true);
    expect(getWorkshop(db, 'WKSHP-A')!.name).toBe('A, renamed'); // last good state kept
    expect(getWorkshop(db, 'WKSHP-B')!).toMatchObject({ active: false, removed: true });
    expect(listWorkshops(db).map((w) => w.folder)).toEqual(['WKSHP-A']);
    const actions = db
      .prepare('SELECT action FROM audit ORDER BY id')
      .all()
      .map((r) => (r as { action: string }).action);
    expect(actions).toEqual(['workshop.imported', 'workshop.imported', 'workshop.edited', 'workshop.updated', 'workshop.removed']);
  });

  test('a wod.yml over 64 KiB is an error naming the limit, is not imported, and an imported one keeps its last good state', () => {
    const { root, db } = setup();
    writeWorkshop(root, 'WKSHP-A', { range: [1, 10] });
    importWorkshops(db, scanWorkshops({ dir: root }, 100), 'test');
    writeWorkshop(root, 'WKSHP-A', { range: [1, 10], description: 'x'.repeat(64 * 1024) });
    writeWorkshop(root, 'WKSHP-Big', { range: [11, 20], description: 'x'.repeat(64 * 1024) });
    const report = importWorkshops(db, scanWorkshops({ dir: root }, 100), 'test');
    expect(report.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/WKSHP-A\/wod\.yml: error: is \d+ bytes, more than the 65536 bytes \(64 KiB\) a wod\.yml may have/),
      expect.stringMatching(/WKSHP-Big\/wod\.yml: error: is \d+ bytes, more than the 65536 bytes \(64 KiB\)/),
      expect.stringMatching(/WKSHP-A: warning: not imported: WKSHP-A keeps its last good state \(imported .*\), still in the catalog/),
    ]);
    expect([report.inserted, report.updated, report.deactivated]).toEqual([[], [], []]);
    expect(listWorkshops(db).map((w) => [w.folder, w.description])).toEqual([['WKSHP-A', 'Learn WKSHP-A by doing.']]);
  });

  test('an admin cannot set a capacity beyond the range', () => {
    const { root, db } = setup();
    writeWorkshop(root, 'WKSHP-A', { range: [1, 3], capacity: 3 });
    importWorkshops(db, scanWorkshops({ dir: root }, 100), 'test');
    expect(() => updateWorkshop(db, 'WKSHP-A', { capacity: 4 }, 'admin:x')).toThrow(WorkshopUpdateError);
    expect(getWorkshop(db, 'WKSHP-A')!.capacity).toBe(3);
    expect(updateWorkshop(db, 'WKSHP-NOPE', { capacity: 1 }, 'admin:x')).toBeNull();
  });

  test('tabs: all, latest, popular, one per category (case-insensitive)', () => {
    const { root, db } = setup();
    writeWorkshop(root, 'WKSHP-A', { range: [1, 10], category: ['Open Source'] });
    writeWorkshop(root, 'WKSHP-B', { range: [11, 20], category: ['open source', 'Infrastructure'] });
    importWorkshops(db, scanWorkshops({ dir: root }, 100), 'test');
    const tabs = catalogTabs(listWorkshops(db));
    expect(tabs.map((t) => [t.id, t.label, t.entries.length])).toEqual([
      ['all', 'All', 2],
      ['latest', 'Latest', 2],
      ['popular', 'Popular', 0],
      ['category-infrastructure', 'Infrastructure', 1],
      ['category-open-source', 'Open Source', 2],
    ]);
  });
});
