/**
 * The data folder is wod's alone: databases (with their -wal and -shm), secrets, the outbox and
 * logs are never readable by students. Checked at every start: a database, log or mail found open
 * to others is closed (and said so); a secret found readable is refused, since it may have been read.
 */
import fs from 'node:fs';
import path from 'node:path';

const OPEN = 0o077;
const mode = (st: fs.Stats) => (st.mode & 0o777).toString(8).padStart(4, '0');

export class DataFolderError extends Error {}

/**
 * `traversable`: the students' homes live inside, so other accounts may pass through (0711) but
 * never list or read it. Returns what it had to close.
 */
export function secureDataFolder(dataDir: string, opts: { secrets: string; homeRoot: string; traversable: boolean }): string[] {
  const fixed: string[] = [];
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const close = (file: string, st: fs.Stats, to: number) => {
    if ((st.mode & 0o777) === to) return;
    fs.chmodSync(file, to);
    if (st.mode & OPEN & ~to) fixed.push(`${path.relative(dataDir, file) || dataDir} was open to others (${mode(st)}): now ${to.toString(8).padStart(4, '0')}`);
  };
  close(dataDir, fs.statSync(dataDir), opts.traversable ? 0o711 : 0o700);
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isSymbolicLink()) continue;
      const st = fs.statSync(file);
      if (file === opts.homeRoot) {
        close(file, st, 0o711); // each home inside is the student's own, 0700
      } else if (entry.isDirectory()) {
        close(file, st, st.mode & 0o700);
        walk(file);
      } else if (dir === opts.secrets && st.mode & OPEN) {
        throw new DataFolderError(
          `${file} is readable by others (${mode(st)}) and may have been read: remove it (a new secret is made at the next start) or, if you are sure nobody read it, chmod 600 it`,
        );
      } else if (entry.isFile()) {
        close(file, st, st.mode & 0o700);
      }
    }
  };
  walk(dataDir);
  return fixed;
}
