/** The checks a restore makes on a backup's manifest and files before it writes anything, and a backup's round trip. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { attack } from '../support/attacks';
import { backup, restore } from '../../hub-service/src/backup/backup';
import { BACKUP_FORMAT, compareFiles, isBackedUp, type Manifest, parseManifest, retentionWarning } from '../../hub-service/src/backup/manifest';
import { dataPaths } from '../../hub-service/src/config/paths';
import { ensureSecretFile } from '../../hub-service/src/secrets';
import { openDatabase, schemaVersion } from '../../hub-service/src/store/db';

const sha = (c: string) => c.repeat(64);
const manifest = (over: Record<string, unknown> = {}): Manifest =>
  ({
    format: BACKUP_FORMAT,
    wodVersion: '0.1.0',
    schemaVersion: 9,
    createdAt: '2026-12-02T00:00:00.000Z',
    host: 'wod1',
    files: [
      { path: 'wod.sqlite', size: 4096, sha256: sha('a') },
      { path: 'jupyterhub.sqlite', size: 2048, sha256: sha('b') },
      { path: 'secrets/auth-secret', size: 65, sha256: sha('c') },
      { path: 'secrets/session-key', size: 65, sha256: sha('d') },
      { path: 'outbox/welcome-1.eml', size: 900, sha256: sha('e') },
    ],
    ...over,
  }) as Manifest;
const text = (over: Record<string, unknown> = {}) => JSON.stringify(manifest(over));

describe('parseManifest', () => {
  test('takes a well-formed manifest of a schema this build knows', () => {
    expect(parseManifest(text(), 9)).toEqual(manifest());
    expect(parseManifest(text({ schemaVersion: 3 }), 9).schemaVersion).toBe(3);
  });

  test.each([
    ['not JSON', '{"format": 1', /not JSON/],
    ['not an object', '[]', /not an object|format/],
    ['another format', text({ format: 2 }), /backup format 2 is not one this wod reads/],
    ['no version', text({ wodVersion: undefined }), /wodVersion is missing/],
    ['no schema', text({ schemaVersion: 'nine' }), /schemaVersion is missing/],
    ['a newer schema', text({ schemaVersion: 10, wodVersion: '0.2.0' }), /schema \(10, wod 0\.2\.0\) is newer than this wod knows \(9\): restore it with wod 0\.2\.0 or later/],
    ['no files', text({ files: {} }), /files is missing/],
    ['a path out of the folder', text({ files: [...manifest().files, { path: '../etc/passwd', size: 1, sha256: sha('f') }] }), /"\.\.\/etc\/passwd" is not a file a backup holds/],
    ['an absolute path', text({ files: [...manifest().files, { path: '/etc/passwd', size: 1, sha256: sha('f') }] }), /is not a file a backup holds/],
    ['a file no backup holds', text({ files: [...manifest().files, { path: 'wod.sqlite-wal', size: 1, sha256: sha('f') }] }), /"wod\.sqlite-wal" is not a file/],
    ['a bad checksum', text({ files: [{ path: 'wod.sqlite', size: 1, sha256: 'abc' }] }), /wod\.sqlite has no size or sha256/],
    ['a negative size', text({ files: [{ path: 'wod.sqlite', size: -1, sha256: sha('a') }] }), /has no size or sha256/],
    ['a file twice', text({ files: [...manifest().files, manifest().files[0]] }), /wod\.sqlite is listed twice/],
    ['no session key', text({ files: manifest().files.filter((f) => f.path !== 'secrets/session-key') }), /secrets\/session-key is missing/],
  ])('refuses %s', (_what, given, error) => {
    expect(() => parseManifest(given, 9)).toThrow(error);
  });
});

describe('isBackedUp', () => {
  test.each([
    ['wod.sqlite', true],
    ['jupyterhub.sqlite', true],
    ['secrets/mail-api-password', true],
    ['secrets/locations/lyon.token', true],
    ['secrets/locations/nested/key', false],
    ['private/wod/pass/variables_WKSHP-X_1.yml', true],
    ['outbox/x.eml', true],
    ['secrets/nested/key', false],
    ['jupyterhub.pid', false],
    ['capacity.json', false],
    ['homes/student1/notes.ipynb', false],
    ['outbox/../secrets/x', false],
    ['./wod.sqlite', false],
  ])('%s: %s', (file, expected) => expect(isBackedUp(file)).toBe(expected));
});

describe('compareFiles', () => {
  const files = manifest().files;
  test('agrees when every file is there as listed', () => {
    expect(compareFiles(manifest(), [...files].reverse())).toEqual([]);
  });
  test('names each file missing, of another size, changed, or not listed', () => {
    const found = [{ ...files[0], size: 4095 }, { ...files[1], sha256: sha('0') }, files[2], files[3], { path: 'outbox/extra.eml', size: 1, sha256: sha('1') }];
    expect(compareFiles(manifest(), found)).toEqual([
      'wod.sqlite has 4095 bytes, not 4096',
      'jupyterhub.sqlite does not match its checksum',
      'outbox/welcome-1.eml is missing',
      'outbox/extra.eml is not in the manifest',
    ]);
  });
});

describe('backup and restore of a data folder', () => {
  const made: string[] = [];
  const temp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-backup-unit-'));
    made.push(d);
    return d;
  };
  afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const quiet = () => {};

  /** A data folder as `wod prepare` leaves it, with a mail in the outbox and a hook's value. */
  function dataFolder(): string {
    const dataDir = path.join(temp(), 'var');
    const paths = dataPaths({ dataDir, projectRoot: dataDir });
    openDatabase(paths.database).close();
    for (const s of [paths.authSecret, paths.sessionKey]) ensureSecretFile(s);
    fs.mkdirSync(path.join(dataDir, 'outbox'));
    fs.writeFileSync(path.join(dataDir, 'outbox', 'welcome-1.eml'), 'Subject: hello\n\n');
    fs.mkdirSync(path.join(dataDir, 'private', 'wod', 'pass'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'private', 'wod', 'pass', 'variables_WKSHP-X_1.yml'), 'TOKEN: t-1\n');
    fs.writeFileSync(path.join(dataDir, 'capacity.json'), '{}');
    return dataDir;
  }
  const contents = (dir: string) =>
    Object.fromEntries(
      (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
        .filter((e) => e.isFile())
        .map((e) => path.join(e.parentPath, e.name))
        .map((f) => [path.relative(dir, f), fs.readFileSync(f).toString('base64')]),
    );
  /** An archive made from `backup`'s, with its files changed by `edit` (the manifest among them). */
  async function repacked(archive: string, edit: (dir: string) => void): Promise<string> {
    const dir = temp();
    await tar.x({ file: archive, cwd: dir });
    edit(dir);
    const out = path.join(temp(), 'edited.tar.gz');
    // files only, as wod packs them
    const entries = (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
      .filter((e) => !e.isDirectory())
      .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
    await tar.c({ gzip: true, file: out, cwd: dir }, entries);
    return out;
  }
  const editManifest = (dir: string, change: (m: Manifest) => void) => {
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    change(m);
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
  };

  test('a restore gives back the same files, with the data folder modes, and not what a backup leaves out', async () => {
    const dataDir = dataFolder();
    const archive = path.join(temp(), 'b.tar.gz');
    const lines: string[] = [];
    const manifest = await backup({ dataDir, projectRoot: dataDir }, archive, (l) => lines.push(l));
    expect(fs.statSync(archive).mode & 0o777).toBe(0o600);
    expect(manifest.files.map((f) => f.path).sort()).toEqual([
      'outbox/welcome-1.eml',
      'private/wod/pass/variables_WKSHP-X_1.yml',
      'secrets/auth-secret',
      'secrets/session-key',
      'wod.sqlite',
    ]);
    expect(lines.join('\n')).toMatch(/jupyterhub\.sqlite: not there/);

    const target = path.join(temp(), 'restored');
    await restore({ dataDir: target, projectRoot: target }, archive, quiet);
    const { 'wod.sqlite': restoredDb, ...restored } = contents(target);
    const { 'wod.sqlite': _db, 'capacity.json': _capacity, ...original } = contents(dataDir);
    expect(restored).toEqual(original);
    expect(restoredDb).toBeDefined();
    const db = openDatabase(path.join(target, 'wod.sqlite'));
    expect(schemaVersion(db)).toBe(manifest.schemaVersion);
    db.close();
    for (const d of [target, path.join(target, 'secrets'), path.join(target, 'private', 'wod')]) expect(fs.statSync(d).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(target, 'outbox', 'welcome-1.eml')).mode & 0o777).toBe(0o600);
  });

  test.each([
    ['a schema newer than this build', (d: string) => editManifest(d, (m) => (m.schemaVersion += 1)), /is newer than this wod knows/],
    [
      'a file changed after the backup',
      (d: string) => fs.appendFileSync(path.join(d, 'secrets', 'session-key'), 'x'),
      /does not match its manifest \(secrets\/session-key has 66 bytes, not 65\)/,
    ],
    ['a file the manifest does not list', (d: string) => fs.writeFileSync(path.join(d, 'outbox', 'extra.eml'), 'x'), /outbox\/extra\.eml is not in the manifest/],
    ['a link', (d: string) => fs.symlinkSync('/etc/passwd', path.join(d, 'outbox', 'link.eml')), /holds outbox\/link\.eml, which no wod backup holds/],
    ['a file outside what a backup holds', (d: string) => fs.writeFileSync(path.join(d, 'capacity.json'), '{}'), /holds capacity\.json, which no wod backup holds/],
    ['no manifest', (d: string) => fs.rmSync(path.join(d, 'manifest.json')), /has no manifest\.json/],
  ])('refuses an archive with %s and writes nothing', async (what, edit, error) => {
    const dataDir = dataFolder();
    const archive = path.join(temp(), 'b.tar.gz');
    await backup({ dataDir, projectRoot: dataDir }, archive, quiet);
    const bad = await repacked(archive, edit);
    const parent = temp();
    const target = path.join(parent, 'var');
    await attack(`restoring an archive with ${what}`, async () => {
      await expect(restore({ dataDir: target, projectRoot: target }, bad, quiet)).rejects.toThrow(error);
      expect(fs.readdirSync(parent)).toEqual([]);
    });
  });

  /** A backup of a fresh data folder, and what a restore of it must give. */
  async function anArchive(): Promise<{ archive: string; files: Record<string, string> }> {
    const dataDir = dataFolder();
    const archive = path.join(temp(), 'b.tar.gz');
    await backup({ dataDir, projectRoot: dataDir }, archive, quiet);
    // wod.sqlite is an online copy: the same data, not the same bytes
    const { 'capacity.json': _capacity, 'wod.sqlite': _db, ...files } = contents(dataDir);
    return { archive, files };
  }
  /** What a restore put in `dir`: the files but the database, which must be there. */
  const restoredIn = (dir: string) => {
    const { 'wod.sqlite': db, ...files } = contents(dir);
    expect(db).toBeDefined();
    return files;
  };
  /** An existing, empty data folder, as an administrator makes one (or mounts a volume there). */
  const emptyFolder = () => {
    const dir = path.join(temp(), 'var');
    fs.mkdirSync(dir, { mode: 0o755 });
    return dir;
  };

  test('a restore into an existing empty folder stages inside it and leaves only the data, the folder 0700', async () => {
    const { archive, files } = await anArchive();
    const target = emptyFolder();
    const mkdtemp = jest.spyOn(fs, 'mkdtempSync');
    try {
      await restore({ dataDir: target, projectRoot: target }, archive, quiet);
      // on the data folder's filesystem, whatever is mounted there
      expect(path.dirname(mkdtemp.mock.calls[0][0])).toBe(target);
    } finally {
      mkdtemp.mockRestore();
    }
    expect(restoredIn(target)).toEqual(files);
    expect(fs.readdirSync(target).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(fs.readdirSync(path.dirname(target))).toEqual(['var']);
    expect(fs.statSync(target).mode & 0o777).toBe(0o700);
  });

  test("a fresh volume's empty lost+found is empty and stays; one with files in it is not", async () => {
    const { archive, files } = await anArchive();
    const target = emptyFolder();
    fs.mkdirSync(path.join(target, 'lost+found'), { mode: 0o700 });
    await restore({ dataDir: target, projectRoot: target }, archive, quiet);
    expect(restoredIn(target)).toEqual(files);
    expect(fs.readdirSync(target)).toContain('lost+found');
    expect(fs.readdirSync(path.join(target, 'lost+found'))).toEqual([]);

    const recovered = emptyFolder();
    fs.mkdirSync(path.join(recovered, 'lost+found'));
    fs.writeFileSync(path.join(recovered, 'lost+found', '#1234'), 'x');
    await expect(restore({ dataDir: recovered, projectRoot: recovered }, archive, quiet)).rejects.toThrow(/is not empty \(lost\+found\)/);
    expect(fs.readdirSync(recovered)).toEqual(['lost+found']);
  });

  test('a stage left by an interrupted restore is not ours: the folder is not empty', async () => {
    const { archive } = await anArchive();
    const target = emptyFolder();
    fs.mkdirSync(path.join(target, '.wod-restore-AbC123'));
    await expect(restore({ dataDir: target, projectRoot: target }, archive, quiet)).rejects.toThrow(
      /is not empty \(\.wod-restore-AbC123\) \(a \.wod-restore-\* folder is left by an interrupted restore: remove it\)/,
    );
    expect(fs.readdirSync(target)).toEqual(['.wod-restore-AbC123']);
  });

  test('a rename that would cross filesystems (EXDEV) is done as a copy and an unlink', async () => {
    const { archive, files } = await anArchive();
    const target = emptyFolder();
    const rename = jest.spyOn(fs, 'renameSync').mockImplementation(() => {
      throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' });
    });
    try {
      await restore({ dataDir: target, projectRoot: target }, archive, quiet);
      expect(rename).toHaveBeenCalled();
    } finally {
      rename.mockRestore();
    }
    expect(restoredIn(target)).toEqual(files);
    expect(fs.readdirSync(target).filter((f) => f.startsWith('.'))).toEqual([]);
    for (const d of [target, path.join(target, 'secrets'), path.join(target, 'private', 'wod', 'pass')]) expect(fs.statSync(d).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(target, 'secrets', 'session-key')).mode & 0o777).toBe(0o600);
  });

  test('a move that fails halfway takes out what it moved: the folder is left empty, as it was', async () => {
    const { archive } = await anArchive();
    const target = emptyFolder();
    fs.mkdirSync(path.join(target, 'lost+found'));
    const real = fs.renameSync;
    let calls = 0;
    const rename = jest.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
      if (++calls === 2) throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
      real(from, to);
    });
    try {
      await expect(restore({ dataDir: target, projectRoot: target }, archive, quiet)).rejects.toThrow(
        /moving the restored files into .* failed \(EIO: i\/o error, rename\): they were taken out again, nothing was changed/,
      );
    } finally {
      rename.mockRestore();
    }
    expect(fs.readdirSync(target)).toEqual(['lost+found']);
    expect(fs.statSync(target).mode & 0o777).toBe(0o755);
  });

  describe('into a data folder that is a mount point (tmpfs, as root)', () => {
    let target = '';
    let mounted = false;
    beforeAll(() => {
      target = emptyFolder();
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0755', 'wod-restore-test', target], { stdio: 'pipe' });
        mounted = true;
      } catch (e) {
        console.log(`skipped: cannot mount a tmpfs on ${target} (${String((e as Error).message).split('\n')[0]}): the mount point is tested as root only`);
      }
    });
    afterAll(() => {
      if (mounted) execFileSync('umount', [target]);
    });

    test('is restored in place, across no filesystem', async () => {
      if (!mounted) return;
      const { archive, files } = await anArchive();
      await restore({ dataDir: target, projectRoot: target }, archive, quiet);
      expect(restoredIn(target)).toEqual(files);
      expect(fs.readdirSync(target).filter((f) => f.startsWith('.'))).toEqual([]);
      expect(fs.readdirSync(path.dirname(target))).toEqual(['var']);
    });
  });

  test('a backup without a database is refused, and no archive is written', async () => {
    const dir = temp();
    await expect(backup({ dataDir: path.join(dir, 'var'), projectRoot: dir }, path.join(dir, 'b.tar.gz'), quiet)).rejects.toThrow(/wod\.sqlite does not exist: nothing to back up/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

test('a backup older than the retention says that erased participants come back with it', () => {
  const now = Date.parse('2026-12-02T00:00:00Z');
  expect(retentionWarning({ createdAt: '2026-11-01T00:00:00Z' }, 365, now)).toBeNull();
  expect(retentionWarning({ createdAt: '2024-11-01T00:00:00Z' }, 0, now)).toBeNull();
  expect(retentionWarning({ createdAt: '2025-11-01T00:00:00Z' }, 365, now)).toMatch(/^this backup is 396 days old, older than participants\.retentionDays \(365\)/);
});
