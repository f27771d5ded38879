/**
 * `wod doctor [--json]`: is this wod healthy? One OK, WARN or FAIL line per check with its fix, and
 * exit code 1 when any check fails, so cron or a monitoring agent can run it as it is.
 */
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import { exitCode, overall, reportLines } from '../doctor/check.js';
import { runDoctor } from '../doctor/doctor.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check the hub, its proxy, the service, both databases, disk space, the mail transport and API, jobs, servers, the clock and file modes: one OK/WARN/FAIL line each with the fix; exits 1 when any check fails',
    )
    .option('--json', 'print the checks as JSON (for monitoring)')
    .option('--timeout <seconds>', 'how long each probe waits for an answer', '3')
    .action(async (opts: { json?: boolean; timeout: string }) => {
      const seconds = Number(opts.timeout);
      if (!(seconds > 0 && seconds <= 60)) throw new ConfigError(`--timeout ${opts.timeout}: give a number of seconds above 0, at most 60`);
      const checks = await runDoctor(loadConfig(), { timeoutMs: seconds * 1000 });
      if (opts.json) process.stdout.write(JSON.stringify({ status: overall(checks), checks }) + '\n');
      else for (const line of reportLines(checks)) process.stdout.write(line + '\n');
      process.exitCode = exitCode(checks);
    });
}
