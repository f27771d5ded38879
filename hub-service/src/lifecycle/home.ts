/**
 * What the lifecycle does to a student's files, one set of verbs whatever the mode: CREATE prepares
 * an empty home with the skeleton and deploys the workshop into it, CLEANUP reads the notebooks
 * (completion, checks) and archives the work, CLEANUP, RESET and PURGE wipe it. `DiskHome` does it
 * on this machine's disk (local and system-users modes); `RemoteHome` (lifecycle/remote-home.ts)
 * through each student's Jupyter server, for a service that cannot see the homes.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { WorkshopFolders } from '../catalog/folders.js';
import type { WodConfig } from '../config/schema.js';
import { copySkeleton, deployWorkshop, writeWorkspace } from '../content/deploy.js';
import type { Variables } from '../content/templating.js';
import { writeLabLocale } from '../i18n/lab-locale.js';
import { ensureLocalAccount, type Ids, studentsRunAs } from '../isolation/student-side.js';
import { type Archived, archiveWork } from '../work/archive.js';
import type { DiskHost } from './host.js';

const run = promisify(execFile);

export interface Deployment {
  folders: Pick<WorkshopFolders, 'content' | 'source'>;
  /** WKSHP-X */
  folder: string;
  vars: Variables;
  /** names not deployed (the scripts `compile` turns into binaries) */
  exclude: string[];
  /** JupyterLab's language (`language.json`'s `jupyterlab`) */
  locale: string;
}

export interface WorkToArchive {
  workshopFolder: string;
  maxBytes: number;
  /** the zip to write (work/records.ts workFile) */
  file: string;
}

export interface StudentHome {
  /** the home on this machine, for hooks (STUDENT_HOME) and compiled scripts; null where the service cannot see it */
  localPath(student: string): string | null;
  /** CREATE: an empty home holding the skeleton, ready for the content */
  prepare(student: string, skeleton: string): Promise<void>;
  /** the workshop rendered for the student, with its workspace and JupyterLab language; returns where it went */
  deploy(student: string, d: Deployment): Promise<string>;
  /** the text of the notebooks of one folder of the home; none when there is no such folder */
  notebooks(student: string, folder: string): Promise<string[]>;
  /** the participant's work zipped into o.file (work/archive.ts): nothing written when there is none */
  archive(student: string, o: WorkToArchive): Promise<Archived>;
  /** CLEANUP, RESET, PURGE: an empty home, hidden entries and all */
  wipe(student: string): Promise<void>;
}

/** The workshop rendered into a home folder, with its JupyterLab workspace and language; returns the workshop's folder there. */
export function renderInto(home: string, d: Deployment): string {
  const target = deployWorkshop({ folders: d.folders, home, folder: d.folder, vars: d.vars, exclude: d.exclude });
  writeWorkspace(home, d.folder);
  writeLabLocale(home, d.locale);
  return target;
}

/** Whom the archive's child runs as: the student's account, the local mode's account, or (null) this process's user. */
export async function archiverIds(host: Pick<DiskHost, 'mode'>, students: WodConfig['students'], student: string): Promise<Ids | null> {
  if (host.mode === 'system-users') {
    const [u, g] = await Promise.all([run('id', ['-u', student]), run('id', ['-g', student])]);
    return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  const runAs = studentsRunAs(students);
  return runAs.kind === 'account' ? ensureLocalAccount(runAs.name) : null;
}

/** The homes on this machine's disk, written by the service itself (local and system-users modes). */
export class DiskHome implements StudentHome {
  constructor(
    private readonly host: DiskHost,
    private readonly students: WodConfig['students'],
  ) {}

  localPath(student: string): string {
    return this.host.home(student);
  }

  async prepare(student: string, skeleton: string): Promise<void> {
    await this.host.resetHome(student);
    copySkeleton(skeleton, this.host.home(student));
  }

  async deploy(student: string, d: Deployment): Promise<string> {
    const home = this.host.home(student);
    const target = renderInto(home, d);
    await this.host.chown(student, home);
    return target;
  }

  async notebooks(student: string, folder: string): Promise<string[]> {
    const dir = path.join(this.host.home(student), folder);
    return fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((f) => f.endsWith('.ipynb'))
          .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
      : [];
  }

  async archive(student: string, o: WorkToArchive): Promise<Archived> {
    const ids = await archiverIds(this.host, this.students, student);
    return archiveWork({ home: this.host.home(student), workshopFolder: o.workshopFolder, maxBytes: o.maxBytes, file: o.file, ids });
  }

  async wipe(student: string): Promise<void> {
    await this.host.resetHome(student);
  }
}
