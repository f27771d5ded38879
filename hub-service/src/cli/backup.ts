/** `wod backup <file>` and `wod restore <file>` (backup/backup.ts). */
import type { Command } from 'commander';
import { backup, restore } from '../backup/backup.js';
import { retentionWarning } from '../backup/manifest.js';
import { loadConfig } from '../config/load.js';

const say = (line: string) => process.stdout.write(`wod: ${line}\n`);

export function registerBackup(program: Command): void {
  program
    .command('backup <file>')
    .description("a consistent copy of both databases, the secrets, the hooks' private values and the outbox into one archive (mode 0600), while wod runs")
    .action(async (file: string) => {
      await backup(loadConfig(), file, say);
    });
  program
    .command('restore <file>')
    .description('put a backup into the data folder, which must be empty or absent; the archive is checked first, then `wod start` runs on it')
    .action(async (file: string) => {
      const config = loadConfig();
      const warning = retentionWarning(await restore(config, file, say), config.participants.retentionDays);
      if (warning) say(`warning: ${warning}`);
    });
}
