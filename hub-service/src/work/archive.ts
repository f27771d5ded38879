/**
 * What a participant keeps of their workshop: at CLEANUP, before the home is wiped, its files are
 * zipped into the data folder (work/<registration id>.zip, 0600, in a 0700 folder).
 *
 * The rule: every regular file of the home, the workshop's folder first, except what is the
 * environment rather than the work: hidden names (.cache, .local, .jupyter, .ipython, .venv, dotfiles),
 * .ipynb_checkpoints, __pycache__, node_modules and any folder holding a pyvenv.cfg (a venv, whatever its
 * name). The home is the student's, and what runs as the student (a process left over, a cron job)
 * may still change it while it is walked: a folder listed may be a link by the time it is read. So
 * the walk and the zip run in a child process (work/collect.ts) as the student's own uid/gid (or the
 * local account's, or the service's own user when students run as it): the kernel, not this code,
 * keeps out what the student could not read. Inside it, links seen in the listing are left out (one
 * to /etc/passwd stays out), and each file is opened with O_NOFOLLOW|O_NONBLOCK and kept only when its
 * descriptor is a regular file, owned by the student (when known), with one link; exactly its size is
 * read. The walk stops after MAX_ENTRIES entries, with a note. A name with a
 * backslash or a drive letter stays out (unzipped elsewhere it could land outside its folder). What would pass
 * participants.workMaxBytes is left out, and NOT-INCLUDED.txt in the zip says what and why.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ZipFile } from 'yazl';
import type { Ids } from '../isolation/student-side.js';

/** The note the zip carries when something was left out. */
export const LEFT_OUT_NOTE = 'NOT-INCLUDED.txt';

/**
 * The most entries (files, folders, links) one walk looks at: a home of a million empty files must
 * not hold CLEANUP; a workshop's home has a few hundred. Past it the walk stops and the note says so.
 */
export const MAX_ENTRIES = 20_000;
/** The child's wall-clock time, and what it may write past the cap (zip headers, the note). */
const CHILD_MS = 5 * 60_000;
const ZIP_OVERHEAD = MAX_ENTRIES * 1_024 + 1_000_000;
/** The compiled child (from src/ under the tests, from dist/ in service: both are hub-service/dist/work/collect.js). */
export const COLLECT_SCRIPT = path.resolve(__dirname, '..', '..', 'dist', 'work', 'collect.js');

const NOT_WORK = new Set(['.ipynb_checkpoints', '__pycache__', 'node_modules']);

export interface Candidate {
  /** path inside the home, with / */
  rel: string;
  abs: string;
  size: number;
}

export interface LeftOut {
  rel: string;
  why: string;
}

export interface Collected {
  files: Candidate[];
  leftOut: LeftOut[];
}

/** Names that are the environment rather than the work: never archived, never mentioned. */
export const isNotWork = (name: string): boolean => name.startsWith('.') || NOT_WORK.has(name);

/**
 * unzip tools read a backslash or a drive letter as a path: `..\..\x` would land outside the folder
 * it is unzipped in; so would an absolute name, a `..` part or a NUL cutting the name short (names a
 * disk never lists, a remote server's listing might).
 */
export const unzipsElsewhere = (name: string, rel: string): boolean =>
  name.includes('\\') || name.includes('\0') || /^[a-zA-Z]:/.test(rel) || rel.startsWith('/') || rel.split('/').some((part) => part === '..' || part === '.');
export const UNZIPS_ELSEWHERE = 'a name unzip tools would read as a path';

/** A folder holding this file is a Python virtual environment, whatever its name. */
export const VENV_MARK = 'pyvenv.cfg';

const isVenv = (dir: string) => fs.existsSync(path.join(dir, VENV_MARK));

function sizeOf(file: string): number | null {
  try {
    return fs.lstatSync(file).size;
  } catch {
    return null;
  }
}

/** The work found in a home, by the rule above, the workshop's folder first; reads no file's content. */
export function collectWork(home: string, workshopFolder: string): Collected {
  const files: Candidate[] = [];
  const leftOut: LeftOut[] = [];
  let seen = 0;
  let stopped = false;
  const walk = (dir: string, rel: string) => {
    if (stopped) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    } catch (e) {
      // a folder its student made unreadable leaves itself out, not the rest
      if (!rel) throw e;
      return void leftOut.push({ rel, why: `could not be read (${(e as NodeJS.ErrnoException).code})` });
    }
    // the workshop's notebooks come before anything else, so that the size cap leaves them in
    if (!rel) entries.sort((a, b) => Number(b.name === workshopFolder) - Number(a.name === workshopFolder));
    for (const e of entries) {
      if (++seen > MAX_ENTRIES) {
        stopped = true;
        return void leftOut.push({ rel: rel ? `${rel}/${e.name}` : e.name, why: `and everything after it: the archive looks at ${MAX_ENTRIES} entries at most` });
      }
      const abs = path.join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (isNotWork(e.name)) continue;
      if (unzipsElsewhere(e.name, r)) leftOut.push({ rel: r, why: UNZIPS_ELSEWHERE });
      else if (e.isSymbolicLink()) leftOut.push({ rel: r, why: 'a link: links are not followed' });
      else if (e.isDirectory()) {
        if (!isVenv(abs)) walk(abs, r);
      } else if (e.isFile()) {
        const size = sizeOf(abs);
        if (size === null) leftOut.push({ rel: r, why: 'could not be read' });
        else files.push({ rel: r, abs, size });
      }
    }
  };
  walk(home, '');
  return { files, leftOut };
}

/** The candidates that fit in maxBytes, in their order; each that would pass it is left out (a smaller one after it may still fit). Pure. */
export function withinCap(files: Candidate[], maxBytes: number): Collected {
  const kept: Candidate[] = [];
  const leftOut: LeftOut[] = [];
  let total = 0;
  for (const f of files) {
    if (total + f.size > maxBytes) leftOut.push({ rel: f.rel, why: `${f.size} bytes: the archive keeps ${maxBytes} bytes at most` });
    else {
      kept.push(f);
      total += f.size;
    }
  }
  return { files: kept, leftOut };
}

/**
 * A file's bytes through a descriptor that is no link, a regular file, owned by `owner` (when known)
 * with one link (a hard link to someone else's file stays out), read to its size, never to EOF;
 * null when it is not (or changed since it was listed).
 */
function readRegular(abs: string, maxSize: number, owner: number | null): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.nlink !== 1 || (owner !== null && st.uid !== owner) || st.size > maxSize) return null;
    const bytes = Buffer.alloc(st.size);
    for (let at = 0; at < st.size;) {
      const n = fs.readSync(fd, bytes, at, st.size - at, at);
      if (n === 0) return null; // shrunk while read
      at += n;
    }
    return bytes;
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

export interface Archived {
  files: number;
  /** the zip's size */
  bytes: number;
  leftOut: number;
}

export interface WorkOptions {
  home: string;
  workshopFolder: string;
  maxBytes: number;
  /** the uid the files must belong to; null: not checked */
  owner: number | null;
  /** whom the child becomes before it touches the home (the student); null: it stays this process's user */
  runAs: Ids | null;
}

/**
 * The child's work (work/collect.ts), run as the student: the walk and the zip, written to `out`.
 * Nothing to keep: nothing is written. Returns what it zipped (bytes: what it wrote).
 */
export async function zipWork(o: WorkOptions, out: NodeJS.WritableStream): Promise<Archived> {
  const found = collectWork(o.home, o.workshopFolder);
  const capped = withinCap(found.files, o.maxBytes);
  return writeZip(capped.files, [...found.leftOut, ...capped.leftOut], (f) => readRegular(f.abs, f.size, o.owner), out);
}

/**
 * The zip of the files kept (each read by `read`: null leaves it out, with its reason), with the
 * NOT-INCLUDED.txt note when something was left out, written to `out`. Nothing to keep: nothing is
 * written. Returns what it zipped (bytes: what it wrote).
 */
export async function writeZip(
  kept: Candidate[],
  leftOut: LeftOut[],
  read: (f: Candidate) => Buffer | null | Promise<Buffer | null>,
  out: NodeJS.WritableStream,
): Promise<Archived> {
  const zip = new ZipFile();
  let files = 0;
  for (const f of kept) {
    const bytes = await read(f);
    if (!bytes) {
      leftOut.push({ rel: f.rel, why: 'could not be read, is not your own file, or changed while it was archived' });
      continue;
    }
    zip.addBuffer(bytes, f.rel, { mode: 0o100644 });
    files++;
  }
  if (!files) return { files: 0, bytes: 0, leftOut: leftOut.length };
  if (leftOut.length) {
    const note = ['These files of your workshop home were not included in this archive:', ...leftOut.map((l) => `${l.rel}: ${l.why}`), ''].join('\n');
    zip.addBuffer(Buffer.from(note, 'utf8'), LEFT_OUT_NOTE, { mode: 0o100644 });
  }
  zip.end();
  let bytes = 0;
  zip.outputStream.on('data', (c: Buffer) => void (bytes += c.length));
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.on('error', reject).on('end', resolve);
    out.on('error', reject);
    zip.outputStream.pipe(out, { end: false });
  });
  return { files, bytes, leftOut: leftOut.length };
}

/**
 * Zips the work of a home into `file` (written beside it, then renamed: a crash leaves no half zip
 * under the final name), by a child running as `ids` (the student; null: as this process). Nothing
 * to keep: no file is written and files is 0. The child is killed past CHILD_MS or when it writes
 * more than the cap allows.
 */
export async function archiveWork(o: { home: string; workshopFolder: string; maxBytes: number; file: string; ids?: Ids | null }): Promise<Archived> {
  if (!fs.existsSync(COLLECT_SCRIPT)) throw new Error(`${COLLECT_SCRIPT} is missing: build the service (npm run build)`);
  fs.mkdirSync(path.dirname(o.file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(o.file), 0o700);
  const part = `${o.file}.part`;
  const ids = o.ids ?? null;
  const args: WorkOptions = { home: o.home, workshopFolder: o.workshopFolder, maxBytes: o.maxBytes, owner: ids?.uid ?? null, runAs: ids };
  // Started as this process's user, so that it can load wod's code from a private checkout (/root/…);
  // it becomes the student itself before it reads anything of theirs (work/collect.ts).
  const child = spawn(process.execPath, [COLLECT_SCRIPT, JSON.stringify(args)], {
    cwd: '/',
    env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const limit = o.maxBytes + ZIP_OVERHEAD;
  let written = 0;
  let stderr = '';
  let failure: string | null = null;
  const stop = (why: string) => {
    failure ??= why;
    child.kill('SIGKILL');
  };
  const timer = setTimeout(() => stop(`the archive took more than ${CHILD_MS / 1000} s`), CHILD_MS);
  const out = fs.createWriteStream(part, { mode: 0o600 });
  child.stdout.on('data', (c: Buffer) => {
    written += c.length;
    if (written > limit) stop(`the archive passed ${limit} bytes`);
  });
  child.stderr.on('data', (c: Buffer) => void (stderr = (stderr + c.toString('utf8')).slice(-64_000)));
  try {
    const [code, signal] = await Promise.all([
      new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => child.on('error', reject).on('close', (c, s) => resolve([c, s]))),
      new Promise<void>((resolve, reject) => {
        out.on('error', reject).on('close', resolve);
        child.stdout.pipe(out);
      }),
    ]).then(([exit]) => exit);
    if (failure) throw new Error(failure);
    const last = stderr.trim().split('\n').pop() ?? '';
    let summary: Partial<Archived> & { error?: string };
    try {
      summary = JSON.parse(last) as typeof summary;
    } catch {
      throw new Error(`the archive's process ended with ${signal ?? code}: ${last.slice(0, 500)}`);
    }
    if (code !== 0 || summary.error || typeof summary.files !== 'number') throw new Error(summary.error ?? `the archive's process ended with ${signal ?? code}`);
    if (!summary.files) {
      fs.rmSync(part, { force: true });
      return { files: 0, bytes: 0, leftOut: 0 };
    }
    fs.renameSync(part, o.file);
    return { files: summary.files, bytes: fs.statSync(o.file).size, leftOut: summary.leftOut ?? 0 };
  } catch (e) {
    fs.rmSync(part, { force: true });
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
