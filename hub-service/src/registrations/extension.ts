/**
 * More time, asked by the participant (from the lab's clock or the status page). Granted when the
 * workshop's wod.yml has `extend`, the clock runs and the deadline has not passed (the end's grace,
 * timers.endGraceSeconds, is for the sweep, not for more time), the participant has not used up
 * `times`, little time is left, and the seat is not needed by someone waiting; refused otherwise,
 * with the reason in words. "Little time left" is the reminder window (timers.reminderMinutes):
 * asked earlier, an extension would only hoard time. "Someone waiting": demand not seated yet, and
 * the workshop has no free seat (as the catalog counts them) to seat it. Registrations being
 * deployed are not waiting: they hold their seats already (HOLDS_SEAT), and so does the CREATE queue
 * (queue.ts), which only orders seated registrations. The demand not seated is a warm event of the
 * workshop running now (a class expected): its seats not yet taken by a registration made since it
 * began. The grant is the admins' extension (Registrations.extend: the deadline move and its audit
 * entry), as the participant, counted.
 *
 * A grant does not move a `reminded` registration back to `ready`: the reminder mail is keyed once
 * per registration (journey/letters.ts, `reminder-<id>`), so a second one could not go. It stays
 * `reminded`; its deadline (the status page's time left and end, the lab's clock) is the new one.
 */
import type { Actor } from '../audit/audit.js';
import type { Db } from '../store/db.js';
import type { RegistrationView, Registrations } from './registrations.js';
import { CLOCK_RUNNING, HOLDS_SEAT, type RegistrationState, sqlList } from './states.js';

export const EXTENSION_REFUSALS = ['not-allowed', 'not-running', 'already-extended', 'too-early', 'seat-needed'] as const;
export type ExtensionRefusal = (typeof EXTENSION_REFUSALS)[number];

/** What the rule looks at, read by `extensionFacts`. */
export interface ExtensionFacts {
  /** wod.yml `extend`; null: the workshop allows none */
  extend: { minutes: number; times: number } | null;
  state: RegistrationState;
  deadlineAt: string | null;
  /** extensions the participant already took */
  used: number;
  /** seats a registration could take now */
  freeSeats: number;
  /** demand not seated yet: seats of the warm events running now not yet taken by a registration made since each began */
  waiting: number;
}

export type ExtensionAnswer = { allowed: true; minutes: number } | { allowed: false; code: ExtensionRefusal; reason: string; minutes: number | null };

const times = (n: number) => (n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`);

/** The rule, pure. `windowMinutes`: extensions are asked in the last so many minutes (the reminder's). */
export function extensionRule(f: ExtensionFacts, windowMinutes: number, now: number): ExtensionAnswer {
  const refuse = (code: ExtensionRefusal, reason: string): ExtensionAnswer => ({ allowed: false, code, reason, minutes: f.extend?.minutes ?? null });
  if (!f.extend) return refuse('not-allowed', 'this workshop does not allow more time');
  if (!(CLOCK_RUNNING as readonly string[]).includes(f.state) || !f.deadlineAt) return refuse('not-running', `your workshop's clock is not running (${f.state})`);
  if (Date.parse(f.deadlineAt) <= now) return refuse('not-running', "your workshop's time is up: it is ending");
  if (f.used >= f.extend.times) {
    return refuse('already-extended', `you already had more time ${times(f.used)}; this workshop allows it ${times(f.extend.times)}`);
  }
  if (Date.parse(f.deadlineAt) - now > windowMinutes * 60_000) return refuse('too-early', `too early: ask in the last ${windowMinutes} minutes`);
  if (f.freeSeats === 0 && f.waiting > 0) return refuse('seat-needed', 'the seat is needed: people are waiting for this workshop');
  return { allowed: true, minutes: f.extend.minutes };
}

/**
 * One read, of this registration and its workshop only (the /me poll and the status page ask on
 * every view): `extend` straight from the stored spec, the free seats as the catalog counts them
 * (catalog.ts: min(capacity − seats held, free students of the range), never below 0), and the
 * event seats not taken yet. An event's seats are taken by the registrations of the workshop made
 * since it began (and since it was scheduled: one made before is no part of its class), failed ones
 * aside (their participant registers again).
 */
const FACTS_SQL = `
  SELECT r.state, r.deadline_at AS deadlineAt, r.extensions_used AS used,
         json_extract(w.spec, '$.extend.minutes') AS extendMinutes, json_extract(w.spec, '$.extend.times') AS extendTimes,
         MAX(0, MIN(w.capacity - (SELECT COUNT(*) FROM registrations x WHERE x.workshop_id = w.id AND x.state IN (${sqlList(HOLDS_SEAT)})),
                    (SELECT COUNT(*) FROM students s WHERE s.state = 'free' AND s.id BETWEEN w.range_min AND w.range_max))) AS freeSeats,
         (SELECT COALESCE(SUM(MAX(0, e.seats - (SELECT COUNT(*) FROM registrations x
                                               WHERE x.workshop_id = e.workshop_id AND x.state <> 'failed'
                                                 AND x.created_at >= MAX(e.starts_at, e.created_at) AND x.created_at <= @now))), 0)
            FROM warm_events e WHERE e.workshop_id = w.id AND e.starts_at <= @now AND e.ends_at > @now) AS waiting
    FROM registrations r JOIN workshops w ON w.id = r.workshop_id WHERE r.id = @id`;

export function extensionFacts(db: Db, registrationId: number, now = Date.now()): ExtensionFacts | null {
  const r = db.prepare(FACTS_SQL).get({ id: registrationId, now: new Date(now).toISOString() }) as
    (Omit<ExtensionFacts, 'extend'> & { extendMinutes: number | null; extendTimes: number | null }) | undefined;
  if (!r) return null;
  // Workshops imported before `extend` existed have none in their stored spec.
  const extend = r.extendMinutes !== null && r.extendTimes !== null ? { minutes: r.extendMinutes, times: r.extendTimes } : null;
  return { extend, state: r.state, deadlineAt: r.deadlineAt, used: r.used, freeSeats: r.freeSeats, waiting: r.waiting };
}

/** Whether an extension asked now would be granted, and why not (what /me and the status page show). */
export function extensionNow(db: Db, registrationId: number, windowMinutes: number, now = Date.now()): ExtensionAnswer | null {
  const facts = extensionFacts(db, registrationId, now);
  return facts && extensionRule(facts, windowMinutes, now);
}

export class ExtensionError extends Error {
  readonly status = 409;
  constructor(
    readonly code: ExtensionRefusal,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The participant asks: the rule and the grant in one transaction, so two asks at once cannot both
 * pass `times`, and the seat count cannot change in between. Refused: ExtensionError, nothing changed.
 */
export function askExtension(db: Db, registrations: Registrations, registrationId: number, actor: Actor, windowMinutes: number, now = Date.now()): RegistrationView {
  return db
    .transaction(() => {
      const answer = extensionNow(db, registrationId, windowMinutes, now);
      if (!answer) throw new Error(`there is no registration ${registrationId}`);
      if (!answer.allowed) throw new ExtensionError(answer.code, answer.reason);
      db.prepare('UPDATE registrations SET extensions_used = extensions_used + 1 WHERE id = ?').run(registrationId);
      return registrations.extend(registrationId, answer.minutes, actor);
    })
    .immediate();
}
