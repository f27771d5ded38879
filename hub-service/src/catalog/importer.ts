import type { Actor } from '../audit/audit.js';
import type { Db } from '../store/db.js';
import { availableKernels } from '../content/kernels.js';
import { checkSiteVariables, type DryRunConfig, dryRunWorkshop } from './dry-run.js';
import { type CatalogScan, scanWorkshops } from './loader.js';
import { type ImportReport, importWorkshops } from './sync.js';

/**
 * Every workshop folder read and dry-run (lint): a workshop with an error here would fail for every
 * participant, so it is left out of the valid ones (an imported one keeps its last good state).
 */
export function lintWorkshops(config: DryRunConfig): CatalogScan {
  const scan = scanWorkshops(config.workshops, config.students.count);
  scan.problems.push(...checkSiteVariables(config));
  const kernels = availableKernels(config.projectRoot);
  const valid = [];
  for (const w of scan.workshops) {
    const problems = dryRunWorkshop(w, config, kernels);
    scan.problems.push(...problems);
    if (!problems.some((p) => p.severity === 'error')) valid.push(w);
  }
  return { ...scan, workshops: valid };
}

/** Reads the workshop folders and brings the database in line: at start, from the CLI, from the panel. */
export function importCatalog(db: Db, config: DryRunConfig, actor: Actor): ImportReport {
  return importWorkshops(db, lintWorkshops(config), actor);
}
