#!/usr/bin/env node
/**
 * The `wod` command line (`npx wod --help`). Each command reads the one configuration
 * (wod.yaml + WOD_* environment) like the service does.
 */
import { Command } from 'commander';
import { Accounts } from '../accounts/accounts.js';
import { ConfigError, configKeys, loadConfig } from '../config/load.js';
import { dataPaths } from '../config/paths.js';
import { USER_NAME } from '../config/schema.js';
import { prepare } from '../prepare.js';
import { openDatabase } from '../store/db.js';
import { VERSION } from '../version.js';
import { start } from './start.js';

const program = new Command('wod')
  .description('Workshops-on-Demand on JupyterHub')
  .version(VERSION)
  .showHelpAfterError();

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
      process.stdout.write(JSON.stringify({ config, paths: dataPaths(config), created }) + '\n');
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

program.parseAsync().catch((e: Error) => {
  process.stderr.write(`wod: ${e instanceof ConfigError ? e.message : (e.stack ?? e.message)}\n`);
  process.exit(2);
});
