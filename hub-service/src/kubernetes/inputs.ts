/**
 * What `wod kubernetes values` reads besides the configuration: the service role's scopes and the
 * hub's Python files (spawner-config/), and the catalog's workshop limits, told in the values' header.
 */
import fs from 'node:fs';
import path from 'node:path';
import { scanWorkshops } from '../catalog/loader.js';
import type { WodConfig } from '../config/schema.js';
import { effectiveLimits, formatSize } from '../isolation/limit-rules.js';
import { HUB_FILES, type ValuesInputs } from './values.js';

const spawnerConfig = (config: Pick<WodConfig, 'projectRoot'>, file: string) => path.join(config.projectRoot, 'spawner-config', file);

/** The scopes jupyterhub_config.py grants the service, from the file it reads them from. */
export function serviceScopes(config: Pick<WodConfig, 'projectRoot'>): string[] {
  const file = JSON.parse(fs.readFileSync(spawnerConfig(config, 'wod_service_scopes.json'), 'utf8')) as { scopes: Record<string, string> };
  return Object.keys(file.scopes);
}

export function hubFiles(config: Pick<WodConfig, 'projectRoot'>): ValuesInputs['hubFiles'] {
  return Object.fromEntries(HUB_FILES.map((f) => [f, fs.readFileSync(spawnerConfig(config, f), 'utf8')])) as ValuesInputs['hubFiles'];
}

/** One line per workshop of the catalog: the limits its pods get, and the processes limit they cannot. */
export function workshopLimitLines(config: WodConfig): string[] {
  return scanWorkshops(config.workshops, config.students.count).workshops.map((w) => {
    const l = effectiveLimits(config.students.limits, w.spec.limits);
    const memory = l.memoryBytes === null ? 'memory unlimited' : `memory ${formatSize(l.memoryBytes)}`;
    const pids = l.pids === null ? '' : ` (not its ${l.pids} processes: a pod has no such limit, only the kubelet's podPidsLimit)`;
    return `${w.spec.folder}: ${memory}, cpu ${l.cpu ?? 'unlimited'}${pids}`;
  });
}
