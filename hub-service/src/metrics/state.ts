/**
 * What the database says at scrape time: seats by state, jobs by verb and state, the mail queue.
 * Read at each scrape rather than counted as things happen, so the figures are true after a restart
 * and whoever changed the rows (the service, `wod action --direct`, a timer).
 */
import { JOB_STATES, type JobState, VERBS, type Verb } from '../jobs/store.js';
import type { Db } from '../store/db.js';

/** A free seat prepared for a workshop (students.warm_workshop_id, lifecycle/warm.ts) counts as warm, not free. */
export const SEAT_STATES = ['free', 'warm', 'allocated', 'cleanup'] as const;
export type SeatState = (typeof SEAT_STATES)[number];

export function seatCounts(db: Db): Record<SeatState, number> {
  return db
    .prepare(
      `SELECT COALESCE(SUM(state = 'free' AND warm_workshop_id IS NULL), 0) AS free,
              COALESCE(SUM(state = 'free' AND warm_workshop_id IS NOT NULL), 0) AS warm,
              COALESCE(SUM(state = 'allocated'), 0) AS allocated,
              COALESCE(SUM(state = 'cleanup'), 0) AS cleanup
         FROM students`,
    )
    .get() as Record<SeatState, number>;
}

/** Every verb and state, zero included: a series does not vanish when its last job moves on. */
export function jobCounts(db: Db): { verb: Verb; state: JobState; count: number }[] {
  const rows = db.prepare('SELECT verb, state, COUNT(*) AS count FROM jobs GROUP BY verb, state').all() as { verb: Verb; state: JobState; count: number }[];
  const found = new Map(rows.map((r) => [`${r.verb} ${r.state}`, r.count]));
  return VERBS.flatMap((verb) => JOB_STATES.map((state) => ({ verb, state, count: found.get(`${verb} ${state}`) ?? 0 })));
}

/** Mails waiting for the transport; a relayed mail whose body cannot be opened is not waiting, it will never go (mail-out/mailer.ts). */
export function mailQueueDepth(db: Db): number {
  return (db.prepare(`SELECT COUNT(*) AS n FROM mails WHERE state = 'queued' AND text IS NOT NULL`).get() as { n: number }).n;
}
