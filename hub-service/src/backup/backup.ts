/**
 * `wod backup` and `wod restore`. A backup is one gzipped tar: a consistent copy of both databases
 * taken with SQLite's online backup while wod runs (each database consistent in itself; the two are
 * copied one after the other), the secrets, the per-student values hooks wrote, the outbox, and a
 * manifest with each file's size and SHA-256. Everything is staged in a private folder on the
 * destination's filesystem (beside the archive; inside the data folder when it exists, as it does
 * when it is a mount point, else beside it), so that the last step is renames that cannot cross
 * filesystems, and a failure leaves what was there before: no half-written archive, no
 * half-restored data folder.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import * as tar from 'tar';
import { dataPaths } from '../config/paths.js';
import type { WodConfig } from '../config/schema.js';
import { migrations } from '../store/migrations.js';
import { schemaVersion } from '../store/db.js';
import { VERSION } from '../version.js';
import { BACKUP_FORMAT, BackupError, compareFiles, type FileEntry, isBackedUp, type Manifest, MANIFEST_FILE, parseManifest } from './manifest.js';

type Say = (line: string) => void;
type BackupConfig = Pick<WodConfig, 'dataDir' | 'projectRoot'>;

/** The newest schema this build can open. */
const KNOWN_SCHEMA = Math.max(...migrations.map((m) => m.version));

/** The name of a restore's stage, made with mkdtemp: hidden, and told apart from the data. */
const STAGE_PREFIX = '.wod-restore-';

export async function backup(config: BackupConfig, file: string, say: Say): Promise<Manifest> {
  const paths = dataPaths(config);
  if (!fs.existsSync(paths.database)) throw new BackupError(`${paths.database} does not exist: nothing to back up (is dataDir right?)`);
  const target = path.resolve(file);
  if (!fs.existsSync(path.dirname(target))) throw new BackupError(`${path.dirname(target)} does not exist: create it first`);
  if (fs.existsSync(target) && !fs.statSync(target).isFile()) throw new BackupError(`${target} exists and is not a file`);
  // mkdtemp makes it 0700: the copies of the secrets are never open to others, not even for a moment
  const staging = fs.mkdtempSync(path.join(path.dirname(target), '.wod-backup-'));
  const partial = `${target}.partial-${process.pid}`;
  try {
    let schema = 0;
    for (const [name, src] of [
      ['wod.sqlite', paths.database],
      ['jupyterhub.sqlite', paths.hubDatabase],
    ] as const) {
      if (!fs.existsSync(src)) {
        say(`${name}: not there (the hub never started here), skipped`);
        continue;
      }
      const copy = path.join(staging, name);
      await onlineCopy(src, copy);
      if (name === 'wod.sqlite') schema = withDatabase(copy, schemaVersion);
      say(`${name}: copied online (${fs.statSync(copy).size} bytes)`);
    }
    for (const folder of [paths.secrets, paths.private, paths.outbox]) {
      const copied = copyTree(folder, path.join(staging, path.relative(config.dataDir, folder)));
      say(`${path.relative(config.dataDir, folder)}/: ${copied} file(s)`);
    }
    const files = listFiles(staging);
    const manifest: Manifest = { format: BACKUP_FORMAT, wodVersion: VERSION, schemaVersion: schema, createdAt: new Date().toISOString(), host: os.hostname(), files };
    fs.writeFileSync(path.join(staging, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
    // parseManifest is what a restore runs: a backup it would refuse is not written
    parseManifest(fs.readFileSync(path.join(staging, MANIFEST_FILE), 'utf8'), KNOWN_SCHEMA);

    const out = fs.createWriteStream(partial, { mode: 0o600, flags: 'wx' });
    await pipeline(tar.c({ gzip: true, cwd: staging, portable: true }, [MANIFEST_FILE, ...files.map((f) => f.path)]), out);
    const fd = fs.openSync(partial, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(partial, target);
    say(`wrote ${target} (${fs.statSync(target).size} bytes, mode 0600): it holds the secrets and the participants' data: keep it private`);
    return manifest;
  } finally {
    fs.rmSync(partial, { force: true });
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Puts a backup into the data folder, which must be empty (an empty lost+found aside) or absent. The
 * archive is unpacked and checked (manifest, schema, every checksum) in a staging folder; only then
 * does it move in. The stage is made inside the data folder when it exists (a mount point is another
 * filesystem than its parent: a rename from beside it would fail with EXDEV), beside it when not.
 */
export async function restore(config: BackupConfig, file: string, say: Say): Promise<Manifest> {
  const target = config.dataDir;
  const archive = path.resolve(file);
  if (!fs.existsSync(archive) || !fs.statSync(archive).isFile()) throw new BackupError(`${archive} is not a file`);
  const exists = fs.existsSync(target);
  if (exists && !fs.statSync(target).isDirectory()) throw new BackupError(`${target} exists and is not a folder`);
  if (exists) refuseUnlessEmpty(target);
  const parent = path.dirname(target);
  if (!exists && !fs.existsSync(parent)) throw new BackupError(`${parent} does not exist: create it first`);
  // mkdtemp makes it 0700: the secrets unpacked into it are never open to others
  const staging = fs.mkdtempSync(path.join(exists ? target : parent, STAGE_PREFIX));
  try {
    const manifest = await unpackChecked(archive, staging);
    say(
      `checked ${manifest.files.length} file(s) against the manifest of ${manifest.createdAt} (wod ${manifest.wodVersion} on ${manifest.host}, schema ${manifest.schemaVersion})`,
    );
    setModes(staging);
    // beside it, in the same folder: a rename on one filesystem, the whole folder at once
    if (!exists) fs.renameSync(staging, target);
    else {
      // whatever appeared in the folder while the archive was checked is not ours to mix with
      refuseUnlessEmpty(target, path.basename(staging));
      moveIn(staging, target);
      fs.chmodSync(target, 0o700);
    }
    say(`restored into ${target}: 'wod start' runs on it`);
    return manifest;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Refuses a data folder with anything in it but `ours` (the stage this restore made) and an empty
 * lost+found (what mkfs leaves on a fresh ext4 volume; fsck wants it kept). A stage left by an
 * interrupted restore is not ours: it is named, to be removed by hand.
 */
function refuseUnlessEmpty(target: string, ours?: string): void {
  const present = fs.readdirSync(target).filter((name) => name !== ours && !isEmptyLostFound(target, name));
  if (!present.length) return;
  const stale = present.some((name) => name.startsWith(STAGE_PREFIX)) ? ` (a ${STAGE_PREFIX}* folder is left by an interrupted restore: remove it)` : '';
  throw new BackupError(
    `${target} is not empty (${present.slice(0, 5).join(', ')}${present.length > 5 ? ', …' : ''})${stale}: restore into an empty or absent data folder (set dataDir or WOD_DATA_DIR), nothing was changed`,
  );
}

function isEmptyLostFound(dir: string, name: string): boolean {
  if (name !== 'lost+found') return false;
  const file = path.join(dir, name);
  return fs.lstatSync(file).isDirectory() && fs.readdirSync(file).length === 0;
}

/** Unpacks `archive` into `staging` and checks it against its manifest, which it removes from there. */
async function unpackChecked(archive: string, staging: string): Promise<Manifest> {
  const refused: string[] = [];
  try {
    await tar.x({
      file: archive,
      cwd: staging,
      strict: true,
      // only the files a backup holds, as plain files: no links, no paths out of the folder
      filter: (p, entry) => {
        const ok = 'type' in entry && entry.type === 'File' && (p === MANIFEST_FILE || isBackedUp(p));
        if (!ok) refused.push(p);
        return ok;
      },
    });
  } catch (e) {
    throw new BackupError(`${archive} cannot be read (${(e as Error).message}): it is damaged or not a wod backup, nothing was changed`);
  }
  if (refused.length) throw new BackupError(`${archive} holds ${refused.slice(0, 3).join(', ')}, which no wod backup holds: nothing was changed`);
  const manifestFile = path.join(staging, MANIFEST_FILE);
  if (!fs.existsSync(manifestFile)) throw new BackupError(`${archive} has no ${MANIFEST_FILE}: it is not a wod backup, nothing was changed`);
  const manifest = parseManifest(fs.readFileSync(manifestFile, 'utf8'), KNOWN_SCHEMA);
  fs.rmSync(manifestFile);
  const problems = compareFiles(manifest, listFiles(staging));
  if (problems.length) throw new BackupError(`${archive} does not match its manifest (${problems.join('; ')}): it is damaged, nothing was changed`);
  return manifest;
}

/**
 * Moves the stage's entries up into the data folder. Should one fail, those already moved are taken
 * out again: the folder is left as it was, empty.
 */
function moveIn(staging: string, target: string): void {
  const moved: string[] = [];
  try {
    for (const entry of fs.readdirSync(staging)) {
      const dest = path.join(target, entry);
      // a rename would replace a file (or an empty folder) there: never someone else's
      if (fs.existsSync(dest)) throw new Error(`${dest} appeared meanwhile`);
      moved.push(dest);
      move(path.join(staging, entry), dest);
    }
  } catch (e) {
    for (const dest of moved) fs.rmSync(dest, { recursive: true, force: true });
    throw new BackupError(`moving the restored files into ${target} failed (${(e as Error).message}): they were taken out again, nothing was changed`);
  }
}

/**
 * A rename, or where it would cross filesystems (EXDEV: a mount point on the way) a copy, modes
 * kept, then the original's removal. The stage is on the destination's filesystem, so this is the
 * exception; a copy cut short leaves a partial `dest`, which moveIn's undo removes.
 */
function move(src: string, dest: string): void {
  try {
    fs.renameSync(src, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    fs.cpSync(src, dest, { recursive: true, errorOnExist: true, force: false });
    fs.rmSync(src, { recursive: true, force: true });
  }
}

async function onlineCopy(src: string, dest: string): Promise<void> {
  const db = new Database(src, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    await db.backup(dest);
  } finally {
    db.close();
  }
  // a copy of a WAL database is one too: made a single self-contained file (restore's start turns WAL back on)
  const check = withDatabase(dest, (copy) => {
    copy.pragma('journal_mode = DELETE');
    return copy.pragma('quick_check', { simple: true });
  });
  if (check !== 'ok') throw new BackupError(`the copy of ${src} fails SQLite's check (${String(check)}): nothing was written`);
}

function withDatabase<T>(file: string, read: (db: Database.Database) => T): T {
  const db = new Database(file, { fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Copies the regular files under `from` (absent: none); returns how many. */
function copyTree(from: string, to: string): number {
  if (!fs.existsSync(from)) return 0;
  let n = 0;
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    if (entry.isDirectory()) n += copyTree(src, path.join(to, entry.name));
    else if (entry.isFile()) {
      fs.mkdirSync(to, { recursive: true, mode: 0o700 });
      fs.copyFileSync(src, path.join(to, entry.name));
      n++;
    }
  }
  return n;
}

/** Every regular file under `root` with its size and SHA-256, by POSIX path relative to it. */
function listFiles(root: string, dir = root): FileEntry[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return listFiles(root, file);
    const rel = path.relative(root, file).split(path.sep).join('/');
    const content = fs.readFileSync(file);
    return [{ path: rel, size: content.length, sha256: crypto.createHash('sha256').update(content).digest('hex') }];
  });
}

/** The data folder's modes (isolation/data-folder.ts): folders 0700, files 0600. */
function setModes(dir: string): void {
  fs.chmodSync(dir, 0o700);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) setModes(file);
    else fs.chmodSync(file, 0o600);
  }
}
