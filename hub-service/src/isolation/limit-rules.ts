/**
 * Per-student limits, the pure part: sizes as people write them (`1GiB`, `512M`, a number of bytes),
 * a workshop's `limits:` merged over the site's and capped by its maximum, which cgroup hierarchy
 * this host has (from /proc/self/mounts), and the files to write for a student's cgroup (v1: one
 * folder per controller; v2: one folder). The I/O is in limits.ts.
 */

/** What one student's processes may take together; null: no limit on that resource. */
export interface Limits {
  /** bytes of memory (RAM) */
  memoryBytes: number | null;
  /** bytes of swap on top of memoryBytes (v1: where memory.memsw exists; v2: memory.swap.max) */
  swapBytes: number | null;
  /** cores: 1 is one core's time (0.5 half of one, 2 two) */
  cpu: number | null;
  /** processes and threads at once */
  pids: number | null;
}

/** A workshop's `limits:` in wod.yml: only the keys it sets. */
export type WorkshopLimits = Partial<Pick<Limits, 'memoryBytes' | 'cpu' | 'pids'>>;

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** `1GiB`, `1.5G` (binary, as in Kubernetes' Gi and ulimit), `500MB` (decimal), `1073741824`; throws with the accepted forms. */
export function parseSize(value: unknown): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const m = text.match(/^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`'${String(value)}' is not a size: write a number of bytes or e.g. 512MiB, 2GiB`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new Error(`'${String(value)}' is too large`);
  return bytes;
}

/** 1073741824 → `1 GiB`, for logs and pages. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(2))} ${unit}`;
  }
  return `${bytes} B`;
}

/** A zero means "no limit" in the configuration. */
const orNone = (n: number) => (n > 0 ? n : null);

/**
 * A wod.yml `limits:` mapping (`memory: 2GiB`, `cpu: 0.5`, `pids: 256`, any key case); throws with
 * what is wrong and the keys allowed.
 */
export function parseWorkshopLimits(value: unknown): WorkshopLimits | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error('must be a mapping: memory, cpu, pids');
  const out: WorkshopLimits = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const k = key.toLowerCase();
    if (k === 'memory') out.memoryBytes = orNone(parseSize(v));
    else if (k === 'cpu') {
      const n = Number(v);
      if (typeof v === 'boolean' || v === null || v === '' || !Number.isFinite(n) || n < 0 || n > 1024)
        throw new Error(`cpu: '${String(v)}' is not a number of cores (e.g. 0.5, 1, 2)`);
      out.cpu = orNone(n);
    } else if (k === 'pids') {
      const n = Number(v);
      if (typeof v === 'boolean' || v === null || v === '' || !Number.isInteger(n) || n < 0 || n > 4_194_304)
        throw new Error(`pids: '${String(v)}' is not a whole number of processes`);
      out.pids = orNone(n);
    } else throw new Error(`unknown key '${key}': use memory, cpu, pids`);
  }
  return out;
}

/** The site's limits as configured (students.limits: zeros mean none). */
export interface SiteLimits {
  memory: number;
  swap: number;
  cpu: number;
  pids: number;
  /** the most a workshop may ask for (0: no maximum) */
  maxMemory: number;
  maxCpu: number;
  maxPids: number;
}

/** A workshop's limits over the site's, key by key, never above the site's maximum. */
export function effectiveLimits(site: SiteLimits, workshop: WorkshopLimits | null): Limits {
  const cap = (v: number | null, max: number): number | null => {
    if (max <= 0) return v;
    return v === null ? max : Math.min(v, max);
  };
  const pick = <K extends keyof WorkshopLimits>(k: K, siteValue: number) => (workshop && k in workshop ? (workshop[k] ?? null) : orNone(siteValue));
  return {
    memoryBytes: cap(pick('memoryBytes', site.memory), site.maxMemory),
    swapBytes: site.swap > 0 ? site.swap : 0,
    cpu: cap(pick('cpu', site.cpu), site.maxCpu),
    pids: cap(pick('pids', site.pids), site.maxPids),
  };
}

/** One line for a step log: `memory 1 GiB (no swap), cpu 1 core(s), pids 512`. */
export function describeLimits(l: Limits): string {
  const memory = l.memoryBytes === null ? 'memory unlimited' : `memory ${formatSize(l.memoryBytes)} (${l.swapBytes ? `+${formatSize(l.swapBytes)} swap` : 'no swap'})`;
  return `${memory}, cpu ${l.cpu === null ? 'unlimited' : `${l.cpu} core(s)`}, pids ${l.pids ?? 'unlimited'}`;
}

export type Controller = 'memory' | 'cpu' | 'pids';
export const CONTROLLERS: readonly Controller[] = ['memory', 'cpu', 'pids'];

/**
 * The cgroup hierarchy of this host. v1: a mount per controller (the ones found); v2: the unified
 * hierarchy mounted at `root` with the controllers it offers; none: why limits cannot be applied.
 */
export type CgroupLayout =
  | { version: 'v1'; mounts: Partial<Record<Controller, string>>; missing: Controller[] }
  | { version: 'v2'; root: string; missing: Controller[] }
  | { version: 'none'; reason: string };

/**
 * From /proc/self/mounts: v2 when the unified hierarchy is mounted where v1 controllers are not
 * (a pure-v2 host, `/sys/fs/cgroup` itself), v1 when any of memory, cpu, pids is mounted as v1 (a
 * hybrid host's empty `/sys/fs/cgroup/unified` does not count). `v2Controllers` is the content of
 * the unified root's cgroup.controllers, when there is one.
 */
export function cgroupLayout(mounts: string, v2Controllers: string | null): CgroupLayout {
  const v1: Partial<Record<Controller, string>> = {};
  let unified: string | null = null;
  for (const line of mounts.split('\n')) {
    const [, where, type, options = ''] = line.split(' ');
    if (type === 'cgroup2' && unified === null) unified = where;
    if (type !== 'cgroup') continue;
    const opts = options.split(',');
    for (const c of CONTROLLERS) if (opts.includes(c) && !v1[c]) v1[c] = where;
  }
  const found = CONTROLLERS.filter((c) => v1[c]);
  if (found.length) return { version: 'v1', mounts: v1, missing: CONTROLLERS.filter((c) => !v1[c]) };
  if (unified !== null && v2Controllers !== null) {
    const offered = v2Controllers.trim().split(/\s+/);
    const missing = CONTROLLERS.filter((c) => !offered.includes(c));
    if (missing.length < CONTROLLERS.length) return { version: 'v2', root: unified, missing };
    return { version: 'none', reason: `the cgroup v2 hierarchy at ${unified} offers none of memory, cpu, pids` };
  }
  return { version: 'none', reason: 'no cgroup controller (memory, cpu, pids) is mounted on this host' };
}

/** A file to write, in order: `path` absolute. */
export interface CgroupWrite {
  path: string;
  value: string;
}

/** cpu.cfs_period_us / cpu.max period: 100 ms, the kernel's default. */
export const CPU_PERIOD_US = 100_000;

/**
 * The folders of one student's cgroup (`group` is a relative path like `wod/1a2b3c4d/student3`):
 * one per controller on v1, one on v2.
 */
export function cgroupDirs(layout: CgroupLayout, group: string): string[] {
  if (layout.version === 'v1') return [...new Set(CONTROLLERS.filter((c) => layout.mounts[c]).map((c) => `${layout.mounts[c]}/${group}`))];
  if (layout.version === 'v2') return [`${layout.root}/${group}`];
  return [];
}

/**
 * What to write to give `group` these limits, in order, folders made first by the caller. v1:
 * memsw is opened first so that memory.limit_in_bytes may be set under it, then closed at memory +
 * swap; v2: the controllers enabled down the parents' cgroup.subtree_control first.
 */
export function cgroupWrites(layout: CgroupLayout, group: string, l: Limits, opts: { memsw: boolean }): CgroupWrite[] {
  const writes: CgroupWrite[] = [];
  const quota = l.cpu === null ? null : Math.max(1000, Math.round(l.cpu * CPU_PERIOD_US));
  if (layout.version === 'v1') {
    const { memory, cpu, pids } = layout.mounts;
    if (memory) {
      const dir = `${memory}/${group}`;
      if (opts.memsw) writes.push({ path: `${dir}/memory.memsw.limit_in_bytes`, value: '-1' });
      writes.push({ path: `${dir}/memory.limit_in_bytes`, value: l.memoryBytes === null ? '-1' : String(l.memoryBytes) });
      if (opts.memsw) writes.push({ path: `${dir}/memory.memsw.limit_in_bytes`, value: l.memoryBytes === null ? '-1' : String(l.memoryBytes + (l.swapBytes ?? 0)) });
    }
    if (cpu) {
      writes.push({ path: `${cpu}/${group}/cpu.cfs_period_us`, value: String(CPU_PERIOD_US) });
      writes.push({ path: `${cpu}/${group}/cpu.cfs_quota_us`, value: quota === null ? '-1' : String(quota) });
    }
    if (pids) writes.push({ path: `${pids}/${group}/pids.max`, value: l.pids === null ? 'max' : String(l.pids) });
    return writes;
  }
  if (layout.version === 'v2') {
    const offered = CONTROLLERS.filter((c) => !layout.missing.includes(c));
    const parts = group.split('/');
    for (let i = 0; i < parts.length; i++) {
      const parent = [layout.root, ...parts.slice(0, i)].join('/');
      writes.push({ path: `${parent}/cgroup.subtree_control`, value: offered.map((c) => `+${c}`).join(' ') });
    }
    const dir = `${layout.root}/${group}`;
    if (offered.includes('memory')) {
      writes.push({ path: `${dir}/memory.max`, value: l.memoryBytes === null ? 'max' : String(l.memoryBytes) });
      writes.push({ path: `${dir}/memory.swap.max`, value: l.memoryBytes === null ? 'max' : String(l.swapBytes ?? 0) });
    }
    if (offered.includes('cpu')) writes.push({ path: `${dir}/cpu.max`, value: `${quota === null ? 'max' : quota} ${CPU_PERIOD_US}` });
    if (offered.includes('pids')) writes.push({ path: `${dir}/pids.max`, value: l.pids === null ? 'max' : String(l.pids) });
  }
  return writes;
}
