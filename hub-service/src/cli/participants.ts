/**
 * `wod participants export <email|id>` (the JSON the admin API gives, on stdout) and
 * `wod participants erase <email|id> [--yes]` (asks first on a terminal): a participant's right of
 * access and right to erasure from the operator's shell, on the same database as the service.
 */
import readline from 'node:readline/promises';
import type { Command } from 'commander';
import { dataPaths } from '../config/paths.js';
import { loadConfig } from '../config/load.js';
import { eraseParticipant } from '../participants/erase.js';
import { exportParticipant, findParticipant, type Participant } from '../participants/participants.js';
import { openDatabase, type Db } from '../store/db.js';
import { presentParticipantExport } from '../web/participant-view.js';

function withParticipant<T>(ref: string, run: (db: Db, p: Participant, config: ReturnType<typeof loadConfig>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = openDatabase(dataPaths(config).database);
  const p = findParticipant(db, ref);
  if (!p) {
    db.close();
    throw new Error(`there is no participant ${ref} (give an email or a participant id)`);
  }
  return run(db, p, config).finally(() => db.close());
}

/** A yes on the terminal; anything else, or no terminal, is a no. */
async function confirmed(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

export function registerParticipants(program: Command): void {
  const participants = program.command('participants').description("a participant's data: export it, erase it");

  participants
    .command('export <participant>')
    .description('print everything wod holds about a participant (email or id) as JSON')
    .action((ref: string) =>
      withParticipant(ref, async (db, p) => {
        process.stdout.write(JSON.stringify(presentParticipantExport(exportParticipant(db, p.id)!), null, 2) + '\n');
      }),
    );

  participants
    .command('erase <participant>')
    .description("erase a participant's personal data (email or id); the anonymous statistics stay")
    .option('--yes', 'do not ask (needed without a terminal)')
    .action((ref: string, opts: { yes?: boolean }) =>
      withParticipant(ref, async (db, p, config) => {
        if (!opts.yes && !(await confirmed(`Erase participant ${p.id} (${p.email}) for good? Type yes: `))) {
          process.stderr.write(`nothing erased${process.stdin.isTTY ? '' : ': no terminal to ask on, add --yes'}\n`);
          process.exitCode = 1;
          return;
        }
        const e = eraseParticipant(db, p.id, { actor: 'cli', outboxDir: dataPaths(config).outbox });
        process.stdout.write(
          `participant ${e.participant} erased: ${e.registrations} registration(s) kept anonymous, ${e.mails} mail(s), ${e.outboxFiles} outbox file(s) and ${e.workArchives} work archive(s) deleted, ` +
            `${e.jobSteps} job log(s) and ${e.auditEntries} audit entr${e.auditEntries === 1 ? 'y' : 'ies'} scrubbed\n`,
        );
        if (e.warning) process.stderr.write(`warning: ${e.warning}\n`);
      }),
    );
}
