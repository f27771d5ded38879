/**
 * Reads the workshop folders: the public ones, then the private overlay, whose folders replace
 * public ones of the same name. Returns every workshop that passed its checks, and every problem.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Candidate, checkAgainstPool, checkConclusion, checkOverlaps, checkReadMeFirst } from './checks.js';
import type { Problem } from './problems.js';
import { parseWorkshopSpec, WOD_YML_MAX_BYTES, WORKSHOP_FOLDER, type WorkshopSpec } from './spec.js';

export interface LoadedWorkshop {
  spec: WorkshopSpec;
  source: 'public' | 'overlay';
  /** the folder on disk */
  path: string;
}

export interface CatalogScan {
  workshops: LoadedWorkshop[];
  problems: Problem[];
  /** folders found, valid or not: an invalid one keeps its last good state in the database */
  seen: string[];
}

function readIfExists(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

export function scanWorkshops(dirs: { dir: string; overlayDir?: string }, poolSize: number): CatalogScan {
  const found = new Map<string, { dir: string; source: 'public' | 'overlay' }>();
  const problems: Problem[] = [];
  for (const [root, source] of [
    [dirs.dir, 'public'],
    [dirs.overlayDir, 'overlay'],
  ] as const) {
    if (!root) continue;
    if (!fs.existsSync(root)) {
      problems.push({ severity: source === 'public' ? 'error' : 'warning', file: root, message: 'workshops folder does not exist', fix: 'create it or correct the configuration' });
      continue;
    }
    for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
      if (entry.isDirectory() && WORKSHOP_FOLDER.test(entry.name) && fs.existsSync(path.join(root, entry.name, 'wod.yml'))) {
        found.set(entry.name, { dir: path.join(root, entry.name), source });
      }
    }
  }

  const candidates: (Candidate & { source: 'public' | 'overlay'; dir: string })[] = [];
  for (const [folder, { dir, source }] of [...found].sort(([a], [b]) => a.localeCompare(b))) {
    const file = path.join(dir, 'wod.yml');
    // Measured before reading: a 30 MB file is refused, not parsed (and never served).
    const bytes = fs.statSync(file).size;
    if (bytes > WOD_YML_MAX_BYTES) {
      problems.push({
        severity: 'error',
        file,
        message: `is ${bytes} bytes, more than the ${WOD_YML_MAX_BYTES} bytes (${WOD_YML_MAX_BYTES / 1024} KiB) a wod.yml may have`,
        fix: 'keep wod.yml to the catalog fields; long texts belong in the notebooks',
      });
      continue;
    }
    const parsed = parseWorkshopSpec(fs.readFileSync(file, 'utf8'), file, folder);
    problems.push(...parsed.problems);
    const readme = path.join(dir, '0-ReadMeFirst.ipynb');
    const readmeProblems = checkReadMeFirst(readIfExists(readme), readme);
    problems.push(...readmeProblems);
    if (parsed.spec) problems.push(...checkConclusion(parsed.spec.conclusion, fs.readdirSync(dir), file, parsed.lines.conclusion));
    if (parsed.spec && !readmeProblems.some((p) => p.severity === 'error')) {
      candidates.push({ ...parsed, spec: parsed.spec, file, source, dir });
    }
  }

  const crossProblems = [...candidates.flatMap((c) => checkAgainstPool(c, poolSize)), ...checkOverlaps(candidates)];
  problems.push(...crossProblems);
  const failed = new Set(crossProblems.filter((p) => p.severity === 'error').map((p) => p.file));
  return {
    workshops: candidates.filter((c) => !failed.has(c.file)).map((c) => ({ spec: c.spec, source: c.source, path: c.dir })),
    problems,
    seen: [...found.keys()],
  };
}
