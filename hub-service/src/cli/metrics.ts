/**
 * `wod metrics token`: the token Prometheus scrapes with, both the hub's /hub/metrics and wod's
 * /services/wod/metrics. It is the api_token of the token-only hub service wod-metrics, whose role
 * carries read:metrics alone (spawner-config/jupyterhub_config.py); read from the data folder's
 * secrets, so only wod's operator can print it.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { dataPaths } from '../config/paths.js';
import { readSecretFile } from '../secrets.js';

export function registerMetrics(program: Command): void {
  const metrics = program.command('metrics').description('Prometheus metrics: /hub/metrics and /services/wod/metrics');
  metrics
    .command('token')
    .description('print the token that scrapes /hub/metrics and /services/wod/metrics (read:metrics only), for a Prometheus credentials_file')
    .action(() => {
      process.stdout.write(`${readSecretFile(dataPaths(loadConfig()).metricsToken)}\n`);
    });
}
