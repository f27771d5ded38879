/**
 * Portal side: takes each registration seated at a backend there, and tells the backends what
 * the portal decided since (locations/commands.ts). A registration is sent until its backend has
 * accepted it (the same one sent twice is one registration there). Refused there (full, closed),
 * or that backend silent for locations.failoverSeconds, it moves to the next of its workshop's
 * places that has a seat, this wod included, and the one it left is told to let it go; with no
 * such place it waits, and the participant is told either way. Past the deployment watchdog it
 * gives up with the apology, as a seat here would.
 */
import { audit } from '../audit/audit.js';
import type { WodConfig } from '../config/schema.js';
import type { Letters } from '../journey/letters.js';
import type { Logger } from '../log.js';
import { freeStudent, seatHere } from '../registrations/registrations.js';
import { CLOCK_RUNNING, DEPLOYING, moveRegistration, sqlList } from '../registrations/states.js';
import type { Db } from '../store/db.js';
import { commandDone, commandFailed, type DueCommand, dueCommands, queueCommand } from './commands.js';
import type { LocationHealth } from './health.js';
import type { Mirror } from './mirror.js';
import { callPeer, PeerError, type Peers } from './peers.js';
import { choosePlace, HERE, type Place, placesOf } from './placement.js';
import { seatUpdate, type SeatRequest } from './protocol.js';
import type { WodMetrics } from '../metrics/metrics.js';

/** How often the router looks, when nothing kicks it. */
const SWEEP_MS = 1_000;

interface Pending {
  id: number;
  location: string;
  routedAt: string;
  createdAt: string;
  language: string | null;
  email: string;
  name: string;
  company: string;
  folder: string;
  workshopId: number;
  capacity: number;
  range_min: number;
  range_max: number;
  wLocation: string | null;
  alternates: string | null;
}

export class LocationRouter {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /** when a waiting registration is tried next (pacing only: what waits is in the database) */
  private readonly nextTry = new Map<number, number>();

  constructor(
    private readonly d: {
      db: Db;
      config: Pick<WodConfig, 'locations' | 'timers' | 'lifecycle'>;
      peers: Peers;
      health: LocationHealth;
      mirror: Mirror;
      letters: Letters;
      log: Logger;
      /** a CREATE was queued here (a registration came back to this wod) */
      onJob: () => void;
      metrics?: WodMetrics;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return (this.d.now ?? Date.now)();
  }

  start(): void {
    const tick = () => void this.sweep().finally(() => (this.timer = setTimeout(tick, SWEEP_MS)));
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** A backend answers again: what was told to wait for it is due now. */
  backendBack(name: string): void {
    this.d.db.prepare(`UPDATE location_commands SET next_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE location = ?`).run(name);
    for (const r of this.pending()) if (r.location === name) this.nextTry.delete(r.id);
    this.kick();
  }

  /** Looks now (a registration was routed, an end asked for): one sweep at a time, another after it if asked meanwhile. */
  kick(): void {
    setImmediate(() => void this.sweep());
  }

  sweep(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          this.giveUp();
          await Promise.all([this.routeAll(), this.deliverAll()]);
        } catch (e) {
          this.d.log.error('locations: routing sweep failed', { error: (e as Error).message });
        }
      } while (this.again);
    })().finally(() => (this.running = null));
    return this.running;
  }

  private pending(): Pending[] {
    return this.d.db
      .prepare(
        `SELECT r.id, r.location, r.routed_at AS routedAt, r.created_at AS createdAt, r.language, p.email, p.name, p.company,
                w.folder, w.id AS workshopId, w.capacity, w.range_min, w.range_max,
                json_extract(w.spec, '$.location') AS wLocation, json_extract(w.spec, '$.alternateLocation') AS alternates
           FROM registrations r JOIN participants p ON p.id = r.participant_id JOIN workshops w ON w.id = r.workshop_id
          WHERE r.routing = 'pending' AND r.state = 'registered' ORDER BY r.id`,
      )
      .all() as Pending[];
  }

  private async routeAll(): Promise<void> {
    const now = this.now();
    await Promise.all(
      this.pending()
        .filter((r) => (this.nextTry.get(r.id) ?? 0) <= now)
        .map((r) => this.route(r)),
    );
  }

  private async route(r: Pending): Promise<void> {
    const peer = this.d.peers.get(r.location, 'backend');
    if (!peer) return this.reroute(r, 'gone', `${r.location} is no longer in locations.backends`);
    const body: SeatRequest = { ref: r.id, workshop: r.folder, email: r.email, name: r.name, company: r.company, language: r.language };
    try {
      const update = seatUpdate.parse(await callPeer(this.d.peers, peer, 'POST', '/registrations', body));
      this.d.health.answered(peer.name);
      this.d.mirror.apply(peer.name, update);
      this.nextTry.delete(r.id);
    } catch (e) {
      if (!(e instanceof PeerError)) throw e;
      if (e.kind === 'refused') {
        this.d.health.answered(peer.name);
        this.d.health.refused(peer.name, r.folder);
        return this.reroute(r, 'refused', e.message);
      }
      this.d.health.silent(peer.name, e.message);
      if (this.now() - Date.parse(r.routedAt) >= this.d.config.locations.failoverSeconds * 1000) return this.reroute(r, 'silent', e.message);
      this.wait(r, e.message, 1_000);
    }
  }

  /** To the next place with a seat, if there is one; else it waits where it is. */
  private reroute(r: Pending, why: 'refused' | 'silent' | 'gone', reason: string): void {
    const db = this.d.db;
    const places = placesOf(
      { location: r.wLocation, alternateLocation: JSON.parse(r.alternates ?? '[]') as string[] },
      this.d.config.locations.name ?? null,
      this.d.peers.backends().map((p) => p.name),
    );
    const moved = db
      .transaction((): Place | undefined => {
        const student = freeStudent(db, { id: r.workshopId, capacity: r.capacity, range_min: r.range_min, range_max: r.range_max });
        const availability = (p: Place) => (p === HERE ? (student !== null ? 'seats' : 'full') : this.d.health.availability(p, r.folder));
        // never back to a place it left: that one was told to let it go
        const left = (
          db
            .prepare(`SELECT json_extract(details, '$.from') AS place FROM audit WHERE subject_type = 'registration' AND subject_id = ? AND action = 'registration.rerouted'`)
            .all(String(r.id)) as { place: string }[]
        ).map((x) => x.place);
        const place = choosePlace(places, availability, [r.location, ...left]);
        // a silent backend's registrations move only to a seat known now, not to another maybe
        if (place === undefined || (why === 'silent' && availability(place) !== 'seats')) return undefined;
        const current = db.prepare(`SELECT state, routing FROM registrations WHERE id = ?`).get(r.id) as { state: string; routing: string | null };
        if (current.state !== 'registered' || current.routing !== 'pending') return undefined;
        if (place === HERE) {
          db.prepare(`UPDATE registrations SET location = NULL, routing = NULL, routed_at = NULL, routing_note = NULL, reroutes = reroutes + 1 WHERE id = ?`).run(r.id);
          seatHere(db, r.id, { studentId: student!, workshopId: r.workshopId, source: 'portal' });
        } else {
          db.prepare(
            `UPDATE registrations SET location = ?, routing = 'pending', routed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), routing_note = NULL, reroutes = reroutes + 1 WHERE id = ?`,
          ).run(place, r.id);
          this.d.health.took(place, r.folder);
        }
        audit(
          db,
          'system',
          'registration.rerouted',
          { type: 'registration', id: r.id },
          { from: r.location, to: place ?? this.d.config.locations.name ?? 'here', why, reason: reason.slice(0, 300) },
        );
        // it may have reached the one it leaves before that one fell silent
        if (why !== 'refused') queueCommand(db, { location: r.location, registrationId: r.id, command: 'cancel' });
        this.d.letters.delayed(r.id, true);
        return place;
      })
      .immediate();
    if (moved === undefined) return this.wait(r, reason, why === 'refused' ? 10_000 : 2_000);
    this.d.log.info(`registration ${r.id} moved from ${r.location} to ${moved ?? 'here'}`, { why, reason });
    this.d.metrics?.rerouted(r.location, moved ?? 'here');
    this.nextTry.delete(r.id);
    if (moved === HERE) this.d.onJob();
    else this.again = true;
  }

  private wait(r: Pending, reason: string, retryMs: number): void {
    this.nextTry.set(r.id, this.now() + retryMs);
    this.d.db.prepare('UPDATE registrations SET routing_note = ? WHERE id = ? AND routing = ?').run(reason.slice(0, 300), r.id, 'pending');
    // told once, when it has waited as long as a failover would
    if (this.now() - Date.parse(r.createdAt) >= this.d.config.locations.failoverSeconds * 1000) this.d.letters.delayed(r.id, false);
  }

  /**
   * A registration no backend took within the deployment watchdog, or one its backend took and
   * never made ready within twice that: given up, with the apology; its backend lets it go. One
   * running past its deadline by as long, its backend silent, ends here (its end is told there).
   */
  private giveUp(): void {
    if (this.d.config.lifecycle.paused) return;
    const db = this.d.db;
    const watchdogMs = this.d.config.timers.watchdogMinutes * 60_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const overdue = db
      .prepare(`SELECT id, location FROM registrations WHERE routing = 'accepted' AND state IN (${sqlList(CLOCK_RUNNING)}) AND deadline_at <= ?`)
      .all(iso(this.now() - watchdogMs)) as { id: number; location: string }[];
    for (const r of overdue)
      db.transaction(() => {
        const ended = moveRegistration(db, r.id, {
          to: 'ended',
          actor: 'system',
          onlyFrom: CLOCK_RUNNING,
          set: { end_reason: 'deadline', ended_at: iso(this.now()) },
          details: { location: r.location, reason: 'its backend is silent past the deadline' },
        });
        if (ended) queueCommand(db, { location: r.location, registrationId: r.id, command: 'end' });
      }).immediate();
    const late = db
      .prepare(
        `SELECT id, location FROM registrations WHERE state IN (${sqlList(DEPLOYING)})
                AND ((routing = 'pending' AND created_at <= ?) OR (routing = 'accepted' AND created_at <= ?))`,
      )
      .all(iso(this.now() - watchdogMs), iso(this.now() - 2 * watchdogMs)) as { id: number; location: string }[];
    for (const r of late) {
      db.transaction(() => {
        const moved = moveRegistration(db, r.id, {
          to: 'failed',
          actor: 'system',
          onlyFrom: DEPLOYING,
          set: { end_reason: 'watchdog', ended_at: new Date(this.now()).toISOString() },
          details: { reason: 'watchdog', location: r.location, after: `${this.d.config.timers.watchdogMinutes} min` },
        });
        if (!moved) return;
        queueCommand(db, { location: r.location, registrationId: r.id, command: 'cancel' });
        this.d.letters.apology(r.id);
      }).immediate();
      this.nextTry.delete(r.id);
    }
  }

  private async deliverAll(): Promise<void> {
    const due = dueCommands(this.d.db, new Date(this.now()));
    // in order per registration (an end after more time), registrations side by side
    const byRegistration = new Map<number, DueCommand[]>();
    for (const c of due) byRegistration.set(c.registrationId, [...(byRegistration.get(c.registrationId) ?? []), c]);
    await Promise.all(
      [...byRegistration.values()].map(async (list) => {
        for (const c of list) if (!(await this.deliver(c))) break;
      }),
    );
  }

  private async deliver(c: DueCommand): Promise<boolean> {
    const db = this.d.db;
    const peer = this.d.peers.get(c.location, 'backend');
    const route = `/registrations/${c.registrationId}`;
    try {
      if (!peer) throw new PeerError('down', 0, `${c.location} is not in locations.backends`);
      let answer: unknown;
      if (c.command === 'end') {
        const { reason } = db.prepare('SELECT end_reason AS reason FROM registrations WHERE id = ?').get(c.registrationId) as { reason: string | null };
        answer = await callPeer(this.d.peers, peer, 'POST', `${route}/end`, { reason: reason === 'participant' ? 'participant' : 'admin' });
      } else if (c.command === 'extend') answer = await callPeer(this.d.peers, peer, 'POST', `${route}/extend`, { minutes: c.minutes });
      else if (c.command === 'credentials') answer = await callPeer(this.d.peers, peer, 'POST', `${route}/credentials`, {});
      else await callPeer(this.d.peers, peer, 'DELETE', route);
      this.d.health.answered(peer.name);
      if (answer) this.d.mirror.apply(peer.name, seatUpdate.parse(answer));
      commandDone(db, c.id);
      return true;
    } catch (e) {
      if (!(e instanceof PeerError)) throw e;
      if (e.kind === 'refused') {
        // nothing left to do there (already ended, never had it): a registration ended here before it was seated there is over
        if (e.status === 404 && (c.command === 'cancel' || c.command === 'end'))
          db.transaction(() => {
            const r = db.prepare('SELECT location, ready_at AS readyAt FROM registrations WHERE id = ?').get(c.registrationId) as {
              location: string | null;
              readyAt: string | null;
            };
            if (r.location === c.location)
              moveRegistration(db, c.registrationId, {
                to: 'cleaned',
                actor: `location:${c.location}`,
                onlyFrom: ['ended'],
                details: { location: c.location, reason: 'never seated there' },
              });
          })();
        this.d.log.info(`locations: ${c.location} refused ${c.command} of registration ${c.registrationId}`, { error: e.message });
        commandDone(db, c.id);
        return true;
      }
      if (peer) this.d.health.silent(peer.name, e.message);
      commandFailed(db, c, e.message, new Date(this.now()));
      return false;
    }
  }
}
