/**
 * Who may give the mail API orders. A client must connect from `mailApi.networks`, then either log
 * in with SMTP AUTH or come from a network the operator trusts (`mailApi.trustedNetworks`: an
 * original api-db on another host, which cannot authenticate). Every participant has a shell on
 * this host, so a connection from this host (loopback or any address of its interfaces) is never
 * trusted, whatever the configuration says. Pure address logic, plus reading the AUTH password.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { readSecretFile } from '../secrets.js';

/** A network in one 128-bit space: IPv4 a.b.c.d/p is the IPv4-mapped ::ffff:a.b.c.d/(96+p). */
export interface Network {
  text: string;
  base: bigint;
  prefix: number;
}

const V4_MAPPED = 0xffffn << 32n;

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Value(address: string): bigint {
  let text = address;
  const tail: number[] = [];
  const dotted = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const v4 = ipv4Value(dotted[2]);
    tail.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    text = dotted[1].endsWith('::') ? dotted[1] : dotted[1].slice(0, -1);
  }
  const groups = (part: string) => part.split(':').filter(Boolean).map((g) => parseInt(g, 16));
  const [head, rest] = text.split('::');
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const all = [...left, ...new Array<number>(8 - left.length - right.length - tail.length).fill(0), ...right, ...tail];
  return all.reduce((n, g) => (n << 16n) | BigInt(g), 0n);
}

/** An address as a 128-bit value (IPv4 and IPv4-mapped IPv6 are the same), or null if it is none. */
export function addressValue(address: string): bigint | null {
  const a = address.replace(/%.*$/, '');
  if (net.isIPv4(a)) return V4_MAPPED | ipv4Value(a);
  if (net.isIPv6(a)) return ipv6Value(a);
  return null;
}

export const CIDR = 'a network in CIDR form, like 10.1.2.0/24 (one address: 10.1.2.3/32)';

/** `10.1.2.0/24`, `fd00::/64` → a Network; null when it is not a network in CIDR form. */
export function parseNetwork(text: string): Network | null {
  const m = text.trim().match(/^([^/\s]+)\/(\d{1,3})$/);
  if (!m) return null;
  const value = addressValue(m[1]);
  const bits = Number(m[2]);
  if (value === null || m[1].includes('%') || bits > (net.isIPv4(m[1]) ? 32 : 128)) return null;
  const prefix = net.isIPv4(m[1]) ? 96 + bits : bits;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(128 - prefix);
  return { text: text.trim(), base: value & mask, prefix };
}

function sameTop(a: bigint, b: bigint, bits: number): boolean {
  return bits === 0 || a >> BigInt(128 - bits) === b >> BigInt(128 - bits);
}

export const contains = (network: Network, value: bigint): boolean => sameTop(network.base, value, network.prefix);
const overlaps = (a: Network, b: Network): boolean => sameTop(a.base, b.base, Math.min(a.prefix, b.prefix));
const inside = (inner: Network, outer: Network): boolean => inner.prefix >= outer.prefix && contains(outer, inner.base);

/** 127.0.0.0/8 (also as ::ffff:127.x) and ::1, plus the unspecified addresses, which reach this host too. */
const THIS_HOST = ['127.0.0.0/8', '::1/128', '0.0.0.0/32', '::/128'].map((n) => parseNetwork(n)!);

/** True when the network holds a loopback address: such a network can never be trusted. */
export function touchesLoopback(network: Network): boolean {
  return THIS_HOST.some((l) => overlaps(network, l));
}

/** True when `inner` lies inside one of `outers`. */
export function isInsideAny(inner: Network, outers: Network[]): boolean {
  return outers.some((o) => inside(inner, o));
}

/** The addresses of this host's interfaces, read now (they may change while wod runs). */
export function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

/** True when a client at `address` is a process of this host: loopback, unspecified, or an interface's address. */
export function isThisHost(address: string, hostAddresses: () => string[] = interfaceAddresses): boolean {
  const value = addressValue(address);
  if (value === null) return true; // not an IP address: not a network client we can vouch for
  return THIS_HOST.some((l) => contains(l, value)) || hostAddresses().some((a) => addressValue(a) === value);
}

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
  const address = remoteAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const value = addressValue(address);
  const allowed = value !== null && rules.networks.some((n) => contains(n, value));
  const listed = allowed && rules.trusted.some((n) => contains(n, value!));
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
  const own = hostAddresses.filter((a) => {
    const v = addressValue(a);
    return v !== null && config.trustedNetworks.some((t) => contains(parseNetwork(t)!, v));
  });
  if (own.length) warnings.push(`mail API: this host's own address(es) ${own.join(', ')} are inside mailApi.trustedNetworks; connections from this host still need AUTH`);
  const hostValue = addressValue(config.host);
  if (hostValue !== null && THIS_HOST.slice(0, 2).some((l) => contains(l, hostValue))) {
    warnings.push(`mail API: mailApi.trustedNetworks is set but mailApi.host is ${config.host}: no other host can reach the mail API (set mailApi.host to 0.0.0.0 or this host's address)`);
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
    if ((e as NodeJS.ErrnoException).code === 'EACCES') throw new Error(`cannot read the mail API password in ${file}: only wod's operator may give orders`);
  }
  return { password: readSecretFile(file), source: file };
}
