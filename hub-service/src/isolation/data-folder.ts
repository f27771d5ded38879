/**
 * The data folder is wod's alone: databases (with their -wal and -shm), secrets, the outbox and
 * logs are never readable by students. Checked at every start: a database, log or mail found open
 * to others is closed (and said so); a secret found readable is refused, since it may have been read.
 * `wod doctor` reads the same findings and changes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WodConfig } from '../config/schema.js';
import { dataPaths } from '../config/paths.js';
import { studentsRunAs } from './student-side.js';

const OPEN = 0o077;
export const modeText = (m: number) => (m & 0o777).toString(8).padStart(4, '0');

export class DataFolderError extends Error {}

export interface DataFolderRules {
  secrets: string;
  homeRoot: string;
  /** the students' homes live inside, so other accounts may pass through (0711) but never list or read it */
  traversable: boolean;
}

/** The rules for this configuration: homes inside the data folder make it traversable, unless students run as wod itself. */
export function dataFolderRules(config: Pick<WodConfig, 'dataDir' | 'projectRoot' | 'students'>): DataFolderRules {
  const homesInside = path.dirname(config.students.homeRoot) === config.dataDir;
  return { secrets: dataPaths(config).secrets, homeRoot: config.students.homeRoot, traversable: homesInside && studentsRunAs(config.students).kind !== 'self' };
}

/** A file or folder whose mode is not what the rules want. */
export interface ModeFinding {
  file: string;
  mode: number;
  want: number;
  /** open to others where the rules want it closed (not merely tighter than needed) */
  open: boolean;
  /** a secret readable by others: closing it is not enough, it may have been read */
  exposedSecret: boolean;
}

/** What differs from the rules, in walking order; changes nothing. */
export function dataFolderFindings(dataDir: string, rules: DataFolderRules): ModeFinding[] {
  const found: ModeFinding[] = [];
  const check = (file: string, st: fs.Stats, want: number, secret = false) => {
    const mode = st.mode & 0o777;
    if (mode !== want) found.push({ file, mode, want, open: !!(mode & OPEN & ~want), exposedSecret: secret });
  };
  check(dataDir, fs.statSync(dataDir), rules.traversable ? 0o711 : 0o700);
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isSymbolicLink()) continue;
      const st = statIfThere(file);
      if (!st) continue;
      if (file === rules.homeRoot) {
        check(file, st, 0o711); // each home inside is the student's own, 0700
      } else if (entry.isDirectory()) {
        check(file, st, st.mode & 0o700);
        walk(file);
      } else if (dir === rules.secrets && st.mode & OPEN) {
        check(file, st, st.mode & 0o700, true);
      } else if (entry.isFile()) {
        check(file, st, st.mode & 0o700);
      }
    }
  };
  walk(dataDir);
  return found;
}

/** A running service renames and removes files (mails, -shm) while the doctor reads: gone is not a finding. */
function statIfThere(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Makes the data folder private by the rules. Returns what it had to close. */
export function secureDataFolder(dataDir: string, rules: DataFolderRules): string[] {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const fixed: string[] = [];
  for (const f of dataFolderFindings(dataDir, rules)) {
    if (f.exposedSecret) {
      throw new DataFolderError(
        `${f.file} is readable by others (${modeText(f.mode)}) and may have been read: remove it (a new secret is made at the next start) or, if you are sure nobody read it, chmod 600 it`,
      );
    }
    fs.chmodSync(f.file, f.want);
    if (f.open) fixed.push(`${path.relative(dataDir, f.file) || dataDir} was open to others (${modeText(f.mode)}): now ${modeText(f.want)}`);
  }
  return fixed;
}
