/**
 * Which Linux user made a loopback connection: the owner of the peer's socket, read from the
 * kernel's socket table (/proc/net/tcp and tcp6, readable by everyone). The peer's socket is the
 * established one whose local end is the peer's address and whose remote end is ours; its uid is
 * set by the kernel when the socket was created, so a process cannot claim another user's.
 * Only established sockets with an inode count: a socket closed meanwhile (TIME_WAIT shows uid 0)
 * is `not-found`, never root.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import { ipv6Groups, isLoopback, normalizeAddress, type TrustedProxies } from '../network/addresses.js';
import { type ClientAddress, clientAddress, type PeerUid } from './client-address.js';

export interface Endpoint {
  address: string;
  port: number;
}

const LITTLE_ENDIAN = os.endianness() === 'LE';
const hex = (bytes: number[]) =>
  bytes
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
/** The kernel prints each 32-bit word of an address as a host-order number. */
const words = (bytes: number[]) => {
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) out += hex(LITTLE_ENDIAN ? bytes.slice(i, i + 4).reverse() : bytes.slice(i, i + 4));
  return out;
};

function addressBytes(address: string): number[] | null {
  const a = normalizeAddress(address);
  if (!a) return null;
  if (net.isIP(a) === 4) return a.split('.').map(Number);
  return ipv6Groups(a).flatMap((g) => [g >> 8, g & 0xff]);
}

/** How an endpoint appears in /proc/net/tcp (`v4`) or tcp6 (`v6`, IPv4 as ::ffff:a.b.c.d). */
export function procEndpoints(e: Endpoint): { v4: string | null; v6: string | null } {
  const bytes = addressBytes(e.address);
  if (!bytes) return { v4: null, v6: null };
  const port = e.port.toString(16).padStart(4, '0').toUpperCase();
  if (bytes.length === 4) return { v4: `${words(bytes)}:${port}`, v6: `${words([...Array<number>(10).fill(0), 0xff, 0xff, ...bytes])}:${port}` };
  return { v4: null, v6: `${words(bytes)}:${port}` };
}

/** The uid owning the established socket going from `peer` to `local`, in one socket table's text. */
export function socketOwner(table: string, peer: string, local: string): number | null {
  let at = table.indexOf(` ${peer} ${local} `);
  while (at >= 0) {
    const end = table.indexOf('\n', at);
    const fields = table
      .slice(at, end < 0 ? undefined : end)
      .trim()
      .split(/\s+/);
    // local rem st tx:rx tr:when retrnsmt uid timeout inode
    if (fields[2] === '01' && fields[8] !== '0' && /^\d+$/.test(fields[6] ?? '')) return Number(fields[6]);
    at = table.indexOf(` ${peer} ${local} `, at + 1);
  }
  return null;
}

/** The owner of the peer's end of a local TCP connection; `unsupported` where the kernel does not say. */
export async function peerUid(peer: Endpoint, local: Endpoint, read: (file: string) => Promise<string> = (f) => fs.readFile(f, 'latin1')): Promise<PeerUid> {
  const from = procEndpoints(peer);
  const to = procEndpoints(local);
  let readable = false;
  for (const [file, a, b] of [
    ['/proc/net/tcp', from.v4, to.v4],
    ['/proc/net/tcp6', from.v6, to.v6],
  ] as const) {
    if (!a || !b) continue;
    let table: string;
    try {
      table = await read(file);
    } catch {
      continue;
    }
    readable = true;
    const uid = socketOwner(table, a, b);
    if (uid !== null) return uid;
  }
  return readable ? 'not-found' : 'unsupported';
}

export type PeerUidLookup = (peer: Endpoint, local: Endpoint) => Promise<PeerUid>;

/**
 * The client of a connection (`peer` → `local`) carrying `forwardedFor`: the owner of a loopback
 * peer is looked up, then `clientAddress` decides. A loopback peer whose ports are unknown is
 * nobody we can vouch for.
 */
export async function identifyClient(
  connection: { peer: string; peerPort?: number; local?: string; localPort?: number; forwardedFor?: string; proxy?: boolean },
  trust: { proxies: TrustedProxies; ownUid: number | null; lookup?: PeerUidLookup },
): Promise<ClientAddress> {
  const peer = normalizeAddress(connection.peer);
  let uid: PeerUid | undefined;
  if (peer && isLoopback(peer) && !connection.proxy) {
    const { peerPort, local, localPort } = connection;
    uid = peerPort && local && localPort ? await (trust.lookup ?? peerUid)({ address: peer, port: peerPort }, { address: local, port: localPort }) : 'not-found';
  }
  return clientAddress({ peer: connection.peer, peerUid: uid, forwardedFor: connection.forwardedFor, proxy: connection.proxy }, trust);
}
