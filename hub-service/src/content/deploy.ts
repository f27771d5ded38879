/**
 * Puts a workshop into a student's home: the workshop folder (public, then the private overlay's
 * files over it) copied to ~/WKSHP-X, the template files rendered with the student's variables.
 * Everything is built in a staging folder and renamed into place at the end, so a template error
 * leaves no half-deployed workshop behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { renderTemplate, TEMPLATED, TemplateError, type Variables } from './templating.js';

/** Files of a workshop folder that are wod's, not the student's. */
const NOT_CONTENT = new Set(['wod.yml', 'vars.yml', 'create', 'post-copy', 'cleanup', 'reset', 'setup', '.git', '.ipynb_checkpoints']);

function copyTree(from: string, to: string, vars: Variables, rel = ''): void {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (!rel && NOT_CONTENT.has(entry.name)) continue;
    if (entry.name === '.ipynb_checkpoints' || entry.name.endsWith('-checkpoint.ipynb')) continue;
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    const relPath = path.join(rel, entry.name);
    if (entry.isDirectory()) {
      fs.mkdirSync(dst, { recursive: true });
      copyTree(src, dst, vars, relPath);
    } else if (entry.isFile()) {
      if (TEMPLATED.has(path.extname(entry.name).toLowerCase())) {
        const text = renderTemplate(fs.readFileSync(src, 'utf8'), vars, relPath);
        if (entry.name.endsWith('.ipynb')) checkNotebook(text, relPath);
        fs.writeFileSync(dst, text);
      } else {
        fs.copyFileSync(src, dst);
      }
    }
  }
}

function checkNotebook(text: string, file: string): void {
  try {
    JSON.parse(text);
  } catch (e) {
    throw new TemplateError(file, undefined, undefined, `is not a valid notebook once rendered: ${(e as Error).message}`);
  }
}

export interface DeployOptions {
  /** the workshop's folders, public first, then the overlay's (whose files win) */
  sources: string[];
  /** the student's home */
  home: string;
  /** WKSHP-X */
  folder: string;
  vars: Variables;
}

/** Returns the deployed folder. On a template error nothing changes in the home and the error names the file. */
export function deployWorkshop(o: DeployOptions): string {
  const target = path.join(o.home, o.folder);
  const staging = path.join(o.home, `.wod-deploying-${o.folder}`);
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  try {
    for (const source of o.sources) copyTree(source, staging, o.vars);
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
  fs.writeFileSync(path.join(dir, 'default-37a8.jupyterlab-workspace'), JSON.stringify(workspace, null, 1));
}

/** Copies a skeleton folder (dotfiles, JupyterLab settings) into a home, leaving what exists. */
export function copySkeleton(skeleton: string, home: string): void {
  if (!fs.existsSync(skeleton)) return;
  fs.cpSync(skeleton, home, { recursive: true, force: false, errorOnExist: false });
}
