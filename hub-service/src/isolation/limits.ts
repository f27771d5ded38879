/**
 * Per-student limits in `system-users` mode, the one owner of wod's cgroups: `wod/<site>/<student>`
 * in each controller (cgroup v1: memory, cpu, pids) or once in the unified hierarchy (v2), where
 * `<site>` names this data folder, so that two hubs on one host (or two test runs) never share a
 * group. CREATE prepares the student's group with the workshop's limits (`prepare`); the spawner
 * puts the student's server in it before it drops root (spawner-config/wod_spawner.py), and every
 * kernel and terminal it starts inherits it; CLEANUP, RESET and PURGE remove it once the processes
 * are stopped (`remove`), killing whatever is still inside.
 *
 * Where no controller is available the limits say why (`unavailable`) and do nothing: the service
 * warns at start and each CREATE's step log says so; the lifecycle never fails for it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { WodConfig } from '../config/schema.js';
import {
  type CgroupLayout,
  type CgroupWrite,
  cgroupDirs,
  cgroupLayout,
  cgroupWrites,
  describeLimits,
  effectiveLimits,
  type Limits,
  type SiteLimits,
  type WorkshopLimits,
} from './limit-rules.js';

/** This host's cgroup hierarchy, read from /proc/self/mounts. */
export function detectCgroups(mountsFile = '/proc/self/mounts'): CgroupLayout {
  let mounts: string;
  try {
    mounts = fs.readFileSync(mountsFile, 'utf8');
  } catch {
    return { version: 'none', reason: `${mountsFile} cannot be read` };
  }
  const unified = mounts
    .split('\n')
    .find((l) => l.split(' ')[2] === 'cgroup2')
    ?.split(' ')[1];
  let controllers: string | null = null;
  try {
    if (unified) controllers = fs.readFileSync(path.join(unified, 'cgroup.controllers'), 'utf8');
  } catch {
    /* no controllers file */
  }
  return cgroupLayout(mounts, controllers);
}

/** `wod/<8 hex of the data folder>`: the parent of this hub's student groups. */
export function siteGroup(dataDir: string): string {
  return `wod/${crypto.createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 8)}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StudentLimits {
  constructor(
    readonly layout: CgroupLayout,
    /** e.g. wod/1a2b3c4d */
    readonly parent: string,
    private readonly site: SiteLimits,
    private readonly euid = process.geteuid?.() ?? 0,
  ) {}

  /** null when limits are applied; else why not, in a sentence for the operator */
  get unavailable(): string | null {
    if (this.layout.version === 'none') return `${this.layout.reason}: students' processes are not limited`;
    if (this.euid !== 0) return 'wod does not run as root: students’ processes are not limited';
    return null;
  }

  /** what is applied, for the start log and `wod limits` */
  describe(): string {
    const why = this.unavailable;
    if (why) return why;
    const l = this.layout as Exclude<CgroupLayout, { version: 'none' }>;
    const missing = l.missing.length ? ` (no ${l.missing.join(', ')} controller: not limited)` : '';
    return `cgroup ${l.version} under ${cgroupDirs(l, this.parent).join(', ')}${missing}; site defaults ${describeLimits(effectiveLimits(this.site, null))}`;
  }

  group(student: string): string {
    return `${this.parent}/${student}`;
  }

  /** the student's cgroup folders; `{username}` for the student's name gives the spawner's templates */
  dirs(student: string): string[] {
    return this.unavailable ? [] : cgroupDirs(this.layout, this.group(student));
  }

  /** the limits a student of this workshop gets */
  limitsFor(workshop: WorkshopLimits | null): Limits {
    return effectiveLimits(this.site, workshop);
  }

  /** The writes that give a student's group these limits (the spawner replays the site's when a group is missing). */
  writes(student: string, limits: Limits) {
    const memsw = this.layout.version === 'v1' && !!this.layout.mounts.memory && fs.existsSync(path.join(this.layout.mounts.memory, 'memory.memsw.limit_in_bytes'));
    return cgroupWrites(this.layout, this.group(student), limits, { memsw });
  }

  /** Makes (or updates) the student's group with the workshop's limits; returns the step's log line. */
  prepare(student: string, workshop: WorkshopLimits | null): string {
    const why = this.unavailable;
    if (why) return why;
    const limits = this.limitsFor(workshop);
    for (const dir of this.dirs(student)) fs.mkdirSync(dir, { recursive: true });
    for (const w of this.writes(student, limits)) {
      try {
        fs.writeFileSync(w.path, w.value);
      } catch (e) {
        // swap accounting is off on this kernel: no swap file to cap, memory alone is
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' && w.path.endsWith('memory.swap.max')) continue;
        throw new Error(`cannot write ${w.value} to ${w.path}: ${(e as Error).message}`, { cause: e });
      }
    }
    return `${describeLimits(limits)} in ${this.dirs(student).join(', ')}`;
  }

  /** the processes in the student's group (each controller's, v1) */
  processes(student: string): number[] {
    const pids = new Set<number>();
    for (const dir of this.dirs(student)) {
      try {
        for (const p of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
      } catch {
        /* no group */
      }
    }
    return [...pids];
  }

  /**
   * Removes the student's group after its processes were stopped: whatever is left inside (a fork
   * bomb's children, a daemon) is killed first. Returns the step's log line; throws when the group
   * stays busy after 10 s, so that the job retries.
   */
  async remove(student: string): Promise<string> {
    const why = this.unavailable;
    if (why) return why;
    const dirs = this.dirs(student).filter((d) => fs.existsSync(d));
    if (!dirs.length) return `no cgroup for ${student}`;
    let killed = 0;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const left = this.processes(student);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
          killed++;
        } catch {
          /* gone */
        }
      }
      const busy: string[] = [];
      for (const dir of dirs) {
        try {
          await fs.promises.rmdir(dir);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT') busy.push(dir);
        }
      }
      if (!busy.length) break;
      if (Date.now() > deadline) throw new Error(`cgroup of ${student} still busy after 10 s: ${busy.join(', ')}`);
      await sleep(100);
    }
    return `cgroup of ${student} removed${killed ? ` (${killed} process(es) left in it killed)` : ''}`;
  }
}

/**
 * After everything this hub started has stopped (`wod start`'s end): the empty groups of its
 * students and its own parent are removed; a group still holding a process stays. Returns how many
 * folders were removed.
 */
export function pruneGroups(limits: StudentLimits): number {
  if (limits.unavailable) return 0;
  let removed = 0;
  for (const parent of cgroupDirs(limits.layout, limits.parent)) {
    let children: string[];
    try {
      children = fs
        .readdirSync(parent, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => path.join(parent, d.name));
    } catch {
      continue; // none made
    }
    for (const dir of [...children, parent]) {
      try {
        fs.rmdirSync(dir);
        removed++;
      } catch {
        /* still holds a process */
      }
    }
  }
  return removed;
}

/** The students' limits of this configuration, on this host's cgroups. */
export function studentLimits(config: Pick<WodConfig, 'dataDir' | 'students'>, layout: CgroupLayout = detectCgroups()): StudentLimits {
  return new StudentLimits(layout, siteGroup(config.dataDir), config.students.limits);
}

/**
 * What the spawner needs (spawner-config/wod_spawner.py), with `{username}` for the student: the
 * folders whose cgroup.procs the server joins before it drops root, and the writes that make a group
 * with the site's limits when CREATE's is missing (after a reboot); null where nothing is limited.
 */
export function spawnerLimits(config: Pick<WodConfig, 'dataDir' | 'students'>, layout?: CgroupLayout): { dirs: string[]; siteWrites: CgroupWrite[] } | null {
  if (config.students.mode !== 'system-users') return null;
  const limits = studentLimits(config, layout);
  if (limits.unavailable) return null;
  const student = '{username}';
  return { dirs: limits.dirs(student), siteWrites: limits.writes(student, limits.limitsFor(null)) };
}
