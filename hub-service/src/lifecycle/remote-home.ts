/**
 * The homes of remote mode, which the service never sees: every file operation goes through the
 * student's own Jupyter server (hub/contents.ts), started by the hub when one is needed. The
 * servers must be started with the options spawner-config/jupyterhub_config.py gives them in remote
 * mode: hidden entries served and deleted (`--ContentsManager.allow_hidden=True`, no `hide_globs`),
 * deletes that remove folders whole rather than move them to a trash (`--FileContentsManager.delete_to_trash=False`,
 * `--FileContentsManager.always_delete_dir=True`), and their runtime files (JUPYTER_RUNTIME_DIR)
 * outside the home, so that wiping the home does not pull the running server's own files away.
 *
 * The content is rendered as on a disk (content/deploy.ts: templates, exclusions, the workspace, the
 * JupyterLab language) into a private temporary folder, uploaded, and the folder removed. It goes
 * into a home this job has just wiped (or a warm seat's, wiped and not handed over yet; its tokens
 * revoked by the wipe), written by the student's own server with the student's own rights: a link
 * could take a write nowhere the student could not write anyway.
 *
 * That server is the participant's and may run their code: each operation calls it with a token
 * minted for it (the student's own, for their server only, short-lived) and revoked when it ends,
 * never with the service's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { childPath, type ContentsClient } from '../hub/contents.js';
import type { HubClient, HubServer } from '../hub/client.js';
import type { Archived } from '../work/archive.js';
import { archiveRemoteWork } from '../work/remote.js';
import { type Deployment, renderInto, type StudentHome, type WorkToArchive } from './home.js';

/** The folder jupyter_server keeps notebooks' checkpoints in, beside them. */
const CHECKPOINTS = '.ipynb_checkpoints';
/** Files uploaded at once to one server. */
const UPLOADS_AT_ONCE = 8;
/**
 * The user options of a server the service starts for its own work: nothing of the home loaded (no
 * user site, no ~/.jupyter, no ~/.local/share/jupyter), so that a participant's planted config or
 * .pth does not run in it (spawner-config/jupyterhub_config.py, wod_spawner.maintenance_environment).
 */
export const MAINTENANCE = { wod_maintenance: true };
/** A server started with MAINTENANCE, not the participant's normal one. */
export const isMaintenance = (server: HubServer | null): boolean => server?.user_options?.wod_maintenance === true;
/** How long a token given to a student's server lives, in s: one operation's length, revoked at its end anyway. */
const SERVER_TOKEN_SECONDS = 600;

/** A local folder's tree: its folders (each after the one holding it) and files, paths relative with /; links left out. */
export function localTree(root: string): { dirs: string[]; files: string[] } {
  const dirs: string[] = [];
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        dirs.push(r);
        walk(r);
      } else if (e.isFile()) files.push(r);
    }
  };
  if (fs.existsSync(root)) walk('');
  return { dirs, files };
}

export class RemoteHome implements StudentHome {
  constructor(
    private readonly hub: HubClient,
    private readonly contents: ContentsClient,
    /** lifecycle.serverTimeout, in ms */
    private readonly serverTimeoutMs: number,
  ) {}

  localPath(): null {
    return null;
  }

  async prepare(student: string, skeleton: string): Promise<void> {
    await this.withAccess(student, async () => {
      await this.empty(student);
      await this.upload(student, skeleton);
    });
  }

  async deploy(student: string, d: Deployment): Promise<string> {
    // mkdtemp makes it 0700: the rendered content (the password, with varpass) stays the service's until uploaded
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-deploy-'));
    try {
      const home = path.join(staging, 'home');
      fs.mkdirSync(home, { mode: 0o700 });
      renderInto(home, d);
      await this.withAccess(student, async () => {
        await this.running(student);
        // as on a disk: the workshop's folder replaced whole, not merged with what a first attempt left
        await this.contents.remove(student, d.folder);
        await this.upload(student, home);
      });
      return `${student}:~/${d.folder}`;
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }

  async notebooks(student: string, folder: string): Promise<string[]> {
    return this.withAccess(student, async () => {
      await this.running(student);
      const entries = (await this.contents.list(student, folder)) ?? [];
      const texts: string[] = [];
      for (const e of entries.filter((x) => x.name.endsWith('.ipynb') && x.type !== 'directory')) {
        const bytes = await this.contents.read(student, childPath(folder, e.name), e.size ?? undefined);
        if (bytes) texts.push(bytes.toString('utf8'));
      }
      return texts;
    });
  }

  async archive(student: string, o: WorkToArchive): Promise<Archived> {
    return this.withAccess(student, async () => {
      await this.running(student);
      return archiveRemoteWork(this.contents, student, o);
    });
  }

  /**
   * Started to be emptied, then stopped: nothing of the participant is left, no process either. The
   * student's tokens revoked again once it is stopped: the archive's start came after the lock's revocation.
   */
  async wipe(student: string): Promise<void> {
    await this.withAccess(student, async () => {
      await this.empty(student);
      await this.hub.stopServer(student);
      await this.hub.waitForStopped(student, 60_000);
      await this.hub.revokeAllTokens(student);
    });
  }

  /** `run` with the student's server reachable by a token of its own, revoked when it ends. */
  private async withAccess<T>(student: string, run: () => Promise<T>): Promise<T> {
    await this.hub.ensureUser(student);
    const { id, token } = await this.hub.serverToken(student, SERVER_TOKEN_SECONDS, `wod: files of ${student}`);
    this.contents.grant(student, token);
    try {
      return await run();
    } finally {
      this.contents.forget(student);
      await this.hub.revokeToken(student, id);
    }
  }

  /**
   * The student's server running (its hub user made by withAccess: a PURGE may come before any CREATE
   * did). One started here is a maintenance server (MAINTENANCE), which CREATE's `server` step
   * restarts as a normal one before the participant gets it.
   */
  private async running(student: string): Promise<void> {
    const server = await this.hub.getServer(student);
    if (server?.ready) return;
    await this.hub.startServer(student, MAINTENANCE);
    await this.hub.waitForServer(student, this.serverTimeoutMs);
  }

  /**
   * Every entry of the home deleted, hidden ones too; checked by listing it again. The server makes
   * its checkpoints folder again after each delete (jupyter_server's FileCheckpoints): it goes last,
   * and an empty one is all that may stay.
   */
  private async empty(student: string): Promise<void> {
    await this.running(student);
    const entries = (await this.contents.list(student, '')) ?? [];
    entries.sort((a, b) => Number(a.name === CHECKPOINTS) - Number(b.name === CHECKPOINTS));
    for (const e of entries) await this.contents.remove(student, childPath('', e.name));
    const left = [];
    for (const e of (await this.contents.list(student, '')) ?? [])
      if (e.name !== CHECKPOINTS || e.type !== 'directory' || (await this.contents.list(student, CHECKPOINTS))?.length) left.push(e);
    if (left.length)
      throw new Error(
        `the home of ${student} still holds ${left.map((e) => e.name).join(', ')} once wiped: its server must allow deletes (spawner-config/jupyterhub_config.py, remote mode)`,
      );
  }

  /** A local tree into the home: folders first, then the files, a few at a time. */
  private async upload(student: string, root: string): Promise<void> {
    const { dirs, files } = localTree(root);
    for (const dir of dirs) await this.contents.makeFolder(student, dir);
    for (let i = 0; i < files.length; i += UPLOADS_AT_ONCE)
      await Promise.all(files.slice(i, i + UPLOADS_AT_ONCE).map((f) => this.contents.write(student, f, fs.readFileSync(path.join(root, f)))));
  }
}
