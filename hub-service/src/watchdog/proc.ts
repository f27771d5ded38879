/**
 * What the watchdog reads from /proc, and nothing it decides: which processes are students', and
 * each one's name, command line, CPU time and start time. Linux only.
 */
import fs from 'node:fs';
import { findProcesses } from '../lifecycle/processes.js';
import type { ProcReading } from './rules.js';

/** USER_HZ: the unit of /proc/<pid>/stat times, 100 on every Linux architecture wod runs on. */
export const CLOCK_TICKS = 100;
const STUDENT = /^student([1-9]\d*)$/;

/** Where students' processes are found. */
export type StudentSource = { mode: 'local'; hubApiUrl: string; count: number } | { mode: 'system-users'; uidBase: number; count: number };

export interface StudentProcess {
  pid: number;
  student: string;
  uid: number;
}

/** Boot time (ms since the epoch), from /proc/stat's btime. */
export function bootTimeMs(): number {
  const line = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('btime '));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1000;
}

const uidOf = (pid: number) => fs.statSync(`/proc/${pid}`).uid;

/**
 * The students' processes: in system-users mode those of uid uidBase + N (N in the pool), whatever
 * their environment; in local mode, where all students share one account, those of this hub that
 * carry a student's JUPYTERHUB_USER (lifecycle/processes.ts).
 */
export function studentProcesses(source: StudentSource): StudentProcess[] {
  const found: StudentProcess[] = [];
  if (source.mode === 'system-users') {
    for (const entry of fs.readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || pid <= 1) continue;
      try {
        const uid = uidOf(pid);
        const n = uid - source.uidBase;
        if (n >= 1 && n <= source.count) found.push({ pid, student: `student${n}`, uid });
      } catch {
        /* gone */
      }
    }
    return found;
  }
  for (const pid of findProcesses(source.hubApiUrl)) {
    try {
      const env = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      const user = env.find((e) => e.startsWith('JUPYTERHUB_USER='))?.slice('JUPYTERHUB_USER='.length) ?? '';
      const n = Number(STUDENT.exec(user)?.[1] ?? 0);
      if (n >= 1 && n <= source.count) found.push({ pid, student: user, uid: uidOf(pid) });
    } catch {
      /* gone */
    }
  }
  return found;
}

/** Parses /proc/<pid>/stat: state, utime + stime (s) and start time (ms); null for a zombie. */
export function parseStat(text: string, bootMs: number): { state: string; cpuSeconds: number; startedAt: number } | null {
  // comm, in parentheses, may hold spaces and parentheses itself: the fields start after the last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X' || fields.length < 20) return null;
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  const startedAt = bootMs + (Number(fields[19]) * 1000) / CLOCK_TICKS;
  return { state, cpuSeconds, startedAt: Math.round(startedAt) };
}

/** One process as the rules see it; null when it is gone or a zombie. */
export function readProcess(p: StudentProcess, bootMs: number): ProcReading | null {
  try {
    const stat = parseStat(fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8'), bootMs);
    if (!stat) return null;
    const name = fs.readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim();
    const argv = fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
    if (argv[argv.length - 1] === '') argv.pop();
    return { pid: p.pid, student: p.student, name, argv, cpuSeconds: stat.cpuSeconds, startedAt: stat.startedAt };
  } catch {
    return null;
  }
}

/** The start time of a pid now, to be sure a signal goes to the process that was judged. */
export function startedAtOf(pid: number, bootMs: number): number | null {
  try {
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'), bootMs)?.startedAt ?? null;
  } catch {
    return null;
  }
}
