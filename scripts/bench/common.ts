/** What the benchmarks share: percentiles and a started wod with one large workshop. */
import fs from 'node:fs';
import { type RunningHub, startHub } from '../../tests/support/hub';
import { tempWorkshops, writeWorkshop } from '../../tests/support/workshops';

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Starts wod with `WKSHP-Bench` of `seats` students (`notebook` as its first notebook when given,
 * more wod.yml `fields`, e.g. warm); `done` stops it and cleans up.
 */
export async function benchHub(
  seats: number,
  env: Record<string, string> = {},
  notebook?: string,
  fields: Record<string, unknown> = {},
): Promise<{ hub: RunningHub; done: () => Promise<void> }> {
  const workshops = tempWorkshops();
  writeWorkshop(workshops, 'WKSHP-Bench', { range: [1, seats], capacity: seats, ...fields }, { notebook });
  console.log(`bench: starting wod (JupyterHub, proxy, service) with a pool of ${seats} students…`);
  const hub = await startHub({
    env: { WOD_WORKSHOPS_DIR: workshops, WOD_STUDENTS_COUNT: String(seats), WOD_REGISTRATION_PER_IP_PER_MINUTE: '10000000', WOD_LOG_LEVEL: 'warn', ...env },
  });
  return {
    hub,
    done: async () => {
      await hub.stop();
      fs.rmSync(workshops, { recursive: true, force: true });
    },
  };
}

export function registrationBody(n: number): string {
  return JSON.stringify({ email: `bench${n}@example.com`, name: 'Bench Mark', company: 'wod', workshop: 'WKSHP-Bench', acceptTerms: true });
}
