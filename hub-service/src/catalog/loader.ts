/**
 * Reads the workshop folders by the overlay rule (folders.ts) and checks each wod.yml and the
 * workshops against each other. Returns every workshop that passed, and every problem.
 */
import fs from 'node:fs';
import { type Candidate, checkAgainstPool, checkConclusion, checkOverlaps } from './checks.js';
import { listWorkshopFolders, type Source, workshopFolders, type WorkshopRoots } from './folders.js';
import type { Problem } from './problems.js';
import { type ParsedSpec, parseWorkshopSpec, WOD_YML_MAX_BYTES, type WorkshopSpec } from './spec.js';

export interface LoadedWorkshop {
  spec: WorkshopSpec;
  source: Source;
  /** the content folder on disk */
  path: string;
  /** where each field was written, for problems about it */
  at: ParsedSpec['at'];
}

export interface CatalogScan {
  workshops: LoadedWorkshop[];
  problems: Problem[];
  /** folders found, valid or not: an invalid one keeps its last good state in the database */
  seen: string[];
}

/** A wod.yml measured before it is read: a 30 MB file is refused, not parsed (and never served). */
function tooLarge(file: string): Problem | null {
  const bytes = fs.statSync(file).size;
  if (bytes <= WOD_YML_MAX_BYTES) return null;
  return {
    severity: 'error',
    file,
    message: `is ${bytes} bytes, more than the ${WOD_YML_MAX_BYTES} bytes (${WOD_YML_MAX_BYTES / 1024} KiB) a wod.yml may have`,
    fix: 'keep wod.yml to the catalog fields; long texts belong in the notebooks',
  };
}

export function scanWorkshops(roots: WorkshopRoots, poolSize: number): CatalogScan {
  const problems: Problem[] = [];
  for (const [root, source] of [
    [roots.dir, 'public'],
    [roots.overlayDir, 'overlay'],
  ] as const) {
    if (root && !fs.existsSync(root)) {
      problems.push({ severity: source === 'public' ? 'error' : 'warning', file: root, message: 'workshops folder does not exist', fix: 'create it or correct the configuration' });
    }
  }
  const seen: string[] = [];
  const candidates: (Candidate & { source: Source; dir: string })[] = [];
  for (const folder of listWorkshopFolders(roots)) {
    const f = workshopFolders(roots, folder);
    if (!f) continue;
    seen.push(folder);
    const big = f.specs.map(tooLarge).filter((p) => p !== null);
    if (big.length) {
      problems.push(...big);
      continue;
    }
    const parsed = parseWorkshopSpec(
      f.specs.map((file) => ({ file, text: fs.readFileSync(file, 'utf8') })),
      folder,
    );
    problems.push(...parsed.problems);
    if (!parsed.spec) continue;
    const file = f.specs[f.specs.length - 1];
    problems.push(...checkConclusion(parsed.spec.conclusion, fs.readdirSync(f.content), parsed.at.conclusion ?? { file }));
    candidates.push({ ...parsed, spec: parsed.spec, file, source: f.source, dir: f.content });
  }

  const crossProblems = [...candidates.flatMap((c) => checkAgainstPool(c, poolSize)), ...checkOverlaps(candidates)];
  problems.push(...crossProblems);
  const failed = new Set(crossProblems.filter((p) => p.severity === 'error').map((p) => p.file));
  return {
    workshops: candidates.filter((c) => !failed.has(c.file) && !failed.has(c.at.range?.file ?? '')).map((c) => ({ spec: c.spec, source: c.source, path: c.dir, at: c.at })),
    problems,
    seen,
  };
}
