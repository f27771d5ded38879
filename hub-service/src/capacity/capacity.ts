/**
 * Capacity, said out loud: the pure part. What a working seat costs is the resident memory of a
 * student's server and all its children (kernels, terminals), measured by ./meter.ts; from it and the
 * memory the kernel says is available, how many more seats this host can hold. No I/O here.
 */

/** Memory kept for the system, the hub, its proxy and this service, never counted as room for seats. */
export const DEFAULT_RESERVE_BYTES = 256 * 1024 * 1024;

/**
 * How many more seats fit in `availableBytes` once `reserveBytes` is kept aside, at `perSeatBytes`
 * each; null when a seat has not been measured yet (nothing can be said, so nothing should warn).
 */
export function seatsThatFit(availableBytes: number, perSeatBytes: number | null, reserveBytes = DEFAULT_RESERVE_BYTES): number | null {
  if (perSeatBytes === null || !(perSeatBytes > 0)) return null;
  return Math.max(0, Math.floor((availableBytes - reserveBytes) / perSeatBytes));
}

/** MemAvailable of /proc/meminfo, in bytes; null when the line is missing (kernels before 3.14). */
export function parseMemAvailable(meminfo: string): number | null {
  const m = /^MemAvailable:\s+(\d+)\s*kB$/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : null;
}

/** VmRSS of /proc/<pid>/status, in bytes; null for a process without one (a zombie, a kernel thread). */
export function parseVmRss(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s*kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

/** The median of some numbers; null when there are none. */
export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The last `size` values added, and their median: one bad minute does not move the figure. */
export class RollingMedian {
  private readonly values: number[] = [];
  constructor(private readonly size: number) {}

  add(value: number): void {
    this.values.push(value);
    if (this.values.length > this.size) this.values.splice(0, this.values.length - this.size);
  }

  get count(): number {
    return this.values.length;
  }

  median(): number | null {
    return median(this.values);
  }
}

/** 157286400 → "150 MiB", 3221225472 → "3.0 GiB". */
export function formatBytes(bytes: number): string {
  const mib = bytes / 1024 / 1024;
  return mib < 1024 ? `${Math.round(mib)} MiB` : `${(mib / 1024).toFixed(1)} GiB`;
}
