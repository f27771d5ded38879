/**
 * Who is on the other end: the one rule, for the hub's logins and for the service's own routes
 * (registration rate limits), of which client address a request comes from.
 *
 * The direct peer of the hub and of the service is configurable-http-proxy, on this host, which
 * appends the address it saw to X-Forwarded-For. So the chain is read from the right: the peer is
 * believed when it is the proxy (a loopback connection made by the hub's own Linux user) or an
 * operator-listed proxy (`trustedProxies`); then each X-Forwarded-For entry is stepped over only
 * while it names a listed proxy. The first entry that is not one is the client. A loopback entry is
 * not believed by itself: anyone on this host reaches the public port from 127.0.0.1, so a reverse
 * proxy on this host must be listed (and then local users can claim any address through it).
 *
 * A loopback peer of another Linux user (a student's process calling the hub's or the service's
 * port directly, with whatever X-Forwarded-For it likes) is its own client: `local-uid-<uid>`.
 * Telling the two apart needs the peer socket's owner (./peer-uid.ts); where the system cannot say
 * (no /proc/net/tcp), loopback peers are taken for the proxy.
 */
import net from 'node:net';

/** The owner of the peer's socket: a uid, not found (closed, or not a local socket), or unknowable here. */
export type PeerUid = number | 'not-found' | 'unsupported';

export interface Hop {
  /** the socket's remote address */
  peer: string;
  /** who owns the peer's socket, for a loopback peer */
  peerUid?: PeerUid;
  /** the X-Forwarded-For header(s), joined with commas */
  forwardedFor?: string;
}

export interface ClientAddress {
  /** an IP address, or `local-uid-<uid>` / `local-unknown` for a local process that is not the proxy */
  address: string;
  /** X-Forwarded-For entries were present that this rule did not believe (a forged header, or an unlisted proxy) */
  ignoredForwardedFor: boolean;
}

/** Operator-listed proxies (CIDRs or single addresses), ready to test addresses against. */
export class TrustedProxies {
  private readonly list = new net.BlockList();
  readonly size: number;

  constructor(cidrs: readonly string[]) {
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

/** `10.0.0.0/8`, `2001:db8::/32`, or one address (`10.0.0.5` = `/32`). */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [raw, bits, ...rest] = text.trim().split('/');
  const address = normalizeAddress(raw);
  if (!address || rest.length) return null;
  const family = net.isIP(address) === 4 ? 'ipv4' : 'ipv6';
  const max = family === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  return prefix >= 0 && prefix <= max ? { address, prefix, family } : null;
}

export const isCidr = (text: string): boolean => parseCidr(text) !== null;

/**
 * An address as written by a socket or a proxy, made comparable: no brackets, no port, no zone,
 * `::ffff:1.2.3.4` as `1.2.3.4`, lower case. Null when it is not an IP address.
 */
export function normalizeAddress(raw: string | undefined): string | null {
  let a = (raw ?? '').trim().replace(/^"|"$/g, '');
  const bracketed = a.match(/^\[([^\]]+)\](?::\d+)?$/);
  if (bracketed) a = bracketed[1];
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  a = a.replace(/%.*$/, '').toLowerCase();
  const mapped = a.match(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/);
  if (mapped) a = mapped[1];
  return net.isIP(a) ? a : null;
}

export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1';
}

/**
 * The client of one request. `ownUid` is the Linux user of the hub (and so of its proxy): a
 * loopback peer of that user is the proxy; of another user, a local process speaking for itself.
 */
export function clientAddress(hop: Hop, trust: { proxies: TrustedProxies; ownUid: number | null }): ClientAddress {
  const peer = normalizeAddress(hop.peer);
  const entries = (hop.forwardedFor ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const alone = (address: string): ClientAddress => ({ address, ignoredForwardedFor: entries.length > 0 });
  if (!peer) return alone('unknown');
  if (isLoopback(peer)) {
    const uid = hop.peerUid ?? 'unsupported';
    if (uid === 'not-found') return alone('local-unknown');
    if (typeof uid === 'number' && uid !== trust.ownUid) return alone(`local-uid-${uid}`);
  } else if (!trust.proxies.has(peer)) {
    return alone(peer);
  }
  // The peer is a proxy we believe: walk what it (and the listed proxies before it) saw.
  let client = peer;
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = normalizeAddress(entries[i]);
    // A believed proxy wrote this entry: an address that is not one means it is not to be believed either.
    if (!entry) return { address: client, ignoredForwardedFor: true };
    client = entry;
    if (!trust.proxies.has(entry)) return { address: client, ignoredForwardedFor: i > 0 };
  }
  return { address: client, ignoredForwardedFor: false };
}

/**
 * The same rule as Express's `trust proxy` function, for what Express derives from it (req.protocol,
 * req.secure): the socket's peer (index 0) when it is loopback or listed, any further hop when listed.
 * `req.ip` itself is set from `clientAddress`, which also knows the peer's owner.
 */
export function trustFunction(proxies: TrustedProxies): (address: string, index: number) => boolean {
  return (address, index) => {
    const a = normalizeAddress(address);
    return !!a && ((index === 0 && isLoopback(a)) || proxies.has(a));
  };
}

/**
 * What throttles count by: an IPv4 address as is, an IPv6 address by its /64 (one subscriber's
 * network: whoever holds one has billions of addresses), anything else (local-uid-N) as is.
 */
export function addressBucket(address: string): string {
  if (net.isIP(address) !== 6) return address;
  const groups = ipv6Groups(address);
  return groups ? `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64` : address;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing IPv4 part folded in). */
export function ipv6Groups(address: string): number[] | null {
  let text = address;
  const v4 = text.match(/(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = part(head);
  const right = part(tail);
  const gap = 8 - left.length - right.length;
  if (tail !== undefined && gap < 1) return null;
  const groups = tail === undefined ? left : [...left, ...Array<number>(gap).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}
