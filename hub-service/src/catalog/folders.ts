/**
 * Where a workshop's parts are, by the original backend's rule, the one rule import, lint and
 * deployment all use: its content comes from the public folder, or from the private overlay only
 * where no public folder exists (the original's copy_folder.yml); a private `wod.yml` or `vars.yml`
 * overrides the public one field by field. Which files of the content are rendered follows from
 * where the content comes from (the original's two `find` patterns).
 */
import fs from 'node:fs';
import path from 'node:path';
import { WORKSHOP_FOLDER } from './spec.js';

export type Source = 'public' | 'overlay';

export interface WorkshopFolders {
  folder: string;
  /** the folder the content (notebooks, files, hooks) comes from */
  content: string;
  source: Source;
  /** the wod.yml files, public first, then the overlay's that overrides it */
  specs: string[];
  /** the vars.yml files, in the same order */
  vars: string[];
}

export interface WorkshopRoots {
  dir: string;
  overlayDir?: string;
}

const isDir = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
const isFile = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;

/** The parts of one workshop, or null when neither root has a folder with a wod.yml for it. */
export function workshopFolders(roots: WorkshopRoots, folder: string): WorkshopFolders | null {
  const pub = path.join(roots.dir, folder);
  const priv = roots.overlayDir ? path.join(roots.overlayDir, folder) : null;
  const layers = [pub, ...(priv ? [priv] : [])].filter(isDir);
  const specs = layers.map((d) => path.join(d, 'wod.yml')).filter(isFile);
  if (!specs.length) return null;
  const content = isDir(pub) ? pub : priv!;
  return { folder, content, source: content === pub ? 'public' : 'overlay', specs, vars: layers.map((d) => path.join(d, 'vars.yml')).filter(isFile) };
}

/** Every workshop folder of both roots (a name either holds), sorted. */
export function listWorkshopFolders(roots: WorkshopRoots): string[] {
  const names = new Set<string>();
  for (const root of [roots.dir, roots.overlayDir]) {
    if (!root || !isDir(root)) continue;
    for (const entry of fs.readdirSync(root, { withFileTypes: true })) if (entry.isDirectory() && WORKSHOP_FOLDER.test(entry.name)) names.add(entry.name);
  }
  return [...names].sort((a, b) => a.localeCompare(b));
}

/** Files of a workshop folder that are wod's, not the student's (`solutions/` is for `wod workshops test` only: authoring/solutions.ts). */
const NOT_CONTENT = new Set(['wod.yml', 'vars.yml', 'create', 'post-copy', 'cleanup', 'reset', 'setup', 'solutions', '.git', '.ipynb_checkpoints']);

/**
 * The original's templated files: the public folder's `*.ipynb *.yaml *.py *.sh *.src *.tf *.env
 * Variables.ps1`, the overlay's `*.ipynb *.yaml *.py *.sh *.src Variables.ps1`; never a checkpoint.
 * Everything else (.yml, .md, .txt, images…) is copied as it is.
 */
const RENDERED: Record<Source, Set<string>> = {
  public: new Set(['.ipynb', '.yaml', '.py', '.sh', '.src', '.tf', '.env']),
  overlay: new Set(['.ipynb', '.yaml', '.py', '.sh', '.src']),
};

export function isRendered(name: string, source: Source): boolean {
  return name === 'Variables.ps1' || RENDERED[source].has(path.extname(name).toLowerCase());
}

export interface ContentFile {
  /** path inside the workshop folder */
  rel: string;
  abs: string;
  rendered: boolean;
}

/** What deployment puts in a student's home, in a stable order: directories first as met, then files. */
export function contentFiles(f: Pick<WorkshopFolders, 'content' | 'source'>): { dirs: string[]; files: ContentFile[] } {
  const dirs: string[] = [];
  const files: ContentFile[] = [];
  const walk = (from: string, rel: string) => {
    for (const entry of fs.readdirSync(from, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!rel && NOT_CONTENT.has(entry.name)) continue;
      if (entry.name === '.ipynb_checkpoints' || entry.name.endsWith('-checkpoint.ipynb')) continue;
      const relPath = path.join(rel, entry.name);
      const abs = path.join(from, entry.name);
      if (entry.isDirectory()) {
        dirs.push(relPath);
        walk(abs, relPath);
      } else if (entry.isFile()) {
        files.push({ rel: relPath, abs, rendered: isRendered(entry.name, f.source) });
      }
    }
  };
  walk(f.content, '');
  return { dirs, files };
}
