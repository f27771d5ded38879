/**
 * Portal side: what a backend must be told about a registration it seats, stored in the caller's
 * transaction and delivered by the router (locations/router.ts) until the backend has answered,
 * so an end asked for while the backend is down is never lost.
 */
import type { Db } from '../store/db.js';
import type { LocationCommand } from './protocol.js';

/** Queues a command; one not yet delivered is not queued twice, except more time, which adds up. */
export function queueCommand(db: Db, c: { location: string; registrationId: number; command: LocationCommand; minutes?: number }): void {
  db.prepare(
    `INSERT INTO location_commands (location, registration_id, command, minutes) SELECT ?, ?, ?, ?
            WHERE ? = 'extend' OR NOT EXISTS (SELECT 1 FROM location_commands WHERE location = ? AND registration_id = ? AND command = ?)`,
  ).run(c.location, c.registrationId, c.command, c.minutes ?? null, c.command, c.location, c.registrationId, c.command);
}

/** Where a registration's seat is, if at another wod: its location, and whether that backend has accepted it. */
export function routedTo(db: Db, registrationId: number): { location: string; accepted: boolean } | null {
  const r = db.prepare('SELECT location, routing FROM registrations WHERE id = ?').get(registrationId) as { location: string | null; routing: string | null } | undefined;
  return r?.location ? { location: r.location, accepted: r.routing === 'accepted' } : null;
}

export interface DueCommand {
  id: number;
  location: string;
  registrationId: number;
  command: LocationCommand;
  minutes: number | null;
  attempts: number;
}

export function dueCommands(db: Db, now: Date, limit = 100): DueCommand[] {
  return db
    .prepare(
      `SELECT id, location, registration_id AS registrationId, command, minutes, attempts FROM location_commands
              WHERE next_at <= ? ORDER BY id LIMIT ?`,
    )
    .all(now.toISOString(), limit) as DueCommand[];
}

export function commandDone(db: Db, id: number): void {
  db.prepare('DELETE FROM location_commands WHERE id = ?').run(id);
}

/** Tried again later: 2 s, doubling, at most a minute apart. */
export function commandFailed(db: Db, c: DueCommand, error: string, now: Date): void {
  const waitMs = Math.min(60_000, 2_000 * 2 ** Math.min(c.attempts, 5));
  db.prepare('UPDATE location_commands SET attempts = attempts + 1, error = ?, next_at = ? WHERE id = ?').run(
    error.slice(0, 500),
    new Date(now.getTime() + waitMs).toISOString(),
    c.id,
  );
}
