/**
 * The other wods this one talks to (config `locations`): backends a portal routes registrations to,
 * portals a backend takes them from. Each side issues the token the other presents: `wod locations
 * issue <peer>` prints a new one and keeps only its hash (`<peer>.issued`); the peer's operator
 * gives it to `wod locations accept <name>`, which keeps it (`<name>.token`). Both files are 0600 in
 * the data folder's secrets, read when used, so a token issued or accepted takes effect at once.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { LocationPeer, WodConfig } from '../config/schema.js';
import { SERVICE_PREFIX } from '../config/urls.js';
import { safeEqual } from '../auth/seal.js';

export type PeerRole = 'backend' | 'portal';
export interface Peer extends LocationPeer {
  role: PeerRole;
}

/** Where the location API is served, below the service prefix. */
export const LOCATION_API = 'api/locations/v1';

const hash = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

export class Peers {
  private readonly dir: string;
  readonly list: Peer[];

  constructor(config: Pick<WodConfig, 'dataDir' | 'locations'>) {
    this.dir = path.join(config.dataDir, 'secrets', 'locations');
    this.list = [...config.locations.backends.map((p) => ({ ...p, role: 'backend' as const })), ...config.locations.portals.map((p) => ({ ...p, role: 'portal' as const }))];
  }

  get(name: string, role?: PeerRole): Peer | null {
    return this.list.find((p) => p.name === name && (!role || p.role === role)) ?? null;
  }

  backends(): Peer[] {
    return this.list.filter((p) => p.role === 'backend');
  }

  private file(name: string, kind: 'issued' | 'token'): string {
    return path.join(this.dir, `${name}.${kind}`);
  }

  private write(file: string, value: string): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(this.dir, 0o700);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${value}\n`, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }

  private read(file: string): string | null {
    try {
      const stat = fs.statSync(file);
      if (stat.mode & 0o077) throw new Error(`${file} must not be readable by others (chmod 600 it)`);
      return fs.readFileSync(file, 'utf8').trim() || null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** A new token for `name` to present here (any earlier one stops working); only its hash is kept. */
  issue(name: string): string {
    if (!this.get(name)) throw new Error(`${name} is not in locations.backends or locations.portals`);
    const token = `wodloc_${crypto.randomBytes(32).toString('base64url')}`;
    this.write(this.file(name, 'issued'), hash(token));
    return token;
  }

  /** Keeps the token `name` issued for this wod. */
  accept(name: string, token: string): void {
    if (!this.get(name)) throw new Error(`${name} is not in locations.backends or locations.portals`);
    if (!/^wodloc_[\w-]{43}$/.test(token)) throw new Error(`that is not a token made by 'wod locations issue'`);
    this.write(this.file(name, 'token'), token);
  }

  /** The token this wod presents to `name`; null until one is accepted. */
  tokenFor(name: string): string | null {
    return this.read(this.file(name, 'token'));
  }

  /** Who presents this token: the peer of that role whose issued hash it matches, or null. */
  identify(token: string, role: PeerRole): Peer | null {
    const h = hash(token);
    for (const p of this.list) {
      if (p.role !== role) continue;
      const issued = this.read(this.file(p.name, 'issued'));
      if (issued && safeEqual(issued, h)) return p;
    }
    return null;
  }

  /** What is issued and accepted, per peer (for `wod locations list` and the doctor). */
  state(): { name: string; role: PeerRole; url: string; issued: boolean; accepted: boolean }[] {
    return this.list.map((p) => ({ name: p.name, role: p.role, url: p.url, issued: !!this.read(this.file(p.name, 'issued')), accepted: !!this.tokenFor(p.name) }));
  }
}

/** Why a call to a peer did not succeed: `refused` is the peer's answer (4xx), `down` is no answer or a 5xx. */
export class PeerError extends Error {
  constructor(
    readonly kind: 'down' | 'refused',
    readonly status: number,
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

/** A JSON call to a peer's location API, with the token it issued for us. */
export async function callPeer(peers: Peers, peer: Peer, method: string, route: string, body?: unknown, timeoutMs = 10_000): Promise<unknown> {
  const token = peers.tokenFor(peer.name);
  if (!token) throw new PeerError('down', 0, `no token from ${peer.name} yet: run 'wod locations accept ${peer.name}' with the one it issued`);
  let res: Response;
  try {
    res = await fetch(`${peer.url}${SERVICE_PREFIX}${LOCATION_API}${route}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (e) {
    // fetch's own words are "fetch failed": the reason is its cause's
    const cause = (e as { cause?: { message?: unknown } }).cause;
    throw new PeerError('down', 0, `${peer.name} does not answer: ${typeof cause?.message === 'string' ? cause.message : (e as Error).message}`);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // a proxy's error page: said below by its status
  }
  if (res.ok) return json;
  const said = json as { code?: unknown; message?: unknown } | null;
  const message = `${peer.name} answered ${res.status}${typeof said?.message === 'string' ? `: ${said.message.slice(0, 300)}` : ''}`;
  // 401/403: a token not (or no longer) issued, 502-504: the proxy in front without its service: both wait, like a peer down
  const refused = res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 403 && res.status !== 408 && res.status !== 429;
  throw new PeerError(refused ? 'refused' : 'down', res.status, message, typeof said?.code === 'string' ? said.code : null);
}
