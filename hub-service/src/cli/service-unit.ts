/** `wod install-service`: the systemd unit of operations/service-unit.ts, written where systemd runs, else printed. */
import fs from 'node:fs';
import os from 'node:os';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import { ENVIRONMENT_FILE, installCommands, renderUnit, UNIT_FILE } from '../operations/service-unit.js';

/** systemd is PID 1 (sd_booted(3)). */
const systemdRuns = () => fs.existsSync('/run/systemd/system');

export function registerServiceUnit(program: Command): void {
  program
    .command('install-service')
    .description(`write a hardened systemd unit for 'wod start' from this checkout to ${UNIT_FILE} (with --print, or without systemd: print it and how to install it)`)
    .option('--print', 'print the unit instead of writing it')
    .action((opts: { print?: boolean }) => {
      const config = loadConfig();
      const unit = renderUnit(config, { node: process.execPath, user: os.userInfo().username });
      const note = (line: string) => process.stderr.write(`wod: ${line}\n`);
      const unseen = Object.keys(process.env).filter((k) => k.startsWith('WOD_') && k !== 'WOD_CONFIG');
      if (unseen.length)
        note(
          `${unseen.sort().join(', ')} ${unseen.length > 1 ? 'are' : 'is'} set here but the service will not see ${unseen.length > 1 ? 'them' : 'it'}: put ${unseen.length > 1 ? 'them' : 'it'} in wod.yaml or ${ENVIRONMENT_FILE} (mode 0600)`,
        );
      if (opts.print || !systemdRuns()) {
        process.stdout.write(unit);
        if (!opts.print) note('systemd is not running here: the unit is printed above');
        note(`save it as wod.service, then:\n  ${installCommands('wod.service').join('\n  ')}`);
        return;
      }
      if (process.getuid?.() !== 0) throw new ConfigError(`writing ${UNIT_FILE} needs root: run it with sudo, or with --print`);
      const partial = `${UNIT_FILE}.partial`;
      fs.writeFileSync(partial, unit, { mode: 0o644 });
      fs.renameSync(partial, UNIT_FILE);
      console.log(`wod: wrote ${UNIT_FILE}; now:\n  ${installCommands(UNIT_FILE).join('\n  ')}`);
    });
}
