/**
 * Puts a workshop into a student's home: its content folder (catalog/folders.ts: the public one,
 * or the overlay's where there is no public one) copied to ~/WKSHP-X, the original's templated
 * files rendered with the student's variables. Everything is built in a staging folder and renamed
 * into place at the end, so a template error leaves no half-deployed workshop behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { contentFiles, type WorkshopFolders } from '../catalog/folders.js';
import { checkNotebook } from './notebook-schema.js';
import { renderTemplate, TemplateError, type Variables } from './templating.js';

/** A rendered notebook that JupyterLab could not open fails the deployment, as lint said it would. */
function mustBeNotebook(text: string, file: string, source: string): void {
  const errors = checkNotebook(text, file, source).filter((p) => p.severity === 'error');
  if (errors.length) throw new TemplateError(file, errors[0].line, undefined, `is not a valid notebook once rendered: ${errors.map((p) => p.message).join('; ')}`);
}

export interface DeployOptions {
  folders: Pick<WorkshopFolders, 'content' | 'source'>;
  /** the student's home */
  home: string;
  /** WKSHP-X */
  folder: string;
  vars: Variables;
  /** names not copied (scripts `compile` turns into binaries: their source stays out of the home) */
  exclude?: string[];
}

/** Returns the deployed folder. On a template error nothing changes in the home and the error names the file; a link at the folder's place fails the rename. */
export function deployWorkshop(o: DeployOptions): string {
  const target = path.join(o.home, o.folder);
  // Built beside the home, in the homes' folder where students cannot write (0711, wod's), then
  // renamed in: a link planted in the home cannot send the writes elsewhere.
  const staging = path.join(path.dirname(o.home), `.wod-deploying-${path.basename(o.home)}-${o.folder}`);
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { mode: 0o700 });
  try {
    const { dirs, files } = contentFiles(o.folders);
    const excluded = new Set(o.exclude ?? []);
    for (const dir of dirs) fs.mkdirSync(path.join(staging, dir), { recursive: true });
    for (const f of files.filter((file) => !excluded.has(path.basename(file.rel)))) {
      const dst = path.join(staging, f.rel);
      if (!f.rendered) {
        fs.copyFileSync(f.abs, dst);
        continue;
      }
      const source = fs.readFileSync(f.abs, 'utf8');
      const text = renderTemplate(source, o.vars, f.rel);
      if (f.rel.endsWith('.ipynb')) mustBeNotebook(text, f.rel, source);
      fs.writeFileSync(dst, text);
    }
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(staging, target);
    return target;
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}

/**
 * JupyterLab's default workspace with the workshop's first notebook open and the file browser in
 * the workshop folder: what the student sees on arrival, whatever link brought them.
 */
export function writeWorkspace(home: string, folder: string): void {
  const notebook = `${folder}/0-ReadMeFirst.ipynb`;
  const dir = path.join(home, '.jupyter', 'lab', 'workspaces');
  fs.mkdirSync(dir, { recursive: true });
  const workspace = {
    data: {
      'layout-restorer:data': {
        main: { dock: { type: 'tab-area', currentIndex: 0, widgets: [`notebook:${notebook}`] }, current: `notebook:${notebook}` },
        left: { collapsed: false, current: 'filebrowser', widgets: ['filebrowser', 'running-sessions', 'table-of-contents'] },
        right: { collapsed: true, widgets: [] },
        relativeSizes: [0.2, 0.8, 0],
      },
      [`notebook:${notebook}`]: { data: { path: notebook, factory: 'Notebook' } },
      'file-browser-filebrowser:cwd': { path: folder },
    },
    metadata: { id: 'default' },
  };
  // never through a link left in the home
  const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(path.join(dir, 'default-37a8.jupyterlab-workspace'), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644);
  try {
    fs.writeFileSync(fd, JSON.stringify(workspace, null, 1));
  } finally {
    fs.closeSync(fd);
  }
}

/** Copies a skeleton folder (dotfiles, JupyterLab settings) into a home, leaving what exists. */
export function copySkeleton(skeleton: string, home: string): void {
  if (!fs.existsSync(skeleton)) return;
  fs.cpSync(skeleton, home, { recursive: true, force: false, errorOnExist: false });
}
