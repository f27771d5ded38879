import fs from 'node:fs';

/**
 * Every process started on behalf of one hub carries that hub's JUPYTERHUB_API_URL in its
 * environment (the wod service, single-user servers, their kernels and terminals), and a student's
 * also JUPYTERHUB_USER: that is how they are found, even in sessions of their own, even after the
 * hub has gone. Returns the processes whose environment has every `NAME=value` given.
 */
export function findProcesses(hubApiUrl: string, ...more: string[]): number[] {
  const markers = [`JUPYTERHUB_API_URL=${hubApiUrl}`, ...more].map((m) => Buffer.from(`\0${m}\0`));
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const environ = Buffer.concat([Buffer.from([0]), fs.readFileSync(`/proc/${pid}/environ`)]);
      if (markers.every((m) => environ.includes(m))) found.push(pid);
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

/** SIGTERM, then SIGKILL after a grace period for whatever is still there. */
export async function killAll(pids: number[], signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
}
