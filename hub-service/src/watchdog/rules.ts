/**
 * The process watchdog's rules, pure: given what /proc said about one student's process now, what
 * it said at the previous scan, and the student's workshop, is the process left alone, interrupted
 * or stopped? Three rules, checked in this order:
 *
 * - `miner`: its name (comm), its program (argv[0]) or the script an interpreter runs (argv[1]) is a
 *   known miner, or a miner's name followed by a version or suffix (`xmrig-6.21`, `cpuminer-opt`).
 * - `stale-kernel`: a Jupyter kernel older than the workshop, i.e. started before the student's
 *   current registration was made (a previous holder's, or one started while the seat was being
 *   prepared), or still running after that registration's deadline and end grace (CLEANUP is
 *   late, failed or paused). A student holding no registration has no workshop to outlive: no rule.
 * - `cpu`: at least `cpuPercent` of one core, scan after scan, for `cpuMinutes` or more, unless the
 *   process is in the allowed list (the student's own single-user server). A kernel is interrupted
 *   first (SIGINT, JupyterLab's ■ button: the endless cell stops, the variables stay); a kernel
 *   still burning `cpuMinutes` after that interrupt is stopped like any other process.
 */

export interface ProcReading {
  pid: number;
  student: string;
  /** /proc/<pid>/comm: at most 15 characters */
  name: string;
  argv: string[];
  /** utime + stime, in seconds */
  cpuSeconds: number;
  /** when the process started (ms since the epoch) */
  startedAt: number;
}

/** What the watchdog remembers of a process between scans. */
export interface Tracked {
  startedAt: number;
  cpuSeconds: number;
  seenAt: number;
  /** start of the current run of scans at or above cpuPercent; null when below */
  busySince: number | null;
  /** when it was interrupted (kernels), if it was */
  interruptedAt: number | null;
}

export interface WatchdogRules {
  miners: string[];
  allowed: string[];
  cpuPercent: number;
  cpuMinutes: number;
}

/** The student's current registration, as far as the rules need it. */
export interface StudentWorkshop {
  /** when the registration was made (ms) */
  createdAt: number;
  /** deadline plus end grace (ms); null while not running yet */
  closesAt: number | null;
}

export type Rule = 'miner' | 'stale-kernel' | 'cpu';

export interface Verdict {
  action: 'stop' | 'interrupt';
  rule: Rule;
  /** one line for the audit and the admins */
  why: string;
  /** the same for the student, in their language: `mail.watchdog.why.<key>` with these values */
  reason: { key: 'miner' | 'kernelBefore' | 'kernelAfter' | 'cpu'; vars: Record<string, string | number> };
  /** the CPU share over the last interval (% of one core) */
  cpuPercent: number;
}

/** Identifies a process across scans: a pid reused by another process is another process. */
export const processKey = (r: Pick<ProcReading, 'pid' | 'startedAt'>) => `${r.pid}:${r.startedAt}`;

const INTERPRETER = /^(python[\d.]*|node|nodejs|perl|ruby|php|java|bash|sh|dash|zsh)$/;
const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** The names a process goes by: comm, argv[0], and the script or `-m` module when argv[0] is an interpreter. */
export function namesOf(r: Pick<ProcReading, 'name' | 'argv'>): string[] {
  const names = [r.name];
  if (r.argv[0]) names.push(basename(r.argv[0]));
  if (r.argv[1] && INTERPRETER.test(basename(r.argv[0] ?? ''))) {
    const script = r.argv[1] === '-m' ? r.argv[2] : r.argv[1];
    // `python -c code` runs no file: it goes by the interpreter's name
    if (script && !script.startsWith('-')) names.push(basename(script));
  }
  return names.map((n) => n.toLowerCase()).filter(Boolean);
}

/** What the admins and the student are shown as the process's name. */
export function displayName(r: Pick<ProcReading, 'name' | 'argv'>): string {
  const names = namesOf(r);
  return (names[2] ?? names[1] ?? names[0] ?? '?').slice(0, 64);
}

export function minerNamed(r: Pick<ProcReading, 'name' | 'argv'>, miners: string[]): string | null {
  for (const n of namesOf(r)) {
    for (const m of miners.map((x) => x.toLowerCase())) {
      if (n === m || (n.startsWith(m) && /[-_.\d]/.test(n[m.length]))) return m;
      // comm is cut at 15 characters
      if (n.length === 15 && m.length > 15 && m.startsWith(n)) return m;
    }
  }
  return null;
}

export function isAllowed(r: Pick<ProcReading, 'name' | 'argv'>, allowed: string[]): boolean {
  const names = namesOf(r);
  return allowed.some((a) => names.some((n) => n === a.toLowerCase() || (n.length === 15 && a.toLowerCase().startsWith(n))));
}

/** A Jupyter kernel of any language: started with a connection file, or ipykernel itself. */
export function isKernel(argv: string[]): boolean {
  return argv.some((a) => /(^|\/)kernel-[\w-]+\.json$/.test(a) || a === 'ipykernel_launcher' || a === 'ipykernel' || /ipykernel_launcher(\.py)?$/.test(a));
}

/**
 * Judges one reading. Returns the verdict (null: left alone) and what to remember for the next
 * scan. `now` is the time of the reading.
 */
export function judge(
  r: ProcReading,
  previous: Tracked | undefined,
  now: number,
  rules: WatchdogRules,
  workshop: StudentWorkshop | null,
): { verdict: Verdict | null; track: Tracked } {
  const same = previous && previous.startedAt === r.startedAt ? previous : undefined;
  // First seen: its whole life is the first interval (a process burning since it started is busy since then).
  const from = same ? same.seenAt : r.startedAt;
  const used = r.cpuSeconds - (same ? same.cpuSeconds : 0);
  const cpuPercent = now > from ? Math.max(0, (used * 100_000) / (now - from)) : 0;
  const busy = cpuPercent >= rules.cpuPercent;
  const track: Tracked = {
    startedAt: r.startedAt,
    cpuSeconds: r.cpuSeconds,
    seenAt: now,
    busySince: busy ? (same?.busySince ?? from) : null,
    interruptedAt: same?.interruptedAt ?? null,
  };
  const percent = Math.round(cpuPercent);

  const miner = minerNamed(r, rules.miners);
  if (miner) return { verdict: { action: 'stop', rule: 'miner', why: `a known miner (${miner})`, reason: { key: 'miner', vars: { miner } }, cpuPercent: percent }, track };

  const kernel = isKernel(r.argv);
  if (kernel && workshop) {
    // /proc gives start times to the second: two seconds of slack
    if (r.startedAt + 2_000 < workshop.createdAt) {
      return {
        verdict: { action: 'stop', rule: 'stale-kernel', why: 'a kernel started before this workshop began', reason: { key: 'kernelBefore', vars: {} }, cpuPercent: percent },
        track,
      };
    }
    if (workshop.closesAt !== null && now > workshop.closesAt) {
      return {
        verdict: { action: 'stop', rule: 'stale-kernel', why: 'a kernel still running after the workshop ended', reason: { key: 'kernelAfter', vars: {} }, cpuPercent: percent },
        track,
      };
    }
  }

  const limitMs = rules.cpuMinutes * 60_000;
  if (track.busySince !== null && now - track.busySince >= limitMs && !isAllowed(r, rules.allowed)) {
    const minutes = (now - track.busySince) / 60_000;
    const span = minutes >= 1 ? `${Math.floor(minutes)} min` : `${Math.round(minutes * 60)} s`;
    const why = `${percent} % of a CPU core for ${span} without a pause`;
    const reason = { key: 'cpu' as const, vars: { percent, span } };
    const interruptedInThisRun = track.interruptedAt !== null && track.interruptedAt >= track.busySince;
    if (kernel && !interruptedInThisRun) {
      // The interrupt restarts the count: stopped only if it is still burning a whole cpuMinutes later.
      return { verdict: { action: 'interrupt', rule: 'cpu', why, reason, cpuPercent: percent }, track: { ...track, busySince: now, interruptedAt: now } };
    }
    return { verdict: { action: 'stop', rule: 'cpu', why, reason, cpuPercent: percent }, track };
  }
  return { verdict: null, track };
}
