#!/usr/bin/env node
/**
 * The `wod` command line (`npx wod --help`). Each command reads the one configuration
 * (wod.yaml + WOD_* environment) like the service does.
 */
import path from 'node:path';
import { Command } from 'commander';
import { importCatalog, lintWorkshops } from '../catalog/importer.js';
import { workshopFolders } from '../catalog/folders.js';
import { asEnvironment, resolveVariables, siteBase, siteFiles, workshopFile } from '../content/site-variables.js';
import { modeOf } from '../registrations/registrations.js';
import { formatProblem, type Problem } from '../catalog/problems.js';
import { findHooks, runHook } from '../lifecycle/hooks.js';
import { syncPool } from '../pool/pool.js';
import { Accounts } from '../accounts/accounts.js';
import { ConfigError, configKeys, loadConfig } from '../config/load.js';
import { dataPaths } from '../config/paths.js';
import { USER_NAME } from '../config/schema.js';
import { SERVICE_NAME, SERVICE_PREFIX } from '../config/urls.js';
import { readMailApiPassword } from '../mail-in/access.js';
import { prepare } from '../prepare.js';
import { spawnerLimits, studentLimits } from '../isolation/limits.js';
import { openDatabase } from '../store/db.js';
import { VERSION } from '../version.js';
import { capacityFigures, memAvailable, NOTHING_MEASURED, readSeatCost } from '../capacity/meter.js';
import { capacityLines, presentCapacity } from '../web/capacity-view.js';
import type { Verb } from '../jobs/store.js';
import { action } from './action.js';
import { start } from './start.js';
import { registerParticipants } from './participants.js';
import { registerMetrics } from './metrics.js';
import { registerBackup } from './backup.js';
import { registerDoctor } from './doctor.js';
import { registerServiceUnit } from './service-unit.js';
import { registerAuthoring } from './authoring.js';
import { registerLocations } from './locations.js';
import { registerKubernetes } from '../kubernetes/cli.js';

const program = new Command('wod').description('Workshops-on-Demand on JupyterHub').version(VERSION).showHelpAfterError();

program
  .command('start')
  .description('prepare the data folder, run JupyterHub with the wod service, print the URLs; Ctrl-C stops everything')
  .option('--wait <seconds>', 'how long to wait for the service to answer', '180')
  .action(async (opts: { wait: string }) => {
    process.exitCode = await start(loadConfig(), { waitSeconds: Number(opts.wait) });
  });

program
  .command('prepare')
  .description('create the data folder, secrets, database and admin accounts if missing (start does this)')
  .option('--json', 'print the resolved configuration and any new credentials as JSON (for jupyterhub_config.py)')
  .action(async (opts: { json?: boolean }) => {
    const config = loadConfig();
    const created = await prepare(config);
    if (opts.json) {
      process.stdout.write(
        JSON.stringify({ config, paths: dataPaths(config), service: { name: SERVICE_NAME, prefix: SERVICE_PREFIX }, limits: spawnerLimits(config), created }) + '\n',
      );
      return;
    }
    console.log(`data folder ready: ${config.dataDir}`);
    for (const c of created) console.log(`admin login (shown once): user ${c.name}  password ${c.password}`);
  });

program
  .command('config')
  .description('print the resolved configuration, or with --keys every key and its environment variable')
  .option('--keys', 'list the keys and their environment variables')
  .action((opts: { keys?: boolean }) => {
    if (opts.keys) {
      for (const k of configKeys()) console.log(`${k.path.join('.').padEnd(36)} ${k.env}`);
      return;
    }
    console.log(JSON.stringify(loadConfig(), null, 2));
  });

program
  .command('limits')
  .description("what limits each student's processes in system-users mode (cgroups), or why nothing does")
  .action(() => {
    const config = loadConfig();
    if (config.students.mode === 'remote') return void console.log("per-student limits: none from wod in remote mode: they are the spawner's to set");
    if (config.students.mode !== 'system-users') return void console.log('per-student limits: none in local mode (every student is one account): use students.mode system-users');
    const limits = studentLimits(config);
    console.log(`per-student limits: ${limits.describe()}`);
    if (limits.unavailable) process.exitCode = 1;
  });

program
  .command('capacity')
  .description('what a working seat costs on this host (as the running service measured it) and how many more seats the memory available now can hold')
  .option('--json', 'print the figures as JSON (the shape of GET /api/v1/admin/capacity)')
  .action((opts: { json?: boolean }) => {
    // The service's own figures, from the data folder: no token needed, and the same numbers as the dashboard.
    const cost = readSeatCost(dataPaths(loadConfig()).capacity) ?? NOTHING_MEASURED;
    const figures = capacityFigures(cost, memAvailable());
    if (opts.json) return void process.stdout.write(JSON.stringify(presentCapacity(figures)) + '\n');
    for (const [k, v] of capacityLines(figures)) console.log(`${k}: ${v}`);
    if (cost.measuredAt) console.log(`measured at: ${cost.measuredAt}`);
  });

const workshops = program.command('workshops').description('the workshop folders');
registerAuthoring(workshops);
workshops
  .command('lint')
  .description(
    'a dry run of deployment: every workshop folder checked (wod.yml, ranges) and rendered for the first student of its range with the site variables, every notebook validated; prints each problem with its file, line and fix',
  )
  .option('--dir <folder>', 'public workshops folder (default: workshops.dir)')
  .option('--overlay <folder>', 'private overlay folder (default: workshops.overlayDir)')
  .option('--variables <folder>', 'site variables folder (default: workshops.variablesDir)')
  .action((opts: { dir?: string; overlay?: string; variables?: string }) => {
    const config = loadConfig();
    const given = (o: string | undefined, d: string | undefined) => (o ? path.resolve(o) : d);
    const workshops = {
      ...config.workshops,
      dir: given(opts.dir, config.workshops.dir)!,
      overlayDir: given(opts.overlay, config.workshops.overlayDir),
      variablesDir: given(opts.variables, config.workshops.variablesDir),
    };
    const scan = lintWorkshops({ ...config, workshops });
    printProblems(scan.problems);
    const errors = scan.problems.filter((p) => p.severity === 'error').length;
    console.log(`${scan.workshops.length} of ${scan.seen.length} workshop(s) valid; ${errors} error(s), ${scan.problems.length - errors} warning(s)`);
    if (errors) process.exitCode = 1;
  });
workshops
  .command('import')
  .description('bring the database in line with the workshop folders (the service does it at start too)')
  .action(async () => {
    const config = loadConfig();
    await prepare(config);
    const db = openDatabase(dataPaths(config).database);
    try {
      syncPool(db, config.students.count);
      const report = importCatalog(db, config, 'cli');
      printProblems(report.problems);
      for (const key of ['inserted', 'updated', 'deactivated', 'unchanged'] as const) {
        console.log(`${key.padEnd(12)} ${report[key].length ? report[key].join(', ') : '-'}`);
      }
      if (report.problems.some((p) => p.severity === 'error')) process.exitCode = 1;
    } finally {
      db.close();
    }
  });

program
  .command('action')
  .description("run a verb on a student or a range, like the original wod-test-action.sh: sends real mail orders to the mail API, follows the jobs, prints CREATE's credentials")
  .argument('<verb>', 'CREATE, CLEANUP, RESET or PURGE')
  .argument('<workshop>', 'the workshop folder, e.g. WKSHP-Python101 (CHLG-… for challenge mode)')
  .argument('<students>', 'a student number, or min,max')
  .option('--direct', 'store the jobs in the database instead of mailing the orders')
  .option('--timeout <seconds>', 'how long to follow the jobs', '300')
  .action(async (verb: string, workshop: string, students: string, opts: { direct?: boolean; timeout: string }) => {
    const v = verb.toUpperCase();
    if (!['CREATE', 'CLEANUP', 'RESET', 'PURGE'].includes(v)) throw new ConfigError(`'${verb}' is not a verb: CREATE, CLEANUP, RESET or PURGE`);
    process.exitCode = await action(loadConfig(), v as Verb, workshop, students, { direct: opts.direct, timeout: Number(opts.timeout) });
  });

const mailApi = program.command('mail-api').description('the SMTP mail API that takes the orders CREATE, CLEANUP, RESET and PURGE');
mailApi
  .command('credentials')
  .description("print the host, port, user and password an api-db gives orders with (SMTP AUTH); wod's operator only")
  .option('--json', 'print them as JSON')
  .action((opts: { json?: boolean }) => {
    const config = loadConfig();
    const { password, source } = readMailApiPassword(dataPaths(config).mailApiPassword);
    const c = config.mailApi;
    const out = { host: c.host, port: c.port, user: c.authUser, password, source, trustedNetworks: c.trustedNetworks, enabled: c.enabled };
    if (opts.json) return void console.log(JSON.stringify(out));
    console.log(`mail API ${c.enabled ? '' : '(disabled: mailApi.enabled is false) '}— SMTP, AUTH PLAIN or LOGIN, no TLS`);
    console.log(`host      ${c.host}${['127.0.0.1', '::1', 'localhost'].includes(c.host) ? '  (this host only; set mailApi.host for an api-db elsewhere)' : ''}`);
    console.log(`port      ${c.port}`);
    console.log(`user      ${c.authUser}`);
    console.log(`password  ${password}`);
    console.log(`          (from ${source})`);
    console.log(
      `without AUTH: ${c.trustedNetworks.length ? c.trustedNetworks.join(', ') + ' (mailApi.trustedNetworks; never this host)' : 'no network (mailApi.trustedNetworks is empty)'}`,
    );
  });

workshops
  .command('setup <workshop>')
  .description("run a workshop's setup hook(s) (e.g. to build its appliance), showing their output")
  .action(async (folder: string) => {
    const config = loadConfig();
    const found = workshopFolders(config.workshops, folder);
    if (!found) throw new ConfigError(`no workshop folder ${folder} with a wod.yml in ${[config.workshops.dir, config.workshops.overlayDir].filter(Boolean).join(' or ')}`);
    const hooks = findHooks('setup', found.content, folder, config.workshops.overlayScriptsDir);
    if (!hooks.length) return void console.log(`${folder} has no setup hook`);
    // the original's setup-appliance.sh: the site's variables, the workshop's name and its appliance
    const vars = resolveVariables({
      ...siteBase(config),
      files: [...siteFiles(config), workshopFile(config, folder)].filter((f): f is string => !!f),
      student: { STDID: 0, STUDENT: '', WORKSHOP: folder, CHALLENGE: folder, MODEWS: modeOf(folder) },
    });
    const appliance = vars[`IP-${folder}`];
    for (const hook of hooks) {
      console.log(`$ ${hook.file}`);
      await runHook(hook, vars, {
        env: { ...asEnvironment(vars), WORKSHOP: folder, w: folder, ws: folder, HUB_URL: config.publicUrl, ...(typeof appliance === 'string' ? { WODRTARGET: appliance } : {}) },
        cwd: path.dirname(hook.file),
        timeoutMs: config.workshops.hookTimeout * 1000,
        onOutput: (text) => process.stdout.write(text),
      });
    }
    console.log(`${folder}: setup done`);
  });

function printProblems(problems: Problem[]): void {
  for (const p of problems) (p.severity === 'error' ? console.error : console.warn)(formatProblem(p));
}

const accounts = program.command('accounts').description('hub logins for admins and operators');
accounts
  .command('password <user>')
  .description('give <user> a new random password (creating the account if needed) and print it once')
  .action(async (user: string) => {
    if (!USER_NAME.test(user)) throw new ConfigError(`'${user}' is not a valid user name (lower-case letters, digits, . _ -)`);
    const config = loadConfig();
    await prepare(config);
    const db = openDatabase(dataPaths(config).database);
    try {
      const password = await new Accounts(db).resetPassword(user);
      console.log(`user ${user}  password ${password}`);
    } finally {
      db.close();
    }
  });

registerBackup(program);
registerServiceUnit(program);

registerMetrics(program);
registerDoctor(program);
registerParticipants(program);
registerLocations(program);
registerKubernetes(program);

program.parseAsync().catch((e: Error) => {
  process.stderr.write(`wod: ${process.env.WOD_DEBUG ? (e.stack ?? e.message) : e.message}\n`);
  process.exit(2);
});
