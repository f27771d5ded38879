/**
 * What a portal knows of each backend: asked every locations.pollSeconds for its seats, and told
 * by every routing call whether it answered. Kept in memory: after a restart the first poll says
 * it again, and until then a backend is `unknown`, which routing treats as "may have a seat".
 */
import type { Logger } from '../log.js';
import { callPeer, type Peer, type Peers } from './peers.js';
import type { Availability } from './placement.js';
import { locationSeats, type LocationSeats } from './protocol.js';

export interface BackendHealth {
  name: string;
  url: string;
  up: boolean | null;
  /** when it last answered */
  seenAt: string | null;
  checkedAt: string | null;
  latencyMs: number | null;
  error: string | null;
  seats: LocationSeats | null;
}

export class LocationHealth {
  private readonly state = new Map<string, BackendHealth>();
  /** when a backend last refused a workshop's registration, by `name/folder` */
  private readonly refusals = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly peers: Peers,
    private readonly log: Logger,
    private readonly pollSeconds: number,
    /** a backend answers again after it did not: what waits for it need not wait its backoff */
    private readonly onBack: (name: string) => void = () => {},
  ) {
    for (const p of peers.backends()) this.state.set(p.name, { name: p.name, url: p.url, up: null, seenAt: null, checkedAt: null, latencyMs: null, error: null, seats: null });
  }

  start(): void {
    const poll = () => void Promise.all(this.peers.backends().map((p) => this.check(p))).finally(() => (this.timer = setTimeout(poll, this.pollSeconds * 1000)));
    poll();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  async check(peer: Peer): Promise<void> {
    const started = Date.now();
    try {
      const seats = locationSeats.parse(await callPeer(this.peers, peer, 'GET', '/seats', undefined, 5_000));
      this.answered(peer.name, { seats, latencyMs: Date.now() - started });
    } catch (e) {
      this.silent(peer.name, (e as Error).message);
    }
  }

  /** A call to the backend got an answer (any answer: it is up). */
  answered(name: string, extra: { seats?: LocationSeats; latencyMs?: number } = {}): void {
    const h = this.state.get(name);
    if (!h) return;
    const was = h.up;
    const now = new Date().toISOString();
    Object.assign(
      h,
      { up: true, seenAt: now, checkedAt: now, error: null },
      extra.seats ? { seats: extra.seats } : {},
      extra.latencyMs !== undefined ? { latencyMs: extra.latencyMs } : {},
    );
    if (was !== true) this.log.info(`location ${name} is up`, { url: h.url });
    if (was === false) this.onBack(name);
  }

  /** A call to the backend got no answer. */
  silent(name: string, error: string): void {
    const h = this.state.get(name);
    if (!h) return;
    const was = h.up;
    Object.assign(h, { up: false, checkedAt: new Date().toISOString(), error });
    if (was !== false) this.log.warn(`location ${name} does not answer`, { url: h.url, error });
  }

  /** It refused a registration of this workshop (full, closed): full to routing until it says otherwise at a later poll. */
  refused(name: string, folder: string): void {
    this.refusals.set(`${name}/${folder}`, Date.now());
  }

  /** A seat was just taken there: counted until the next poll says it. */
  took(name: string, folder: string): void {
    const w = this.workshopAt(name, folder);
    if (w && w.seats > 0) w.seats -= 1;
  }

  /** A workshop as the backend last said it. */
  private workshopAt(name: string, folder: string) {
    return this.state.get(name)?.seats?.workshops.find((x) => x.folder === folder);
  }

  /** The seats it last said this workshop has there (0 when closed or never said). */
  seatsAt(name: string, folder: string): number {
    const w = this.workshopAt(name, folder);
    return w?.active ? w.seats : 0;
  }

  availability(name: string, folder: string): Availability {
    const h = this.state.get(name);
    const refusedAt = this.refusals.get(`${name}/${folder}`);
    if (refusedAt !== undefined && (!h?.checkedAt || Date.parse(h.checkedAt) <= refusedAt + 1_000)) return 'full';
    if (!h?.up || !h.seats) return 'unknown';
    return this.seatsAt(name, folder) > 0 ? 'seats' : 'full';
  }

  isUp(name: string): boolean | null {
    return this.state.get(name)?.up ?? null;
  }

  list(): BackendHealth[] {
    return [...this.state.values()];
  }
}
