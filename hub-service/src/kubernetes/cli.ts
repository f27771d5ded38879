/** `wod kubernetes values`: the Helm values of kubernetes/values.ts for this configuration, as YAML. */
import type { Command } from 'commander';
import YAML from 'yaml';
import { ConfigError, loadConfig } from '../config/load.js';
import { VERSION } from '../version.js';
import { hubFiles, serviceScopes, workshopLimitLines } from './inputs.js';
import { helmValues } from './values.js';

export function registerKubernetes(program: Command): void {
  const kubernetes = program.command('kubernetes').description('wod on Kubernetes with Zero to JupyterHub (deploy/kubernetes/GUIDE.md)');
  kubernetes
    .command('values')
    .description("print the Helm values of the Zero to JupyterHub chart (4.x) that run wod's students as KubeSpawner pods (students.mode must be remote)")
    .option('--image <name:tag>', 'the student image (deploy/kubernetes/Dockerfile.student)', `wod-student:${VERSION}`)
    .option('--home-size <size>', "each student's home volume claim, as Kubernetes writes sizes", '1Gi')
    .option('--storage-class <name>', "the homes' storage class (default: the cluster's)")
    .action((opts: { image: string; homeSize: string; storageClass?: string }) => {
      const config = loadConfig();
      if (config.students.mode !== 'remote')
        throw new ConfigError(`students.mode is ${config.students.mode}: on Kubernetes the service reaches the students only through their servers, set students.mode: remote`);
      const values = helmValues(config, {
        studentImage: opts.image,
        homeSize: opts.homeSize,
        storageClass: opts.storageClass,
        serviceScopes: serviceScopes(config),
        hubFiles: hubFiles(config),
      });
      const header = [
        `Helm values for Zero to JupyterHub 4.x, made by \`wod kubernetes values\` (wod ${VERSION}) from ${config.configFile ?? 'the defaults and WOD_* variables'}.`,
        'Make them again after changing wod or its configuration; deploy/kubernetes/GUIDE.md says how to use them.',
        "Each pod gets its seat's workshop limits at every spawn (the service answers the hub):",
        ...workshopLimitLines(config).map((l) => `  ${l}`),
      ];
      process.stdout.write(`${header.map((l) => `# ${l}`).join('\n')}\n${YAML.stringify(values, { lineWidth: 0 })}`);
    });
}
