/**
 * Who may give the mail API orders (or mails to relay). A client must connect from
 * `mailApi.networks`, then either log in with SMTP AUTH or come from a network the operator
 * trusts (`mailApi.trustedNetworks`: an original api-db on another host, which cannot
 * authenticate, served in its own dialect by original-dialect.ts). Every participant has a shell on
 * this host, so a connection from this host (loopback or any address of its interfaces) is never
 * trusted, whatever the configuration says. The rules, plus reading the AUTH password; what an
 * address or a network is, is ../network/addresses.ts.
 */
import fs from 'node:fs';
import { CIDR, interfaceAddresses, isInAny, isLoopback, isThisHost, type Network, parseNetwork, touchesLoopback, unmapped } from '../network/addresses.js';
import { readSecretFile } from '../secrets.js';

export interface ClientRules {
  networks: Network[];
  trusted: Network[];
}

/** The networks of the configuration; throws on a malformed one or on a trusted network holding loopback. */
export function clientRules(config: { networks: string[]; trustedNetworks: string[] }): ClientRules {
  const parse = (key: string, text: string) => {
    const n = parseNetwork(text);
    if (!n) throw new Error(`mailApi.${key}: '${text}' is not ${CIDR}`);
    return n;
  };
  const networks = config.networks.map((t) => parse('networks', t));
  const trusted = config.trustedNetworks.map((t) => parse('trustedNetworks', t));
  const loopback = trusted.find(touchesLoopback);
  if (loopback) throw new Error(`mailApi.trustedNetworks: ${loopback.text} ${LOOPBACK_REASON}`);
  return { networks, trusted };
}

export const LOOPBACK_REASON =
  "contains a loopback address: participants run on this host, so a connection from it is never trusted without AUTH; list the api-db host's network instead (e.g. 10.1.2.0/24)";

export interface ClientVerdict {
  /** the address as reported, without an IPv4-mapped prefix */
  address: string;
  /** inside mailApi.networks: may connect at all */
  allowed: boolean;
  /** may order without AUTH */
  trusted: boolean;
  /** inside a trusted network, but a process of this host: the trust is ignored */
  trustIgnored: boolean;
}

export function judgeClient(remoteAddress: string, rules: ClientRules, hostAddresses: () => string[] = interfaceAddresses): ClientVerdict {
  const address = unmapped(remoteAddress);
  const allowed = isInAny(address, rules.networks);
  const listed = allowed && isInAny(address, rules.trusted);
  const local = listed && isThisHost(address, hostAddresses);
  return { address, allowed, trusted: listed && !local, trustIgnored: local };
}

/** What an operator must hear at start about orders taken without AUTH. */
export function trustWarnings(config: { host: string; trustedNetworks: string[] }, hostAddresses: string[]): string[] {
  if (!config.trustedNetworks.length) return [];
  const warnings = [
    `mail API: orders are taken WITHOUT AUTH from mailApi.trustedNetworks ${config.trustedNetworks.join(', ')}: ` +
      "anyone on those networks can end or create any student's workshop; list only the api-db host's network, never one where participants' servers run",
  ];
  const trusted = config.trustedNetworks.map((t) => parseNetwork(t)!);
  const own = hostAddresses.filter((a) => isInAny(a, trusted));
  if (own.length) warnings.push(`mail API: this host's own address(es) ${own.join(', ')} are inside mailApi.trustedNetworks; connections from this host still need AUTH`);
  if (isLoopback(config.host)) {
    warnings.push(
      `mail API: mailApi.trustedNetworks is set but mailApi.host is ${config.host}: no other host can reach the mail API (set mailApi.host to 0.0.0.0 or this host's address)`,
    );
  }
  return warnings;
}

export const MAIL_API_PASSWORD_ENV = 'WOD_MAIL_API_PASSWORD';

/**
 * The mail API's AUTH password: WOD_MAIL_API_PASSWORD when set, else the secret file `wod prepare`
 * generates (0600 in the 0700 secrets folder, so a participant's process cannot read it).
 */
export function readMailApiPassword(file: string, env: NodeJS.ProcessEnv = process.env): { password: string; source: string } {
  const given = env[MAIL_API_PASSWORD_ENV];
  if (given) {
    if (given.length < 16) throw new Error(`${MAIL_API_PASSWORD_ENV} must be at least 16 characters (or unset it: wod then uses ${file})`);
    return { password: given, source: MAIL_API_PASSWORD_ENV };
  }
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EACCES') throw new Error(`cannot read the mail API password in ${file}: only wod's operator may give orders`, { cause: e });
  }
  return { password: readSecretFile(file), source: file };
}
