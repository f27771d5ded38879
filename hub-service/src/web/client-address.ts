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
 * proxy on this host reaching the public port must be listed (and then local users can claim any
 * address through it): hence bindSocket.
 *
 * With `bindSocket` the public side is a Unix socket only the reverse proxy's group can connect to:
 * the last entry, `undefined` (the socket's peer has no address), is that proxy, stepped over so
 * that the entry it wrote is the client, with no `trustedProxies` needed; local accounts cannot
 * reach the public side at all.
 *
 * A loopback peer of another Linux user (a student's process calling the hub's or the service's
 * port directly, with whatever X-Forwarded-For it likes) is its own client: `local-uid-<uid>`.
 * Telling the two apart needs the peer socket's owner (./peer-uid.ts); where the system cannot say
 * (no /proc/net/tcp), loopback peers are taken for the proxy.
 *
 * On Kubernetes the proxy is a pod, its address one of the pod network's like the students' pods:
 * it is known otherwise (`Hop.proxy`): the hub's shim checks its peer against the proxy pods'
 * addresses (spawner-config/wod_authenticator.py), the service's own peer is the proxy by network
 * policy (`peerIsProxy`). The entry the proxy appended is then the client, unless listed.
 */
import { isLoopback, normalizeAddress, type TrustedProxies } from '../network/addresses.js';

/** The owner of the peer's socket: a uid, not found (closed, or not a local socket), or unknowable here. */
export type PeerUid = number | 'not-found' | 'unsupported';

export interface Hop {
  /** the socket's remote address */
  peer: string;
  /** who owns the peer's socket, for a loopback peer */
  peerUid?: PeerUid;
  /** the X-Forwarded-For header(s), joined with commas */
  forwardedFor?: string;
  /** the peer is the hub's proxy, known otherwise than by its address (Kubernetes) */
  proxy?: boolean;
}

export interface ClientAddress {
  /** an IP address, or `local-uid-<uid>` / `local-unknown` for a local process that is not the proxy, `local-socket` for one of bindSocketGroup */
  address: string;
  /** X-Forwarded-For entries were present that this rule did not believe (a forged header, or an unlisted proxy) */
  ignoredForwardedFor: boolean;
}

/** A request through bindSocket that carried no address before the socket's: a process of bindSocketGroup. */
export const SOCKET_PEER = 'local-socket';

/**
 * The entry the hub's proxy appends for a peer of its Unix socket, which has no address: `undefined`.
 * With bindSocket set it stands for the reverse proxy on this host, the socket being open to its
 * group alone (wod start makes the folder), and is stepped over; without, it is never believed.
 */
const isSocketHop = (entry: string, proxies: TrustedProxies): boolean => proxies.socketHop && entry === 'undefined';

/**
 * The client of one request. `ownUid` is the Linux user of the hub (and so of its proxy): a
 * loopback peer of that user is the proxy; of another user, a local process speaking for itself.
 */
export function clientAddress(hop: Hop, trust: { proxies: TrustedProxies; ownUid: number | null }): ClientAddress {
  const peer = normalizeAddress(hop.peer);
  const entries = (hop.forwardedFor ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const alone = (address: string): ClientAddress => ({ address, ignoredForwardedFor: entries.length > 0 });
  if (!peer) return alone('unknown');
  if (hop.proxy) {
    // believed as it is: its address says nothing
  } else if (isLoopback(peer)) {
    const uid = hop.peerUid ?? 'unsupported';
    if (uid === 'not-found') return alone('local-unknown');
    if (typeof uid === 'number' && uid !== trust.ownUid) return alone(`local-uid-${uid}`);
  } else if (!trust.proxies.has(peer)) {
    return alone(peer);
  }
  // The peer is a proxy we believe: walk what it (and the listed proxies before it) saw.
  let client = peer;
  for (let i = entries.length - 1; i >= 0; i--) {
    if (i === entries.length - 1 && isSocketHop(entries[i], trust.proxies)) {
      client = SOCKET_PEER;
      continue;
    }
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
 * req.secure): the socket's peer (index 0) when it is loopback, listed or the proxy by policy, any further hop when listed.
 * `req.ip` itself is set from `clientAddress`, which also knows the peer's owner.
 */
export function trustFunction(proxies: TrustedProxies): (address: string, index: number) => boolean {
  return (address, index) => {
    const a = normalizeAddress(address);
    return !!a && ((index === 0 && (proxies.peerIsProxy || isLoopback(a))) || proxies.has(a));
  };
}
