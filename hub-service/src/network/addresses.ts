/**
 * IP addresses and networks, read in one place for the client-address rule (../web/client-address.ts)
 * and the mail API's client rules (../mail-in/access.ts). IPv4 lives in the IPv6 space as
 * IPv4-mapped (a.b.c.d = ::ffff:a.b.c.d), so either spelling of an address or network means the same.
 */
import net from 'node:net';
import os from 'node:os';

/** `::ffff:1.2.3.4` as `1.2.3.4`: a dual-stack socket reports its IPv4 peers that way. */
export const unmapped = (address: string): string => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

/**
 * An address as written by a socket or a proxy, made comparable: no brackets, no port, no zone,
 * `::ffff:1.2.3.4` as `1.2.3.4`, lower case. Null when it is not an IP address.
 */
export function normalizeAddress(raw: string | undefined): string | null {
  let a = (raw ?? '').trim().replace(/^"|"$/g, '');
  const bracketed = a.match(/^\[([^\]]+)\](?::\d+)?$/);
  if (bracketed) a = bracketed[1];
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  a = unmapped(a.replace(/%.*$/, '').toLowerCase());
  return net.isIP(a) ? a : null;
}

/** The eight 16-bit groups of an address net.isIPv6 accepts: `::` expanded, a trailing IPv4 part folded in, a zone ignored. */
export function ipv6Groups(address: string): number[] {
  let text = address.replace(/%.*$/, '');
  const v4 = text.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const groups = (part = '') =>
    part
      .split(':')
      .filter(Boolean)
      .map((g) => parseInt(g, 16));
  const left = groups(head);
  const right = groups(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** An address as a 128-bit value (IPv4 as IPv4-mapped), or null when it is none. */
function addressValue(address: string): bigint | null {
  const a = address.replace(/%.*$/, '');
  const family = net.isIP(a);
  if (!family) return null;
  return ipv6Groups(family === 4 ? `::ffff:${a}` : a).reduce((n, g) => (n << 16n) | BigInt(g), 0n);
}

/**
 * What throttles count by: an IPv4 address as is, an IPv6 address by its /64 (one subscriber's
 * network: whoever holds one has billions of addresses), anything else (local-uid-N) as is.
 */
export function addressBucket(address: string): string {
  if (net.isIP(address) !== 6) return address;
  return `${ipv6Groups(address)
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `address/prefix`, the address as `read` accepts it; without a prefix, one address when `single`. */
function readCidr(text: string, read: (raw: string) => string | null, single: boolean): Cidr | null {
  const [raw, bits, ...rest] = text.trim().split('/');
  const address = read(raw);
  if (!address || rest.length || (bits === undefined && !single)) return null;
  const family = net.isIP(address) === 4 ? 'ipv4' : 'ipv6';
  const max = family === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  return prefix >= 0 && prefix <= max ? { address, prefix, family } : null;
}

/**
 * A proxy's network (`trustedProxies`): `10.0.0.0/8`, `2001:db8::/32`, or one address (`10.0.0.5` =
 * `/32`), the address in any form normalizeAddress reads.
 */
export const parseCidr = (text: string): Cidr | null => readCidr(text, normalizeAddress, true);

export const isCidr = (text: string): boolean => parseCidr(text) !== null;

/**
 * Operator-listed proxies (CIDRs or single addresses), ready to test addresses against; and the
 * proxies known otherwise than by their address (../web/client-address.ts): the hub's public side
 * a Unix socket (config `bindSocket`), whose peer, the reverse proxy on this host, is believed too;
 * the service's own peer always the hub's proxy (config `peerIsProxy`, Kubernetes: a network policy
 * admits only the hub and its proxy to the wod pod, whose addresses are any of the pod network's).
 */
export class TrustedProxies {
  private readonly list = new net.BlockList();
  readonly size: number;
  readonly socketHop: boolean;
  readonly peerIsProxy: boolean;

  constructor(cidrs: readonly string[], opts: { socketHop?: boolean; peerIsProxy?: boolean } = {}) {
    this.socketHop = opts.socketHop ?? false;
    this.peerIsProxy = opts.peerIsProxy ?? false;
    for (const cidr of cidrs) {
      const parsed = parseCidr(cidr);
      if (!parsed) throw new Error(`not a network: ${cidr}`);
      this.list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.size = cidrs.length;
  }

  has(address: string): boolean {
    const family = net.isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * A network in the 128-bit space: IPv4 a.b.c.d/p is ::ffff:a.b.c.d/(96+p). Numbers rather than a
 * BlockList, since the mail API's configuration checks compare networks with each other.
 */
export interface Network {
  text: string;
  base: bigint;
  prefix: number;
}

export const CIDR = 'a network in CIDR form, like 10.1.2.0/24 (one address: 10.1.2.3/32)';

/** `10.1.2.0/24`, `fd00::/64` → a Network; null when it is not a network in CIDR form (the prefix written, no zone). */
export function parseNetwork(text: string): Network | null {
  const cidr = readCidr(text, (raw) => (net.isIP(raw) && !raw.includes('%') ? raw : null), false);
  if (!cidr) return null;
  const prefix = cidr.family === 'ipv4' ? 96 + cidr.prefix : cidr.prefix;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(128 - prefix);
  return { text: text.trim(), base: addressValue(cidr.address)! & mask, prefix };
}

function sameTop(a: bigint, b: bigint, bits: number): boolean {
  return bits === 0 || a >> BigInt(128 - bits) === b >> BigInt(128 - bits);
}

const contains = (network: Network, value: bigint): boolean => sameTop(network.base, value, network.prefix);
const overlaps = (a: Network, b: Network): boolean => sameTop(a.base, b.base, Math.min(a.prefix, b.prefix));
const inside = (inner: Network, outer: Network): boolean => inner.prefix >= outer.prefix && contains(outer, inner.base);

/** True when `address` is an IP address inside one of `networks`. */
export function isInAny(address: string, networks: Network[]): boolean {
  const value = addressValue(address);
  return value !== null && networks.some((n) => contains(n, value));
}

/** True when the network `inner` lies inside one of `outers`. */
export function isInsideAny(inner: Network, outers: Network[]): boolean {
  return outers.some((o) => inside(inner, o));
}

const networks = (texts: string[]) => texts.map((t) => parseNetwork(t)!);
/** 127.0.0.0/8 (also as ::ffff:127.x) and ::1. */
const LOOPBACK = networks(['127.0.0.0/8', '::1/128']);
/** Loopback plus the unspecified addresses, which reach this host too. */
const THIS_HOST = [...LOOPBACK, ...networks(['0.0.0.0/32', '::/128'])];

export const isLoopback = (address: string): boolean => isInAny(address, LOOPBACK);

/** True when the network holds a loopback (or unspecified) address: such a network can never be trusted. */
export function touchesLoopback(network: Network): boolean {
  return THIS_HOST.some((l) => overlaps(network, l));
}

/** The addresses of this host's interfaces, read now (they may change while wod runs). */
export function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

/** True when a client at `address` is a process of this host: loopback, unspecified, or an interface's address. */
export function isThisHost(address: string, hostAddresses: () => string[] = interfaceAddresses): boolean {
  const value = addressValue(address);
  if (value === null) return true; // not an IP address: not a network client we can vouch for
  return isInAny(address, THIS_HOST) || hostAddresses().some((a) => addressValue(a) === value);
}
