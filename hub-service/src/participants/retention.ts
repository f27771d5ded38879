/**
 * Retention: a participant's personal data is erased (./erase.ts) once they have been inactive for
 * `participants.retentionDays`: nothing registered, changed or ended since. The service runs it
 * hourly; a participant who came back in the meantime is simply no longer due.
 */
import type { Actor } from '../audit/audit.js';
import type { Db } from '../store/db.js';
import { eraseParticipant, forgetFreedBytes } from './erase.js';
import { ERASED_PREFIX, ParticipantError } from './participants.js';

const DAY_MS = 86_400_000;

/** The time before which a participant's last activity makes them due, or null when data is kept (0 days). Pure. */
export function retentionCutoff(now: number, retentionDays: number): string | null {
  return retentionDays > 0 ? new Date(now - retentionDays * DAY_MS).toISOString() : null;
}

/**
 * The participants not yet erased whose last activity is before the cutoff: the row made or
 * changed (a new registration updates it), a registration made, a workshop ended.
 */
export function dueForErasure(db: Db, cutoff: string): number[] {
  return (
    db
      .prepare(
        `SELECT p.id FROM participants p LEFT JOIN registrations r ON r.participant_id = p.id
         WHERE p.email NOT LIKE ?
         GROUP BY p.id
         HAVING max(p.created_at, p.updated_at, coalesce(max(r.created_at), ''), coalesce(max(r.ended_at), '')) < ?
         ORDER BY p.id`,
      )
      .all(`${ERASED_PREFIX}%`, cutoff) as { id: number }[]
  ).map((r) => r.id);
}

/**
 * Erases every participant due. One still active (a workshop ended long ago but never cleaned, a
 * seat kept for RESET) is skipped and counted: it comes up again at the next sweep.
 */
export function eraseExpired(db: Db, opts: { retentionDays: number; outboxDir: string; actor?: Actor; now?: number }): { erased: number; skipped: number } {
  const cutoff = retentionCutoff(opts.now ?? Date.now(), opts.retentionDays);
  if (!cutoff) return { erased: 0, skipped: 0 };
  let erased = 0;
  let skipped = 0;
  for (const id of dueForErasure(db, cutoff)) {
    try {
      eraseParticipant(db, id, { actor: opts.actor ?? 'system', outboxDir: opts.outboxDir, forget: false });
      erased++;
    } catch (e) {
      if (!(e instanceof ParticipantError)) throw e;
      skipped++;
    }
  }
  if (erased) forgetFreedBytes(db);
  return { erased, skipped };
}
