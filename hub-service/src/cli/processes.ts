import fs from 'node:fs';

/**
 * Every process started on behalf of one hub carries that hub's JUPYTERHUB_API_URL in its
 * environment (the wod service, single-user servers, their kernels): that is how leftovers are
 * found after the hub has gone, even those in sessions of their own.
 */
export function findProcesses(hubApiUrl: string): number[] {
  const marker = Buffer.from(`JUPYTERHUB_API_URL=${hubApiUrl}\0`);
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/environ`).includes(marker)) found.push(pid);
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
