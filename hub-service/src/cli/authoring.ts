/**
 * `wod workshops new` and `wod workshops test`: an author starts a workshop in one command and
 * proves it in another, on a real hub, with an exit code for CI.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { lintWorkshops } from '../catalog/importer.js';
import { listWorkshopFolders, workshopFolders } from '../catalog/folders.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { formatResult, progressWriter } from '../authoring/report.js';
import { createWorkshop, ScaffoldError } from '../authoring/scaffold.js';
import { startOwnWod } from '../authoring/own-wod.js';
import { passed, testWorkshop, type WorkshopResult } from '../authoring/workshop-test.js';

export function registerAuthoring(workshops: Command): void {
  workshops
    .command('new <name>')
    .description("a new workshop folder WKSHP-<name> in the template's shape (wod.yml on a free range, notebooks, a lab with its solution, README.md, LICENCE.md) that lints clean")
    .option('--kernel <kernel>', "the notebooks' kernel: python3 or bash", 'python3')
    .option('--dir <folder>', 'the workshops folder to write into (default: workshops.dir)')
    .action((name: string, opts: { kernel: string; dir?: string }) => {
      const config = loadConfig();
      const roots = { ...config.workshops, dir: opts.dir ? path.resolve(opts.dir) : config.workshops.dir };
      try {
        const { dir, workshop } = createWorkshop({
          name,
          kernel: opts.kernel,
          roots,
          poolSize: config.students.count,
          template: path.join(config.projectRoot, 'workshops', 'WKSHP-Template'),
        });
        console.log(`${dir}: new ${opts.kernel} workshop on students ${workshop.range[0]}-${workshop.range[1]}`);
        const problems = lintWorkshops({ ...config, workshops: roots }).problems.filter((p) => p.file.startsWith(dir + path.sep));
        for (const p of problems) console.warn(`${p.severity}: ${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`);
        console.log(`next: write the notebooks, then npx wod workshops lint and npx wod workshops test ${workshop.folder}`);
      } catch (e) {
        if (e instanceof ScaffoldError) throw new ConfigError(e.message);
        throw e;
      }
    });

  workshops
    .command('test [workshops...]')
    .description(
      "each workshop's whole life on a real wod: CREATE for a test participant, every notebook run in the student's server (with the shipped solutions), progress, survey, CLEANUP and its completion; exits 1 on any failure",
    )
    .option('--all', 'every workshop of the workshops folder')
    .option('--url <url>', 'a running wod (its public URL) instead of one started for the test; the admin token from WOD_ADMIN_TOKEN or --token')
    .option('--token <token>', 'a hub token with the wod admin scope, for --url (prefer WOD_ADMIN_TOKEN: a command line is visible to others)')
    .option('--timeout <seconds>', 'the longest wait for each step: CREATE, each cell, CLEANUP', '180')
    .action(async (names: string[], opts: { all?: boolean; url?: string; token?: string; timeout: string }) => {
      const config = loadConfig();
      const folders = opts.all ? listWorkshopFolders(config.workshops) : names;
      if (!folders.length) throw new ConfigError('name the workshops to test (WKSHP-…), or give --all');
      const contents = folders.map((f) => {
        const found = workshopFolders(config.workshops, f);
        if (!found) throw new ConfigError(`no workshop folder ${f} with a wod.yml in ${[config.workshops.dir, config.workshops.overlayDir].filter(Boolean).join(' or ')}`);
        return found.content;
      });
      const timeoutMs = Number(opts.timeout) * 1000;
      if (!(timeoutMs > 0)) throw new ConfigError(`--timeout ${opts.timeout} is not a number of seconds`);
      const token = opts.token ?? process.env.WOD_ADMIN_TOKEN;
      if (opts.url && !token) throw new ConfigError('--url needs an admin token: set WOD_ADMIN_TOKEN (a hub token with the wod admin scope) or give --token');
      const started = Date.now();
      const own = opts.url ? null : await startOwnWod({ cli: process.argv[1], workshopsDir: path.resolve(config.workshops.dir), waitSeconds: 180, log: (l) => console.log(l) });
      const results: WorkshopResult[] = [];
      try {
        const url = (opts.url ?? own!.url).replace(/\/+$/, '');
        for (const [i, folder] of folders.entries()) {
          const progress = progressWriter(folder, process.stdout);
          const r = await testWorkshop(folder, { url, adminToken: own?.adminToken ?? token!, content: contents[i], timeoutMs }, progress);
          progress.end();
          console.log(formatResult(r));
          results.push(r);
        }
      } finally {
        await own?.stop();
      }
      const failed = results.filter((r) => !passed(r));
      console.log(
        `${results.length - failed.length} of ${results.length} workshop(s) passed in ${((Date.now() - started) / 1000).toFixed(1)} s${failed.length ? `; failed: ${failed.map((r) => r.folder).join(', ')}` : ''}`,
      );
      if (failed.length) process.exitCode = 1;
    });
}
