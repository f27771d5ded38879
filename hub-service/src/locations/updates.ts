/**
 * Backend side: every routed registration that changed goes back to its portal. The database
 * marks it changed on every write (the location_updates triggers), so nothing that moves it,
 * whichever module, can forget to tell; a mark is cleared only once the portal has taken the
 * version sent, so a portal down for an hour hears everything when it is back.
 */
import type { CredentialsRelay } from '../journey/letters.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { seatUpdateOf } from './backend.js';
import { callPeer, type Peers } from './peers.js';
import type { SeatUpdate } from './protocol.js';

/** How often the marks are looked at: the portal hears of a change within this. */
const FLUSH_MS = 200;
const BATCH = 200;

export class PortalUpdates {
  private timer: NodeJS.Timeout | null = null;
  /** a portal that did not take the last batch is tried again after this (ms since the epoch) */
  private readonly retryAt = new Map<string, { at: number; waitMs: number }>();

  constructor(
    private readonly db: Db,
    private readonly peers: Peers,
    private readonly log: Logger,
  ) {}

  start(): void {
    const tick = () => void this.flush().finally(() => (this.timer = setTimeout(tick, FLUSH_MS)));
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  async flush(): Promise<void> {
    const marks = this.db.prepare('SELECT registration_id AS id, version FROM location_updates ORDER BY registration_id LIMIT ?').all(BATCH) as { id: number; version: number }[];
    const byPortal = new Map<string, { id: number; version: number; update: SeatUpdate }[]>();
    for (const m of marks) {
      const u = seatUpdateOf(this.db, m.id);
      // erased meanwhile (participants/erase.ts): nothing left to tell
      if (!u) {
        this.db.prepare('DELETE FROM location_updates WHERE registration_id = ? AND version = ?').run(m.id, m.version);
        continue;
      }
      const { portal, ...update } = u;
      byPortal.set(portal, [...(byPortal.get(portal) ?? []), { ...m, update }]);
    }
    await Promise.all([...byPortal].map(([portal, list]) => this.send(portal, list)));
  }

  private async send(portal: string, list: { id: number; version: number; update: SeatUpdate }[]): Promise<void> {
    const peer = this.peers.get(portal, 'portal');
    const retry = this.retryAt.get(portal);
    if (!peer || (retry && retry.at > Date.now())) return;
    try {
      await callPeer(this.peers, peer, 'POST', '/updates', { updates: list.map((x) => x.update) });
      if (retry) this.log.info(`locations: portal ${portal} takes updates again`);
      this.retryAt.delete(portal);
      const done = this.db.prepare('DELETE FROM location_updates WHERE registration_id = ? AND version = ?');
      this.db.transaction(() => list.forEach((x) => done.run(x.id, x.version)))();
    } catch (e) {
      const waitMs = Math.min(10_000, (retry?.waitMs ?? 500) * 2);
      if (!retry) this.log.warn(`locations: portal ${portal} did not take ${list.length} update(s); kept, tried again`, { error: (e as Error).message });
      this.retryAt.set(portal, { at: Date.now() + waitMs, waitMs });
    }
  }

  /** The credentials of a registration a portal routed here, for it to mail; a failure makes the CREATE step try again. */
  readonly relay: CredentialsRelay = async (portal, c) => {
    const peer = this.peers.get(portal, 'portal');
    if (!peer) throw new Error(`portal ${portal} is not in locations.portals`);
    await callPeer(this.peers, peer, 'POST', '/credentials', c);
  };
}
