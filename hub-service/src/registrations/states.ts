/**
 * The one owner of a registration's state. The states, the moves allowed between them, and the one
 * function every module uses to move a registration (it refuses an illegal move and writes the
 * audit entry). Every other list of states (types, zod enums, SQL `IN (...)`, the CHECK constraint,
 * the lab extension's constant) is derived from here or checked against it by a test.
 *
 *   registered → deploying → ready (credentials sent) → reminded → ended → cleaned
 *   registered | deploying → failed (the CREATE gave up or the watchdog did; PURGE frees the seat)
 *   any running state → ended (participant, admin, deadline or an order ends it; CLEANUP follows)
 *   running or ended → failed (a PURGE took the seat back without a CLEANUP)
 */
import { type Actor, audit } from '../audit/audit.js';
import type { Db } from '../store/db.js';

export const REGISTRATION_STATES = ['registered', 'deploying', 'ready', 'reminded', 'ended', 'cleaned', 'failed'] as const;
export type RegistrationState = (typeof REGISTRATION_STATES)[number];

/** The allowed moves: from a state to the states it may go to. cleaned and failed are final. */
export const TRANSITIONS: Readonly<Record<RegistrationState, readonly RegistrationState[]>> = {
  registered: ['deploying', 'ready', 'ended', 'failed'],
  deploying: ['ready', 'ended', 'failed'],
  ready: ['reminded', 'ended', 'failed'],
  reminded: ['ended', 'failed'],
  ended: ['cleaned', 'failed'],
  cleaned: [],
  failed: [],
};

/** States in which a registration holds its seat and counts against capacity. */
export const HOLDS_SEAT = ['registered', 'deploying', 'ready', 'reminded'] as const satisfies readonly RegistrationState[];
/** States in which the participant's clock runs and they work in JupyterLab (the lab extension's list). */
export const CLOCK_RUNNING = ['ready', 'reminded'] as const satisfies readonly RegistrationState[];
/** States a CREATE may still finish from (later ones mean someone gave up on it). */
export const DEPLOYING = ['registered', 'deploying'] as const satisfies readonly RegistrationState[];
/** States a registration never leaves. */
export const FINAL = REGISTRATION_STATES.filter((s) => TRANSITIONS[s].length === 0);

/** `'a', 'b'`: a list of states for SQL `IN (...)`, from the constants above (never user input). */
export function sqlList(states: readonly RegistrationState[]): string {
  return states.map((s) => `'${s}'`).join(', ');
}

export function canMove(from: RegistrationState, to: RegistrationState): boolean {
  return TRANSITIONS[from].includes(to);
}

export class IllegalTransition extends Error {
  constructor(
    readonly registrationId: number,
    readonly from: RegistrationState,
    readonly to: RegistrationState,
  ) {
    super(`registration ${registrationId} cannot go from ${from} to ${to} (allowed from ${from}: ${TRANSITIONS[from].join(', ') || 'none, it is final'})`);
  }
}

export interface Move {
  to: RegistrationState;
  actor: Actor;
  /** only move from these states; from any other the move is skipped (someone else moved it first) */
  onlyFrom?: readonly RegistrationState[];
  /** columns set with the move (ended_at, end_reason, deadline_at, …): names from code, never input */
  set?: Record<string, string | number | null>;
  /** kept in the audit entry */
  details?: Record<string, unknown>;
}

/**
 * Moves a registration, in the caller's transaction. Returns the state it left, or null when it did
 * not move: already there (a step run again), or outside `onlyFrom`. An illegal move throws.
 */
export function moveRegistration(db: Db, id: number, move: Move): RegistrationState | null {
  const row = db.prepare('SELECT state FROM registrations WHERE id = ?').get(id) as { state: RegistrationState } | undefined;
  if (!row) throw new Error(`there is no registration ${id}`);
  const from = row.state;
  if (from === move.to || (move.onlyFrom && !move.onlyFrom.includes(from))) return null;
  if (!canMove(from, move.to)) throw new IllegalTransition(id, from, move.to);
  const set = Object.entries(move.set ?? {});
  const columns = set.map(([k]) => `, ${k} = ?`).join('');
  db.prepare(`UPDATE registrations SET state = ?${columns} WHERE id = ? AND state = ?`).run(move.to, ...set.map(([, v]) => v), id, from);
  audit(db, move.actor, `registration.${move.to}`, { type: 'registration', id }, { from, ...move.details });
  return from;
}
