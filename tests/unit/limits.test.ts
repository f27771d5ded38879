import fs from 'node:fs';
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { parseWorkshopSpec } from '../../hub-service/src/catalog/spec';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { restoreLimits } from '../../hub-service/src/lifecycle/limits';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { tempWorkshops, writeWorkshop } from '../support/workshops';
import { loadConfig } from '../../hub-service/src/config/load';
import {
  cgroupDirs,
  cgroupLayout,
  cgroupWrites,
  describeLimits,
  effectiveLimits,
  parseSize,
  parseWorkshopLimits,
  type SiteLimits,
} from '../../hub-service/src/isolation/limit-rules';
import { pruneGroups, siteGroup, spawnerLimits, StudentLimits } from '../../hub-service/src/isolation/limits';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const site: SiteLimits = { memory: 2 * GiB, swap: 0, cpu: 1, pids: 512, maxMemory: 0, maxCpu: 0, maxPids: 0 };

const V1_MOUNTS = [
  'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0',
  'cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0',
  'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0',
  'cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0',
  'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
].join('\n');
const V2_MOUNTS = 'cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n';

describe('per-student limits (pure rules)', () => {
  test.each([
    ['1GiB', GiB],
    ['1.5G', 1.5 * GiB],
    ['512MiB', 512 * MiB],
    ['500MB', 500_000_000],
    ['1073741824', GiB],
    [4096, 4096],
    [' 2 gib ', 2 * GiB],
  ])('reads the size %p as %p bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  test.each(['lots', '1XB', '', '-1GiB', true])('refuses %p as a size, saying what is accepted', (text) => expect(() => parseSize(text)).toThrow(/not a size/));

  test("a workshop's limits override the site's key by key, zero lifts one, the site's maximum caps them", () => {
    expect(effectiveLimits(site, null)).toEqual({ memoryBytes: 2 * GiB, swapBytes: 0, cpu: 1, pids: 512 });
    expect(effectiveLimits(site, { memoryBytes: 4 * GiB })).toEqual({ memoryBytes: 4 * GiB, swapBytes: 0, cpu: 1, pids: 512 });
    expect(effectiveLimits(site, { pids: null })).toMatchObject({ pids: null });
    const capped = { ...site, maxMemory: 3 * GiB, maxCpu: 1.5, maxPids: 1000 };
    expect(effectiveLimits(capped, { memoryBytes: 8 * GiB, cpu: 4, pids: null })).toEqual({ memoryBytes: 3 * GiB, swapBytes: 0, cpu: 1.5, pids: 1000 });
    expect(effectiveLimits({ ...site, memory: 0 }, null).memoryBytes).toBeNull();
    expect(describeLimits(effectiveLimits(site, { cpu: 0.5 }))).toBe('memory 2 GiB (no swap), cpu 0.5 core(s), pids 512');
  });

  test("wod.yml's limits: parsed with the field, errors name the line and the fix", () => {
    const base = 'name: A\ndescription: B\ncapacity: 1\nrange: [1, 2]\n';
    expect(parseWorkshopSpec({ text: base, file: 'wod.yml' }, 'WKSHP-A').spec?.limits).toBeNull();
    const ok = parseWorkshopSpec({ text: `${base}limits:\n  memory: 512MiB\n  CPU: 0.5\n  pids: 64\n`, file: 'wod.yml' }, 'WKSHP-A');
    expect(ok.problems).toEqual([]);
    expect(ok.spec?.limits).toEqual({ memoryBytes: 512 * MiB, cpu: 0.5, pids: 64 });
    const bad = parseWorkshopSpec({ text: `${base}limits:\n  memory: lots\n`, file: 'wod.yml' }, 'WKSHP-A');
    expect(bad.spec).toBeNull();
    expect(bad.problems[0]).toMatchObject({ field: 'limits', line: 5, message: expect.stringMatching(/not a size/), fix: expect.stringMatching(/memory: 2GiB/) });
    expect(() => parseWorkshopLimits({ disk: '1G' })).toThrow(/unknown key 'disk'/);
    expect(() => parseWorkshopLimits({ pids: 1.5 })).toThrow(/whole number/);
    expect(() => parseWorkshopLimits('2GiB')).toThrow(/mapping/);
  });

  test('v1 where the controllers are mounted one by one (a hybrid host: the empty unified mount does not count)', () => {
    const layout = cgroupLayout(V1_MOUNTS, '');
    expect(layout).toEqual({ version: 'v1', mounts: { cpu: '/sys/fs/cgroup/cpu', memory: '/sys/fs/cgroup/memory', pids: '/sys/fs/cgroup/pids' }, missing: [] });
    expect(cgroupDirs(layout, 'wod/ab/student3')).toEqual(['/sys/fs/cgroup/memory/wod/ab/student3', '/sys/fs/cgroup/cpu/wod/ab/student3', '/sys/fs/cgroup/pids/wod/ab/student3']);
    const writes = cgroupWrites(layout, 'wod/ab/student3', { memoryBytes: GiB, swapBytes: 0, cpu: 0.5, pids: 64 }, { memsw: true });
    expect(writes.map((w) => `${w.path.replace('/sys/fs/cgroup/', '')}=${w.value}`)).toEqual([
      'memory/wod/ab/student3/memory.memsw.limit_in_bytes=-1',
      `memory/wod/ab/student3/memory.limit_in_bytes=${GiB}`,
      `memory/wod/ab/student3/memory.memsw.limit_in_bytes=${GiB}`,
      'cpu/wod/ab/student3/cpu.cfs_period_us=100000',
      'cpu/wod/ab/student3/cpu.cfs_quota_us=50000',
      'pids/wod/ab/student3/pids.max=64',
    ]);
    // no swap accounting: memory alone; no limit: -1 and max
    const open = cgroupWrites(layout, 'g', { memoryBytes: null, swapBytes: 0, cpu: null, pids: null }, { memsw: false });
    expect(open.map((w) => w.value)).toEqual(['-1', '100000', '-1', 'max']);
  });

  test('v2 on a unified host: controllers enabled down the parents, then memory.max, memory.swap.max, cpu.max, pids.max', () => {
    const layout = cgroupLayout(V2_MOUNTS, 'cpuset cpu io memory hugetlb pids rdma misc\n');
    expect(layout).toEqual({ version: 'v2', root: '/sys/fs/cgroup', missing: [] });
    expect(cgroupDirs(layout, 'wod/ab/student3')).toEqual(['/sys/fs/cgroup/wod/ab/student3']);
    const writes = cgroupWrites(layout, 'wod/ab/student3', { memoryBytes: GiB, swapBytes: 256 * MiB, cpu: 2, pids: 100 }, { memsw: false });
    expect(writes.map((w) => `${w.path}=${w.value}`)).toEqual([
      '/sys/fs/cgroup/cgroup.subtree_control=+memory +cpu +pids',
      '/sys/fs/cgroup/wod/cgroup.subtree_control=+memory +cpu +pids',
      '/sys/fs/cgroup/wod/ab/cgroup.subtree_control=+memory +cpu +pids',
      `/sys/fs/cgroup/wod/ab/student3/memory.max=${GiB}`,
      `/sys/fs/cgroup/wod/ab/student3/memory.swap.max=${256 * MiB}`,
      '/sys/fs/cgroup/wod/ab/student3/cpu.max=200000 100000',
      '/sys/fs/cgroup/wod/ab/student3/pids.max=100',
    ]);
    expect(cgroupLayout(V2_MOUNTS, 'memory\n')).toMatchObject({ version: 'v2', missing: ['cpu', 'pids'] });
  });

  test('no controller: limits say why, do nothing, and the spawner gets none', async () => {
    const none = cgroupLayout('proc /proc proc rw 0 0\n', null);
    expect(none).toEqual({ version: 'none', reason: expect.stringMatching(/no cgroup controller/) });
    expect(cgroupLayout(V2_MOUNTS, '\n')).toMatchObject({ version: 'none' });
    const limits = new StudentLimits(none, 'wod/x', site, 0);
    expect(limits.unavailable).toMatch(/not limited/);
    expect(limits.dirs('student1')).toEqual([]);
    expect(limits.prepare('student1', null)).toMatch(/not limited/);
    await expect(limits.remove('student1')).resolves.toMatch(/not limited/);
    const config = loadConfig({ env: { WOD_STUDENTS_MODE: 'system-users', WOD_DATA_DIR: '/tmp/wod-limits-unit' }, projectRoot: '/tmp' });
    expect(spawnerLimits(config, none)).toBeNull();
    expect(spawnerLimits({ ...config, students: { ...config.students, mode: 'local' } }, cgroupLayout(V1_MOUNTS, ''))).toBeNull();
  });

  test('config: students.limits from YAML or environment, with units, and a group per data folder', () => {
    const config = loadConfig({
      env: { WOD_STUDENTS_LIMITS_MEMORY: '512MiB', WOD_STUDENTS_LIMITS_CPU: '0.5', WOD_STUDENTS_LIMITS_PIDS: '64', WOD_DATA_DIR: '/tmp/a' },
      projectRoot: '/tmp',
    });
    expect(config.students.limits).toEqual({ memory: 512 * MiB, swap: 0, cpu: 0.5, pids: 64, maxMemory: 0, maxCpu: 0, maxPids: 0 });
    expect(() => loadConfig({ env: { WOD_STUDENTS_LIMITS_MEMORY: 'a lot' }, projectRoot: '/tmp' })).toThrow(
      /students\.limits\.memory \(WOD_STUDENTS_LIMITS_MEMORY\): 'a lot' is not a size/,
    );
    expect(siteGroup('/tmp/a')).toMatch(/^wod\/[0-9a-f]{8}$/);
    expect(siteGroup('/tmp/a')).not.toBe(siteGroup('/tmp/b'));
  });
});

describe('per-student limits (the cgroup owner, on a folder tree standing for /sys/fs/cgroup)', () => {
  const root = tempWorkshops();
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const mounts = { memory: path.join(root, 'memory'), cpu: path.join(root, 'cpu'), pids: path.join(root, 'pids') };
  const layout = { version: 'v1' as const, mounts, missing: [] };
  const limits = new StudentLimits(layout, 'wod/abcd1234', site, 0);
  const read = (c: keyof typeof mounts, student: string, f: string) => fs.readFileSync(path.join(mounts[c], 'wod/abcd1234', student, f), 'utf8');

  test('prepare makes the group in each controller with the limits; again with other limits, it updates them', () => {
    expect(limits.prepare('student3', { pids: 64 })).toBe(`memory 2 GiB (no swap), cpu 1 core(s), pids 64 in ${limits.dirs('student3').join(', ')}`);
    expect(read('memory', 'student3', 'memory.limit_in_bytes')).toBe(String(2 * GiB));
    expect(read('cpu', 'student3', 'cpu.cfs_quota_us')).toBe('100000');
    expect(read('pids', 'student3', 'pids.max')).toBe('64');
    limits.prepare('student3', { memoryBytes: 512 * MiB });
    expect(read('memory', 'student3', 'memory.limit_in_bytes')).toBe(String(512 * MiB));
    expect(read('pids', 'student3', 'pids.max')).toBe('512');
    expect(new StudentLimits(layout, 'wod/x', site, 1000).unavailable).toMatch(/not run as root/);
  });

  test("restoreLimits makes the groups of the seated students again with their workshop's limits", () => {
    const dir = tempWorkshops();
    try {
      writeWorkshop(dir, 'WKSHP-L', { range: [1, 3], capacity: 3, limits: { memory: '1GiB', cpu: 2 } });
      const db = openDatabase(path.join(dir, 'wod.sqlite'));
      syncPool(db, 3);
      importWorkshops(db, scanWorkshops({ dir }, 3), 'test');
      const r = new Registrations(db).register({ email: 'a@example.com', name: 'A', company: 'C', workshop: 'WKSHP-L', acceptTerms: true }, { source: 'portal' });
      expect(restoreLimits(db, limits)).toBe(1);
      expect(read('memory', r.student!, 'memory.limit_in_bytes')).toBe(String(GiB));
      expect(read('cpu', r.student!, 'cpu.cfs_quota_us')).toBe('200000');
      db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('pruneGroups removes the empty groups and keeps one holding a process (here: a file)', () => {
    limits.prepare('student4', null);
    // a real cgroup folder is empty to rmdir once its processes are gone; a plain folder with files stands for a busy one
    for (const c of ['memory', 'cpu', 'pids'] as const) {
      for (const f of fs.readdirSync(path.join(mounts[c], 'wod/abcd1234', 'student4'))) fs.rmSync(path.join(mounts[c], 'wod/abcd1234', 'student4', f));
    }
    expect(pruneGroups(limits)).toBe(3);
    expect(fs.existsSync(path.join(mounts.memory, 'wod/abcd1234', 'student4'))).toBe(false);
    expect(fs.existsSync(path.join(mounts.memory, 'wod/abcd1234', 'student3'))).toBe(true);
  });
});
