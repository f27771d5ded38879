/**
 * The work archive of remote mode: the same rule as work/archive.ts (hidden names, checkpoints,
 * __pycache__, node_modules and venvs left out, the workshop's folder first, participants.workMaxBytes,
 * the NOT-INCLUDED.txt note), the home walked and read through the student's own server (hub/contents.ts).
 * That server is the participant's and is not trusted: every name it lists is checked (a plain name,
 * no `/`, `..` or NUL: hub/contents.ts childPath) before it becomes a path asked for or a zip entry,
 * each file read is cut off past the size it was listed with, and a file whose length then differs is
 * left out. What the contents API cannot tell (a link from what it points to, a file's owner), it does not check.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type ContentsClient, type ContentsEntry, isPlainName } from '../hub/contents.js';
import {
  type Archived,
  type Candidate,
  type Collected,
  isNotWork,
  type LeftOut,
  MAX_ENTRIES,
  unzipsElsewhere,
  UNZIPS_ELSEWHERE,
  VENV_MARK,
  withinCap,
  writeZip,
} from './archive.js';

/** The work found in a home through the contents API, by archive.ts's rule, the workshop's folder first; reads no file's content. */
export async function collectRemoteWork(contents: Pick<ContentsClient, 'list'>, student: string, workshopFolder: string): Promise<Collected> {
  const files: Candidate[] = [];
  const leftOut: LeftOut[] = [];
  let seen = 0;
  let stopped = false;
  const walk = async (rel: string, entries: ContentsEntry[]) => {
    if (stopped) return;
    entries.sort((a, b) => a.name.localeCompare(b.name));
    if (!rel) entries.sort((a, b) => Number(b.name === workshopFolder) - Number(a.name === workshopFolder));
    for (const e of entries) {
      if (++seen > MAX_ENTRIES) {
        stopped = true;
        return void leftOut.push({ rel: rel ? `${rel}/${e.name}` : e.name, why: `and everything after it: the archive looks at ${MAX_ENTRIES} entries at most` });
      }
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (isNotWork(e.name)) continue;
      if (!isPlainName(e.name) || unzipsElsewhere(e.name, r)) leftOut.push({ rel: r, why: UNZIPS_ELSEWHERE });
      else if (e.type === 'directory') {
        const inside = (await contents.list(student, r)) ?? [];
        if (!inside.some((x) => x.name === VENV_MARK && x.type !== 'directory')) await walk(r, inside);
      } else if (e.size === null) leftOut.push({ rel: r, why: 'could not be read' });
      else files.push({ rel: r, abs: r, size: e.size });
    }
  };
  await walk('', (await contents.list(student, '')) ?? []);
  return { files, leftOut };
}

/**
 * Zips the work of a student's home into `file` (written beside it, then renamed), reading each
 * file through the student's server; a file whose size changed since it was listed is left out.
 * Nothing to keep: no file is written and files is 0.
 */
export async function archiveRemoteWork(
  contents: Pick<ContentsClient, 'list' | 'read'>,
  student: string,
  o: { workshopFolder: string; maxBytes: number; file: string },
): Promise<Archived> {
  const found = await collectRemoteWork(contents, student, o.workshopFolder);
  const capped = withinCap(found.files, o.maxBytes);
  fs.mkdirSync(path.dirname(o.file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(o.file), 0o700);
  const part = `${o.file}.part`;
  const out = fs.createWriteStream(part, { mode: 0o600 });
  try {
    const read = async (f: Candidate) => {
      const bytes = await contents.read(student, f.abs, f.size);
      return bytes && bytes.length === f.size ? bytes : null;
    };
    const made = await writeZip(capped.files, [...found.leftOut, ...capped.leftOut], read, out);
    await new Promise<void>((resolve, reject) => out.on('error', reject).end(resolve));
    if (!made.files) {
      fs.rmSync(part, { force: true });
      return { files: 0, bytes: 0, leftOut: 0 };
    }
    fs.renameSync(part, o.file);
    return { ...made, bytes: fs.statSync(o.file).size };
  } catch (e) {
    out.destroy();
    fs.rmSync(part, { force: true });
    throw e;
  }
}
