/**
 * Retention: a participant's personal data is erased (./erase.ts) once they have been inactive for
 * `participants.retentionDays`: nothing registered, changed or ended since. The service runs it
 * hourly; a participant who came back in the meantime is simply no longer due.
 */
import type { Actor } from '../audit/audit.js';
import type { Db } from '../store/db.js';
import { eraseParticipant, forgetFreedBytes, outboxFilesNaming, stillActive } from './erase.js';
import { ERASED_PREFIX, findParticipant, ParticipantError } from './participants.js';

const DAY_MS = 86_400_000;

/**
 * The most participants one sweep erases; the rest wait for the next sweep (an hour). The sweep is
 * synchronous: a first one after months of data, or after retention was shortened, must not hold
 * the service for minutes.
 */
export const SWEEP_BATCH = 50;

/** The time before which a participant's last activity makes them due, or null when data is kept (0 days). Pure. */
export function retentionCutoff(now: number, retentionDays: number): string | null {
  return retentionDays > 0 ? new Date(now - retentionDays * DAY_MS).toISOString() : null;
}

/**
 * The participants not yet erased (the email is not their own `erased:<id>`) whose last activity is before the cutoff: the row made or
 * changed (a new registration updates it), a registration made, a workshop ended.
 */
export function dueForErasure(db: Db, cutoff: string): number[] {
  return (
    db
      .prepare(
        `SELECT p.id FROM participants p LEFT JOIN registrations r ON r.participant_id = p.id
         WHERE p.email <> (? || p.id)
         GROUP BY p.id
         HAVING max(p.created_at, p.updated_at, coalesce(max(r.created_at), ''), coalesce(max(r.ended_at), '')) < ?
         ORDER BY p.id`,
      )
      .all(ERASED_PREFIX, cutoff) as { id: number }[]
  ).map((r) => r.id);
}

/**
 * Erases the participants due, at most `batch` of them (SWEEP_BATCH): `left` are due still, for
 * the next sweep. One still active (a workshop ended long ago but never cleaned, a seat kept for
 * RESET) is skipped and counted, and does not take a place in the batch: it comes up again at the
 * next sweep. The outbox folder is read once and VACUUM runs once, for the whole batch; `warning`
 * is what forgetFreedBytes() reports.
 */
export function eraseExpired(
  db: Db,
  opts: { retentionDays: number; outboxDir: string; actor?: Actor; now?: number; batch?: number },
): { erased: number; skipped: number; left: number; warning?: string } {
  const cutoff = retentionCutoff(opts.now ?? Date.now(), opts.retentionDays);
  if (!cutoff) return { erased: 0, skipped: 0, left: 0 };
  const due = dueForErasure(db, cutoff);
  const size = opts.batch ?? SWEEP_BATCH;
  const batch: number[] = [];
  let looked = 0;
  while (looked < due.length && batch.length < size) {
    const id = due[looked++];
    if (!stillActive(db, id)) batch.push(id);
  }
  let skipped = looked - batch.length;
  const emails = new Map(batch.map((id) => [id, findParticipant(db, String(id))!.email]));
  const naming = outboxFilesNaming(opts.outboxDir, [...emails.values()]);
  let erased = 0;
  for (const id of batch) {
    try {
      eraseParticipant(db, id, { actor: opts.actor ?? 'system', outboxDir: opts.outboxDir, forget: false, outboxNaming: naming.get(emails.get(id)!) });
      erased++;
    } catch (e) {
      if (!(e instanceof ParticipantError)) throw e;
      skipped++;
    }
  }
  const warning = erased ? forgetFreedBytes(db) : null;
  return { erased, skipped, left: due.length - looked, ...(warning && { warning }) };
}
