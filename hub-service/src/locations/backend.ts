/**
 * Backend side: the registrations portals route here. Each is a registration of this wod like
 * any other (the same desk, seats, lifecycle and clock), known by its portal and the id it has
 * there, whose participant its portal tells: no mail goes from here (journey/letters.ts relays
 * the credentials), and every change of it goes back to the portal (locations/updates.ts).
 */
import { listWorkshops } from '../catalog/catalog.js';
import type { Letters } from '../journey/letters.js';
import type { MailLinks } from '../journey/links.js';
import { RegistrationError, registrationView, type Registrations } from '../registrations/registrations.js';
import { HOLDS_SEAT } from '../registrations/states.js';
import type { Db } from '../store/db.js';
import type { LocationSeats, SeatRequest, SeatUpdate } from './protocol.js';

/** A routed registration as its portal is told it (the view's fields the portal keeps a copy of). */
export function seatUpdateOf(db: Db, registrationId: number): (SeatUpdate & { portal: string }) | null {
  const r = db.prepare('SELECT portal, external_id AS ref FROM registrations WHERE id = ? AND portal IS NOT NULL AND external_id IS NOT NULL').get(registrationId) as
    { portal: string; ref: string } | undefined;
  const v = r && registrationView(db, registrationId);
  if (!r || !v) return null;
  const { state, student, readyAt, deadlineAt, endedAt, endReason, completion, progress, checks, survey } = v;
  return { portal: r.portal, ref: Number(r.ref), state, student, readyAt, deadlineAt, endedAt, endReason, completion, progress, checks, survey };
}

/** The wire shape: without the portal it goes to. */
const wire = ({ portal: _portal, ...u }: SeatUpdate & { portal: string }): SeatUpdate => u;

export class SeatDesk {
  constructor(
    private readonly d: {
      db: Db;
      registrations: Registrations;
      letters: Letters;
      links: MailLinks;
      locationName: string | null;
    },
  ) {}

  private idOf(portal: string, ref: number): number | null {
    const r = this.d.db.prepare('SELECT id FROM registrations WHERE portal = ? AND external_id = ?').get(portal, String(ref)) as { id: number } | undefined;
    return r?.id ?? null;
  }

  private find(portal: string, ref: number): number {
    const id = this.idOf(portal, ref);
    if (id === null) throw new RegistrationError(404, 'unknown-registration', `${portal} routed no registration ${ref} here`);
    return id;
  }

  update(portal: string, ref: number): SeatUpdate {
    return wire(seatUpdateOf(this.d.db, this.find(portal, ref))!);
  }

  /** Seats it (201), or answers the one seated before for the same portal and id (200). */
  seat(portal: string, s: SeatRequest): { created: boolean; update: SeatUpdate } {
    if (this.idOf(portal, s.ref) !== null) return { created: false, update: this.update(portal, s.ref) };
    try {
      const r = this.d.registrations.register(
        { email: s.email, name: s.name, company: s.company, workshop: s.workshop },
        { source: 'api', language: s.language, routedFrom: { portal, ref: s.ref } },
      );
      return { created: true, update: wire(seatUpdateOf(this.d.db, r.id)!) };
    } catch (e) {
      // the same registration sent twice at once: the second finds the first's row
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && this.idOf(portal, s.ref) !== null) return { created: false, update: this.update(portal, s.ref) };
      throw e;
    }
  }

  end(portal: string, ref: number, reason: 'participant' | 'admin'): SeatUpdate {
    this.d.registrations.end(this.find(portal, ref), `location:${portal}`, reason);
    return this.update(portal, ref);
  }

  extend(portal: string, ref: number, minutes: number): SeatUpdate {
    this.d.registrations.extend(this.find(portal, ref), minutes, `location:${portal}`);
    return this.update(portal, ref);
  }

  /** New credentials, relayed to the portal before the old password stops working (journey/letters.ts). */
  async credentials(portal: string, ref: number): Promise<SeatUpdate> {
    await this.d.letters.newCredentials(this.find(portal, ref));
    return this.update(portal, ref);
  }

  startLink(portal: string, ref: number): string | null {
    const id = this.find(portal, ref);
    return this.d.links.startUrl(id, seatUpdateOf(this.d.db, id)!.deadlineAt);
  }

  /** The portal moved it elsewhere or gave up on it: ended here if it held a seat (its CLEANUP frees it). */
  cancel(portal: string, ref: number): void {
    const id = this.find(portal, ref);
    const { state } = seatUpdateOf(this.d.db, id)!;
    if ((HOLDS_SEAT as readonly string[]).includes(state)) this.d.registrations.end(id, `location:${portal}`, 'admin');
  }

  seats(): LocationSeats {
    const jobs = { queued: 0, running: 0 };
    for (const j of this.d.db.prepare(`SELECT state, COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running') GROUP BY state`).all() as {
      state: 'queued' | 'running';
      n: number;
    }[])
      jobs[j.state] = j.n;
    return {
      location: this.d.locationName,
      workshops: listWorkshops(this.d.db, { includeInactive: true })
        .filter((w) => !w.removed)
        .map((w) => ({ folder: w.folder, active: w.active, capacity: w.capacity, seats: w.seats })),
      jobs,
    };
  }
}
