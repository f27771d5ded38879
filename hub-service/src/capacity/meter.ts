/**
 * wod measures what a working seat costs on this host. Every sample (main.ts: once a minute) reads
 * the resident memory (VmRSS) of each working seat's processes, a student's server and all its
 * children, found as the watchdog finds them (../watchdog/proc.ts: by JUPYTERHUB_USER in local
 * mode, by uid students.uidBase + N in system-users mode), and keeps a rolling median per workshop
 * and overall, in memory. Each sample also writes the figures to `capacity.json` in the data folder,
 * which `wod capacity` reads: the CLI needs no token and measures nothing the service has not.
 *
 * RSS counts shared pages (Python's libraries) once per process, so a seat's figure is on the safe
 * side: more seats may fit than said, never fewer.
 */
import fs from 'node:fs';
import { sqlList, CLOCK_RUNNING } from '../registrations/states.js';
import type { Db } from '../store/db.js';
import { type StudentProcess, type StudentSource, studentProcesses } from '../watchdog/proc.js';
import { DEFAULT_RESERVE_BYTES, parseMemAvailable, parseVmRss, RollingMedian, seatsThatFit } from './capacity.js';

/** How many seat readings the overall median is over (a minute's sample gives one per working seat). */
export const OVERALL_WINDOW = 500;
/** …and each workshop's. */
export const WORKSHOP_WINDOW = 120;

/** The resident memory of one process in bytes; null when it is gone or has none. */
export function rssOf(pid: number): number | null {
  try {
    return parseVmRss(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return null;
  }
}

/** MemAvailable of this host in bytes, from /proc/meminfo. */
export function memAvailable(): number | null {
  try {
    return parseMemAvailable(fs.readFileSync('/proc/meminfo', 'utf8'));
  } catch {
    return null;
  }
}

/** The resident memory of a set of processes together. */
export function totalRss(pids: readonly number[], rss: (pid: number) => number | null = rssOf): number {
  return pids.reduce((sum, pid) => sum + (rss(pid) ?? 0), 0);
}

/** What the service has measured: the part `capacity.json` keeps. */
export interface SeatCost {
  /** the last sample, null before the first one that found a working seat */
  measuredAt: string | null;
  /** median resident memory of a working seat, bytes */
  perSeatBytes: number | null;
  /** seat readings the median is over */
  samples: number;
  byWorkshop: { folder: string; perSeatBytes: number; samples: number }[];
  /** median resident memory of a warm seat (its server waiting for a participant), bytes; null before one was measured */
  perWarmSeatBytes: number | null;
  warmSamples: number;
}

/** The seat cost with what this host has available now. */
export interface CapacityFigures extends SeatCost {
  availableBytes: number | null;
  reserveBytes: number;
  /** how many more working seats this host can hold now; null until a seat was measured */
  seatsMore: number | null;
}

/** The seat cost and the memory available now, as the dashboard, the API and the CLI say them. */
export function capacityFigures(cost: SeatCost, availableBytes: number | null, reserveBytes = DEFAULT_RESERVE_BYTES): CapacityFigures {
  return { ...cost, availableBytes, reserveBytes, seatsMore: availableBytes === null ? null : seatsThatFit(availableBytes, cost.perSeatBytes, reserveBytes) };
}

/** Nothing measured yet. */
export const NOTHING_MEASURED: SeatCost = { measuredAt: null, perSeatBytes: null, samples: 0, byWorkshop: [], perWarmSeatBytes: null, warmSamples: 0 };

/** The figures a service wrote in the data folder, or null when none are there yet (or unreadable). */
export function readSeatCost(file: string): SeatCost | null {
  try {
    const cost = JSON.parse(fs.readFileSync(file, 'utf8')) as SeatCost;
    return typeof cost.samples === 'number' && Array.isArray(cost.byWorkshop) ? { ...NOTHING_MEASURED, ...cost } : null;
  } catch {
    return null;
  }
}

const roundOrNull = (n: number | null) => (n === null ? null : Math.round(n));

export interface MeterDeps {
  db: Db;
  source: StudentSource;
  /** where each sample writes its figures (the data folder's capacity.json); none in tests */
  file?: string;
  reserveBytes?: number;
  now?: () => number;
  /** the students' processes (tests give their own) */
  list?: () => StudentProcess[];
  rss?: (pid: number) => number | null;
  available?: () => number | null;
}

export class CapacityMeter {
  private readonly overall = new RollingMedian(OVERALL_WINDOW);
  private readonly workshops = new Map<string, RollingMedian>();
  private readonly warm = new RollingMedian(OVERALL_WINDOW);
  private measuredAt: string | null = null;

  constructor(private readonly deps: MeterDeps) {}

  /** One sample: every working seat and every warm seat whose processes are found adds its resident memory. Returns how many seats. */
  sample(): number {
    const { db } = this.deps;
    const seats = new Map(
      (
        db
          .prepare(
            `SELECT s.name AS student, w.folder FROM registrations r JOIN students s ON s.id = r.student_id JOIN workshops w ON w.id = r.workshop_id
             WHERE r.state IN (${sqlList(CLOCK_RUNNING)})`,
          )
          .all() as { student: string; folder: string }[]
      ).map((x) => [x.student, x.folder]),
    );
    const warm = new Set((db.prepare(`SELECT name FROM students WHERE state = 'free' AND warm_workshop_id IS NOT NULL`).all() as { name: string }[]).map((x) => x.name));
    if (!seats.size && !warm.size) return 0;
    const pids = new Map<string, number[]>();
    for (const p of (this.deps.list ?? (() => studentProcesses(this.deps.source)))()) {
      if (!seats.has(p.student) && !warm.has(p.student)) continue;
      pids.set(p.student, [...(pids.get(p.student) ?? []), p.pid]);
    }
    let measured = 0;
    for (const [student, list] of pids) {
      const bytes = totalRss(list, this.deps.rss);
      if (bytes <= 0) continue;
      measured++;
      if (warm.has(student)) {
        this.warm.add(bytes);
        continue;
      }
      const folder = seats.get(student)!;
      this.overall.add(bytes);
      if (!this.workshops.has(folder)) this.workshops.set(folder, new RollingMedian(WORKSHOP_WINDOW));
      this.workshops.get(folder)!.add(bytes);
    }
    if (measured) {
      this.measuredAt = new Date((this.deps.now ?? Date.now)()).toISOString();
      if (this.deps.file) {
        const tmp = `${this.deps.file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(this.cost()) + '\n', { mode: 0o600 });
        fs.renameSync(tmp, this.deps.file);
      }
    }
    return measured;
  }

  /** What has been measured so far. */
  cost(): SeatCost {
    return {
      measuredAt: this.measuredAt,
      perSeatBytes: roundOrNull(this.overall.median()),
      samples: this.overall.count,
      byWorkshop: [...this.workshops].map(([folder, m]) => ({ folder, perSeatBytes: Math.round(m.median()!), samples: m.count })).sort((a, b) => a.folder.localeCompare(b.folder)),
      perWarmSeatBytes: roundOrNull(this.warm.median()),
      warmSamples: this.warm.count,
    };
  }

  /** The seat cost with the memory available now (read at each call: it is one small file). */
  figures(): CapacityFigures {
    return capacityFigures(this.cost(), (this.deps.available ?? memAvailable)(), this.deps.reserveBytes);
  }
}
