/**
 * What a participant keeps of their workshop: at CLEANUP, before the home is wiped, its files are
 * zipped into the data folder (work/<registration id>.zip, 0600, in a 0700 folder).
 *
 * The rule: every regular file of the home, the workshop's folder first, except what is the
 * environment rather than the work: hidden names (.cache, .local, .jupyter, .ipython, .venv, dotfiles),
 * .ipynb_checkpoints, __pycache__, node_modules and any folder holding a pyvenv.cfg (a venv, whatever its
 * name). In system-users mode the home is the student's: links are never followed (one to /etc/passwd
 * stays out), files are opened with O_NOFOLLOW and checked regular on the open descriptor, and the
 * student's processes are stopped before the step runs, so nothing changes under it. A name with a
 * backslash or a drive letter stays out (unzipped elsewhere it could land outside its folder). What would pass
 * participants.workMaxBytes is left out, and NOT-INCLUDED.txt in the zip says what and why.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ZipFile } from 'yazl';

/** The note the zip carries when something was left out. */
export const LEFT_OUT_NOTE = 'NOT-INCLUDED.txt';

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

const isVenv = (dir: string) => fs.existsSync(path.join(dir, 'pyvenv.cfg'));

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
  const walk = (dir: string, rel: string) => {
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
      const abs = path.join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.name.startsWith('.') || NOT_WORK.has(e.name)) continue;
      // unzip tools read a backslash or a drive letter as a path: `..\..\x` would land outside the folder it is unzipped in
      if (e.name.includes('\\') || /^[a-zA-Z]:/.test(r)) leftOut.push({ rel: r, why: 'a name unzip tools would read as a path' });
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

/** A file's bytes through a descriptor that is no link and a regular file; null when it is not (changed since it was listed). */
function readRegular(abs: string, maxSize: number): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > maxSize) return null;
    return fs.readFileSync(fd);
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

/**
 * Zips the work of a home into `file` (written beside it, then renamed: a crash leaves no half zip
 * under the final name). Nothing to keep: no file is written and files is 0.
 */
export async function archiveWork(o: { home: string; workshopFolder: string; maxBytes: number; file: string }): Promise<Archived> {
  const found = collectWork(o.home, o.workshopFolder);
  const capped = withinCap(found.files, o.maxBytes);
  const leftOut = [...found.leftOut, ...capped.leftOut];
  const zip = new ZipFile();
  let files = 0;
  for (const f of capped.files) {
    const bytes = readRegular(f.abs, f.size);
    if (!bytes) {
      leftOut.push({ rel: f.rel, why: 'could not be read, or changed while it was archived' });
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
  fs.mkdirSync(path.dirname(o.file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(o.file), 0o700);
  const part = `${o.file}.part`;
  await new Promise<void>((resolve, reject) => {
    const out = fs.createWriteStream(part, { mode: 0o600 });
    out.on('error', reject).on('close', resolve);
    zip.outputStream.on('error', reject).pipe(out);
  });
  fs.renameSync(part, o.file);
  return { files, bytes: fs.statSync(o.file).size, leftOut: leftOut.length };
}
