/**
 * `compile` with the real shc: a script found in the workshop folder or else the overlay scripts
 * folder, rendered with the student's variables, installed as `<name>.x` that the student's account
 * (wod-student here, as local mode started by root) can run but not read or chmod; nothing of the
 * rendered script left behind. Lint's check says what is missing, and that shc is only obfuscation.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkCompile } from '../../hub-service/src/catalog/problems';
import { compileScripts, findShc } from '../../hub-service/src/content/compile';
import { ensureLocalAccount, type Ids } from '../../hub-service/src/isolation/student-side';

let root: string;
let home: string;
let workshop: string;
let overlay: string;
let student: Ids;

beforeAll(() => {
  student = ensureLocalAccount('wod-student');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-compile-test-'));
  fs.chmodSync(root, 0o711);
  home = path.join(root, 'home');
  fs.mkdirSync(home, { mode: 0o700 });
  fs.chownSync(home, student.uid, student.gid);
  workshop = path.join(root, 'WKSHP-Secret');
  overlay = path.join(root, 'overlay-scripts');
  fs.mkdirSync(workshop);
  fs.mkdirSync(overlay);
  fs.writeFileSync(path.join(workshop, 'get-secret.sh'), '#!/bin/bash\necho "token for {{ STUDENT }}: {{ TOKEN }}"\n');
  fs.writeFileSync(path.join(overlay, 'get-other.sh'), '#!/bin/bash\necho "other {{ STDID }}"\n');
  fs.writeFileSync(path.join(overlay, 'get-secret.sh'), '#!/bin/bash\necho "the overlay loses: the workshop folder comes first"\n');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const asStudent = (cmd: string, ...args: string[]) =>
  spawnSync('setpriv', [`--reuid=${student.uid}`, `--regid=${student.gid}`, '--clear-groups', '--', cmd, ...args], { encoding: 'utf8', cwd: '/' });

test('a compiled script runs as the student with the rendered values, and cannot be read, copied or chmod-ed by them', async () => {
  // a temporary folder of this test's own, to see what compiling leaves in it
  const tmp = path.join(root, 'tmp');
  fs.mkdirSync(tmp);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  const installed = await compileScripts({
    names: ['get-secret.sh', 'get-other.sh'],
    dirs: [workshop, overlay],
    vars: { STUDENT: 'student4', STDID: 4, TOKEN: 'tok-abc-123' },
    home,
    shc: findShc(),
  }).finally(() => (saved === undefined ? delete process.env.TMPDIR : (process.env.TMPDIR = saved)));
  expect(installed).toEqual([path.join(home, 'get-secret.sh.x'), path.join(home, 'get-other.sh.x')]);
  const stat = fs.statSync(installed[0]);
  expect(stat.mode & 0o7777).toBe(0o711);
  expect(stat.uid).toBe(process.getuid!());

  const ran = asStudent(installed[0]);
  expect(ran.status).toBe(0);
  expect(ran.stdout).toBe('token for student4: tok-abc-123\n');
  expect(asStudent(installed[1]).stdout).toBe('other 4\n');

  expect(asStudent('cat', installed[0]).status).not.toBe(0);
  expect(asStudent('cp', installed[0], '/tmp/stolen').status).not.toBe(0);
  expect(asStudent('chmod', '0755', installed[0]).status).not.toBe(0);
  expect(fs.statSync(installed[0]).mode & 0o7777).toBe(0o711);
  // nothing but the binaries in the home; shc's work folder is gone
  expect(fs.readdirSync(home).sort()).toEqual(['get-other.sh.x', 'get-secret.sh.x']);
  expect(fs.readdirSync(tmp)).toEqual([]);
});

test('a file the student left where the binary goes is replaced, not written through', async () => {
  const target = path.join(home, 'get-other.sh.x');
  fs.rmSync(target, { force: true });
  const elsewhere = path.join(root, 'elsewhere');
  fs.writeFileSync(elsewhere, 'untouched');
  fs.symlinkSync(elsewhere, target);
  await compileScripts({ names: ['get-other.sh'], dirs: [workshop, overlay], vars: { STDID: 5 }, home, shc: findShc() });
  expect(fs.lstatSync(target).isSymbolicLink()).toBe(false);
  expect(fs.readFileSync(elsewhere, 'utf8')).toBe('untouched');
  expect(asStudent(target).stdout).toBe('other 5\n');
});

test('a missing script, an undefined variable or a missing shc fails with what to do', async () => {
  await expect(compileScripts({ names: ['nowhere.sh'], dirs: [workshop, overlay], vars: {}, home, shc: findShc() })).rejects.toThrow(/compile: nowhere.sh is in none of/);
  await expect(compileScripts({ names: ['get-secret.sh'], dirs: [workshop], vars: { STUDENT: 's' }, home, shc: findShc() })).rejects.toThrow(
    /get-secret.sh:2: undefined variable TOKEN/,
  );
  await expect(compileScripts({ names: ['get-secret.sh'], dirs: [workshop], vars: {}, home, shc: null })).rejects.toThrow(
    'shc is not installed: compile needs it (apt install shc)',
  );
  await expect(compileScripts({ names: ['../etc/passwd'], dirs: [workshop], vars: {}, home, shc: findShc() })).rejects.toThrow(/is in none of/);
  expect(await compileScripts({ names: [], dirs: [], vars: {}, home, shc: null })).toEqual([]);
});

test('lint: each script must be found and shc installed; shc is named obfuscation, not encryption', () => {
  const spec = { folder: 'WKSHP-Secret', compile: ['get-secret.sh', 'get-other.sh', 'missing.sh', 'a/b.sh'] };
  const problems = checkCompile(spec, [workshop, overlay], { file: path.join(workshop, 'wod.yml'), line: 9 }, null);
  expect(problems.map((p) => [p.severity, p.message])).toEqual([
    ['error', expect.stringMatching(/^missing.sh is in none of /)],
    ['error', "'a/b.sh' is not a script name"],
    ['error', 'shc is not installed: compile needs it (apt install shc)'],
    ['warning', expect.stringContaining('obfuscation, not encryption')],
  ]);
  expect(problems.every((p) => p.line === 9 && p.field === 'compile')).toBe(true);
  expect(checkCompile({ folder: 'WKSHP-Secret', compile: ['get-secret.sh'] }, [workshop], undefined, '/usr/bin/shc').map((p) => p.severity)).toEqual(['warning']);
  expect(checkCompile({ folder: 'WKSHP-Secret', compile: [] }, [workshop])).toEqual([]);
});
