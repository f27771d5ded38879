/**
 * `wod locations`: the tokens this wod and its peers present to each other (locations/peers.ts),
 * and whether each backend answers. A token is printed once, when issued, and kept only as a hash.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { callPeer, Peers } from '../locations/peers.js';
import { locationSeats } from '../locations/protocol.js';

export function registerLocations(program: Command): void {
  const locations = program.command('locations').description('several wods as one: the backends this portal routes registrations to, the portals this backend seats them for');
  locations
    .command('list')
    .description('every peer in locations.backends and locations.portals, its tokens, and whether each backend answers now')
    .action(async () => {
      const peers = new Peers(loadConfig());
      if (!peers.list.length) return void console.log('no peers: locations.backends and locations.portals are empty');
      for (const p of peers.state()) {
        const peer = peers.get(p.name, p.role)!;
        let answer = '';
        if (p.role === 'backend' && p.accepted) {
          try {
            const seats = locationSeats.parse(await callPeer(peers, peer, 'GET', '/seats', undefined, 5_000));
            answer = `  up, ${seats.workshops.reduce((n, w) => n + w.seats, 0)} free seat(s)`;
          } catch (e) {
            answer = `  DOWN: ${(e as Error).message}`;
          }
        }
        console.log(`${p.role.padEnd(8)} ${p.name.padEnd(24)} ${p.url}  issued: ${p.issued ? 'yes' : 'no'}  accepted: ${p.accepted ? 'yes' : 'no'}${answer}`);
      }
    });
  locations
    .command('issue <name>')
    .description('print a new token for peer <name> to present here (the one issued before stops working); give it to its operator for `wod locations accept`')
    .action((name: string) => {
      process.stdout.write(`${new Peers(loadConfig()).issue(name)}\n`);
    });
  locations
    .command('accept <name>')
    .description('keep the token peer <name> issued for this wod, read from standard input (or --token-file)')
    .option('--token-file <file>', 'read the token from this file instead')
    .action((name: string, opts: { tokenFile?: string }) => {
      const token = fs.readFileSync(opts.tokenFile ?? 0, 'utf8').trim();
      new Peers(loadConfig()).accept(name, token);
      console.log(`token from ${name} kept; this wod presents it from now on`);
    });
}
