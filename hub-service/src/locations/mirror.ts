/**
 * Portal side: a routed registration's copy follows what its backend says. Each update moves it,
 * through the allowed moves of registrations/states.ts, to the backend's state, and the portal
 * tells the participant what each move means, as it would for a seat of its own: the reminder,
 * the thanks with the badge, the apology. A backend speaks only of the registrations routed to it.
 */
import type { Letters } from '../journey/letters.js';
import { DEPLOYING, FINAL, HOLDS_SEAT, moveRegistration, type RegistrationState } from '../registrations/states.js';
import type { Db } from '../store/db.js';
import { queueCommand } from './commands.js';
import { pathBetween } from './placement.js';
import type { SeatCredentials, SeatUpdate } from './protocol.js';

export type Applied = 'applied' | 'unknown' | 'moved-away';

interface Copy {
  id: number;
  state: RegistrationState;
  location: string | null;
  survey: string | null;
}

export class Mirror {
  constructor(
    private readonly db: Db,
    private readonly letters: Letters,
  ) {}

  private copy(location: string, ref: number): Copy | 'unknown' | 'moved-away' {
    const r = this.db.prepare('SELECT id, state, location, survey FROM registrations WHERE id = ?').get(ref) as Copy | undefined;
    if (!r) return 'unknown';
    // not seated there (it moved away, or it never was): that backend is only told to let it go
    return r.location === location ? r : 'moved-away';
  }

  /** Applies one update from `location`, in one transaction with the mails it calls for. */
  apply(location: string, u: SeatUpdate): Applied {
    return this.db
      .transaction((): Applied => {
        const r = this.copy(location, u.ref);
        if (r === 'unknown') return r;
        if (r === 'moved-away') {
          if (!FINAL.includes(u.state)) queueCommand(this.db, { location, registrationId: u.ref, command: 'cancel' });
          return r;
        }
        // over here (ended before the backend seated it): the seat it holds there is let go
        if (!(HOLDS_SEAT as readonly string[]).includes(r.state) && (HOLDS_SEAT as readonly string[]).includes(u.state))
          queueCommand(this.db, { location, registrationId: u.ref, command: r.state === 'ended' ? 'end' : 'cancel' });
        const actor = `location:${location}`;
        this.db.prepare(`UPDATE registrations SET routing = 'accepted', routing_note = NULL WHERE id = ? AND routing = 'pending'`).run(r.id);
        // never back: an end asked for here (and on its way there) outranks an older update
        for (const to of pathBetween(r.state, u.state) ?? []) {
          const from = moveRegistration(this.db, r.id, { to, actor, details: { location } });
          if (from === null) continue;
          if (to === 'reminded' && u.deadlineAt && Date.parse(u.deadlineAt) > Date.now())
            this.letters.reminder(r.id, Math.max(1, Math.round((Date.parse(u.deadlineAt) - Date.now()) / 60_000)));
          if (to === 'cleaned' && u.readyAt) this.letters.thanks(r.id);
          if (to === 'failed' && (DEPLOYING as readonly string[]).includes(from)) this.letters.apology(r.id);
        }
        this.db
          .prepare(
            `UPDATE registrations SET remote_student = ?, ready_at = COALESCE(?, ready_at), deadline_at = COALESCE(?, deadline_at),
                    ended_at = COALESCE(ended_at, ?), end_reason = COALESCE(end_reason, ?), completion = ?,
                    progress_executed = ?, progress_total = ?, progress_at = ?, checks_passed = ?, checks_total = ?, survey = COALESCE(?, survey) WHERE id = ?`,
          )
          .run(
            u.student,
            u.readyAt,
            u.deadlineAt,
            u.endedAt,
            u.endReason,
            u.completion,
            u.progress?.executed ?? null,
            u.progress?.total ?? null,
            u.progress?.at ?? null,
            u.checks?.passed ?? null,
            u.checks?.total ?? null,
            u.survey ? JSON.stringify(u.survey) : null,
            r.id,
          );
        // answered in their JupyterLab, at the backend: acknowledged from here, once
        if (u.survey && !r.survey) this.letters.feedback(r.id, u.survey.rating);
        return 'applied';
      })
      .immediate();
  }

  /**
   * The credentials a backend made: the copy is ready with its deadline (its start link is valid
   * until then), and the mail goes now; a mail that could not go makes the backend try again.
   */
  async credentials(location: string, c: SeatCredentials): Promise<Applied> {
    const r = this.copy(location, c.ref);
    if (r === 'unknown' || r === 'moved-away') return r;
    // ended here meanwhile (its end is on its way there): nothing to log in to, as a seat here would say
    if (!(HOLDS_SEAT as readonly string[]).includes(r.state)) return 'applied';
    const w = this.db.prepare('SELECT w.folder, w.name FROM registrations r JOIN workshops w ON w.id = r.workshop_id WHERE r.id = ?').get(r.id) as { folder: string; name: string };
    this.db
      .transaction(() => {
        this.db.prepare(`UPDATE registrations SET routing = 'accepted', routing_note = NULL, remote_student = ?, deadline_at = ? WHERE id = ?`).run(c.student, c.deadlineAt, r.id);
        moveRegistration(this.db, r.id, { to: 'ready', actor: `location:${location}`, onlyFrom: DEPLOYING, set: { ready_at: new Date().toISOString() }, details: { location } });
      })
      .immediate();
    await this.letters.credentials({
      key: `credentials-${r.id}-${location}-${c.key}`,
      registrationId: r.id,
      student: c.student,
      password: c.password,
      deadlineAt: c.deadlineAt,
      workshop: w,
    });
    return 'applied';
  }
}
