/**
 * Where students live: their accounts and processes. `local`: every student runs as the user running wod (or,
 * when that is root, as one unprivileged account), with a home of their own. `system-users`: real Linux accounts studentN (uid/gid
 * uidBase + N) with 0700 homes they own, so that students cannot read each other's files. `remote`:
 * wherever the hub's spawner runs them; the service has no account to make and no process to see.
 * What the lifecycle does to the homes' files is lifecycle/home.ts.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { StudentMode } from '../config/schema.js';
import type { Ids } from '../isolation/student-side.js';
import { findProcesses, killAll } from './processes.js';

const run = promisify(execFile);

export interface StudentHost {
  readonly mode: StudentMode;
  /** the account exists (a no-op in local and remote mode) */
  ensureAccount(student: string, n: number): Promise<void>;
  /** stops every process of the student; returns how many there were */
  killProcesses(student: string): Promise<number>;
}

/** A host whose homes are on this machine's disk, where the service writes them itself. */
export interface DiskHost extends StudentHost {
  readonly mode: 'local' | 'system-users';
  home(student: string): string;
  /** an empty home, owned by the student, mode 0700 */
  resetHome(student: string): Promise<void>;
  /** gives a path inside the home to the student */
  chown(student: string, target: string): Promise<void>;
}

async function emptyDir(dir: string): Promise<void> {
  await fs.promises.rm(dir, { recursive: true, force: true });
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.promises.chmod(dir, 0o700);
}

export class LocalHost implements DiskHost {
  readonly mode = 'local';
  constructor(
    private readonly homeRoot: string,
    /** this hub's API URL: the processes of its students carry it */
    private readonly hubApiUrl: string,
    /** started as root: the unprivileged account every student runs as, which owns their homes */
    private readonly account: Ids | null = null,
  ) {}

  home(student: string): string {
    return path.join(this.homeRoot, student);
  }

  async ensureAccount(): Promise<void> {}

  async resetHome(student: string): Promise<void> {
    await fs.promises.mkdir(this.homeRoot, { recursive: true, mode: 0o711 });
    await fs.promises.chmod(this.homeRoot, 0o711);
    await emptyDir(this.home(student));
    if (this.account) await fs.promises.chown(this.home(student), this.account.uid, this.account.gid);
  }

  async chown(_student: string, target: string): Promise<void> {
    if (this.account) await run('chown', ['-R', `${this.account.uid}:${this.account.gid}`, target]);
  }

  async killProcesses(student: string): Promise<number> {
    const pids = findProcesses(this.hubApiUrl, `JUPYTERHUB_USER=${student}`);
    await killAll(pids, 'SIGTERM', 3_000);
    return pids.length;
  }
}

export class SystemUsersHost implements DiskHost {
  readonly mode = 'system-users';
  constructor(
    private readonly homeRoot: string,
    private readonly uidBase: number,
  ) {}

  home(student: string): string {
    return path.join(this.homeRoot, student);
  }

  private async ids(student: string): Promise<{ uid: number; gid: number }> {
    const { stdout } = await run('id', ['-u', student]);
    const { stdout: g } = await run('id', ['-g', student]);
    return { uid: Number(stdout.trim()), gid: Number(g.trim()) };
  }

  async ensureAccount(student: string, n: number): Promise<void> {
    try {
      await this.ids(student);
      return;
    } catch {
      /* not there yet */
    }
    const id = String(this.uidBase + n);
    await fs.promises.mkdir(this.homeRoot, { recursive: true, mode: 0o711 });
    await run('groupadd', ['-f', '-g', id, student]).catch(() => run('groupadd', ['-f', student]));
    // No password: students log in to the hub through wod, never to the machine.
    await run('useradd', ['-M', '-d', this.home(student), '-s', '/bin/bash', '-u', id, '-g', student, student]);
  }

  async resetHome(student: string): Promise<void> {
    const home = this.home(student);
    await emptyDir(home);
    const { uid, gid } = await this.ids(student);
    await fs.promises.chown(home, uid, gid);
  }

  async chown(student: string, target: string): Promise<void> {
    const { uid, gid } = await this.ids(student);
    await run('chown', ['-R', `${uid}:${gid}`, target]);
  }

  async killProcesses(student: string): Promise<number> {
    const pids = await run('pgrep', ['-u', student]).then(
      ({ stdout }) => stdout.split('\n').filter(Boolean).map(Number),
      () => [] as number[],
    );
    await killAll(pids, 'SIGTERM', 3_000);
    return pids.length;
  }
}

/**
 * Students wherever the hub's spawner runs them (another host, a Kubernetes pod): no account to
 * make, and their processes end with their server, which the hub stops (the `server-stopped` step).
 */
export class RemoteHost implements StudentHost {
  readonly mode = 'remote';

  async ensureAccount(): Promise<void> {}

  /** none to find here: they end with the server (the lifecycle's `server-stopped` step) */
  async killProcesses(): Promise<number> {
    return 0;
  }
}
