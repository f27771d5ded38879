/**
 * Warm seats: free students of a workshop's range prepared before anyone registers (account, hub
 * user, a fresh home, limits, the server running), so that a registration on one only sets the
 * password, deploys the content for its participant and sends the credentials (create.ts). A warm
 * seat has no password (the lock of its last CLEANUP), so it accepts no login until it is allocated.
 *
 * The preparation is a CREATE job without a registration, keyed `WARM:`; the mark is
 * students.warm_workshop_id, cleared when the home is wiped. `refillWarm` keeps each active
 * workshop at its `warm` target (wod.yml, or an admin's), within `lifecycle.warmSeatsMax` in all and
 * a few preparations at a time, so that registrations always find a free job slot; a seat above the
 * target is released by a PURGE. Events add seats for a time ("30 seats of X warm from 08:45 to
 * 10:00"): a workshop's target is its own plus its running events'.
 */
import { type Actor, audit } from '../audit/audit.js';
import type { WodConfig } from '../config/schema.js';
import { enqueueJob, type Job } from '../jobs/store.js';
import type { Db } from '../store/db.js';

const WARM_KEY = 'WARM:';
const UNWARM_KEY = 'UNWARM:';

/** A warm seat's preparation. */
export function isWarmJob(job: Pick<Job, 'idempotency_key' | 'registration_id'>): boolean {
  return job.registration_id === null && !!job.idempotency_key?.startsWith(WARM_KEY);
}

/** The job's student was prepared warm for the job's workshop: its CREATE skips what is done. */
export function isWarmFor(db: Db, job: Pick<Job, 'student_id' | 'workshop_id'>): boolean {
  const row = db.prepare('SELECT warm_workshop_id AS w FROM students WHERE id = ?').get(job.student_id) as { w: number | null } | undefined;
  return job.workshop_id !== null && row?.w === job.workshop_id;
}

export function markWarm(db: Db, studentId: number, workshopId: number): void {
  db.prepare('UPDATE students SET warm_workshop_id = ? WHERE id = ?').run(workshopId, studentId);
}

export function clearWarm(db: Db, studentId: number): void {
  db.prepare('UPDATE students SET warm_workshop_id = NULL WHERE id = ?').run(studentId);
}

export interface WarmTarget {
  workshopId: number;
  folder: string;
  /** the workshop's range */
  first: number;
  last: number;
  target: number;
  /** warm seats ready */
  ready: number;
  /** preparations queued or running */
  preparing: number;
}

/**
 * Each workshop's target (its own plus its running events', never more than the seats it can have
 * at once) and where it stands: active workshops keep theirs, others none.
 */
export function warmTargets(db: Db, now = new Date()): WarmTarget[] {
  return db
    .prepare(
      `SELECT w.id AS workshopId, w.folder, w.range_min AS first, w.range_max AS last,
              CASE WHEN w.active = 1 AND w.removed_at IS NULL
                   THEN MIN(w.warm + (SELECT COALESCE(SUM(e.seats), 0) FROM warm_events e WHERE e.workshop_id = w.id AND e.starts_at <= @now AND e.ends_at > @now),
                            w.capacity, w.range_max - w.range_min + 1)
                   ELSE 0 END AS target,
              (SELECT COUNT(*) FROM students s WHERE s.state = 'free' AND s.warm_workshop_id = w.id) AS ready,
              (SELECT COUNT(*) FROM jobs j WHERE j.workshop_id = w.id AND j.state IN ('queued', 'running') AND j.idempotency_key LIKE '${WARM_KEY}%') AS preparing
         FROM workshops w ORDER BY w.priority, w.id`,
    )
    .all({ now: now.toISOString() }) as WarmTarget[];
}

export class WarmEventError extends Error {}

export interface WarmEvent {
  id: number;
  workshop: string;
  seats: number;
  startsAt: string;
  endsAt: string;
  note: string;
  createdBy: string;
  createdAt: string;
  /** running now */
  active: boolean;
}

/** Events not over yet, soonest first. */
export function listWarmEvents(db: Db, now = new Date()): WarmEvent[] {
  const rows = db
    .prepare(
      `SELECT e.id, w.folder AS workshop, e.seats, e.starts_at AS startsAt, e.ends_at AS endsAt, e.note, e.created_by AS createdBy, e.created_at AS createdAt
         FROM warm_events e JOIN workshops w ON w.id = e.workshop_id WHERE e.ends_at > ? ORDER BY e.starts_at, e.id`,
    )
    .all(now.toISOString()) as Omit<WarmEvent, 'active'>[];
  return rows.map((r) => ({ ...r, active: r.startsAt <= now.toISOString() }));
}

/** An admin's event: checked (a known workshop, a window not over, ending after it starts), stored, audited. */
export function scheduleWarm(db: Db, e: { workshop: string; seats: number; startsAt: Date; endsAt: Date; note?: string }, actor: Actor, now = new Date()): WarmEvent {
  const w = db.prepare('SELECT id, range_min AS first, range_max AS last, capacity FROM workshops WHERE folder = ? AND removed_at IS NULL').get(e.workshop) as
    { id: number; first: number; last: number; capacity: number } | undefined;
  if (!w) throw new WarmEventError(`there is no workshop ${e.workshop}`);
  if (!(e.endsAt > e.startsAt)) throw new WarmEventError('the event must end after it starts');
  if (e.endsAt <= now) throw new WarmEventError('the event is over already');
  const room = Math.min(w.capacity, w.last - w.first + 1);
  if (e.seats > room) throw new WarmEventError(`${e.workshop} can have ${room} seats at once, not ${e.seats}`);
  const id = Number(
    db
      .prepare('INSERT INTO warm_events (workshop_id, seats, starts_at, ends_at, note, created_by) VALUES (?, ?, ?, ?, ?, ?)')
      .run(w.id, e.seats, e.startsAt.toISOString(), e.endsAt.toISOString(), e.note ?? '', actor).lastInsertRowid,
  );
  audit(db, actor, 'warm.scheduled', { type: 'workshop', id: e.workshop }, { event: id, seats: e.seats, startsAt: e.startsAt.toISOString(), endsAt: e.endsAt.toISOString() });
  return listWarmEvents(db, now).find((x) => x.id === id)!;
}

/** Cancels an event; false when there is none of that id. */
export function cancelWarm(db: Db, id: number, actor: Actor): boolean {
  const gone = db.prepare('DELETE FROM warm_events WHERE id = ?').run(id).changes > 0;
  if (gone) audit(db, actor, 'warm.cancelled', { type: 'warm-event', id }, {});
  return gone;
}

/** A job is waiting or working on the student: it is not to be prepared or released now. */
const IDLE = `NOT EXISTS (SELECT 1 FROM jobs j WHERE j.student_id = s.id AND j.state IN ('queued', 'running'))`;

/**
 * Queues what brings every workshop to its target: preparations of free, idle students of its range
 * (lowest first), PURGEs of warm seats above it. Returns the jobs queued.
 */
export function refillWarm(db: Db, config: Pick<WodConfig, 'lifecycle'>): number[] {
  return db
    .transaction(() => {
      const jobs: number[] = [];
      const targets = warmTargets(db);
      let inAll = targets.reduce((n, t) => n + t.ready + t.preparing, 0);
      let inFlight = targets.reduce((n, t) => n + t.preparing, 0);
      // registrations must always find a slot of the engine free
      const pace = Math.max(1, config.lifecycle.concurrency - 1);
      const stamp = Date.now();
      for (const t of targets) {
        const have = t.ready + t.preparing;
        if (have > t.target && t.ready > 0) {
          const surplus = db
            .prepare(`SELECT s.id FROM students s WHERE s.state = 'free' AND s.warm_workshop_id = ? AND ${IDLE} ORDER BY s.id DESC LIMIT ?`)
            .all(t.workshopId, Math.min(t.ready, have - t.target)) as { id: number }[];
          for (const { id } of surplus) {
            clearWarm(db, id);
            jobs.push(enqueueJob(db, { verb: 'PURGE', studentId: id, registrationId: null, workshopId: t.workshopId, source: 'timer', key: `${UNWARM_KEY}${id}:${stamp}` }));
            inAll--;
          }
          continue;
        }
        const want = Math.min(t.target - have, config.lifecycle.warmSeatsMax - inAll, pace - inFlight);
        if (want <= 0) continue;
        const idle = db
          .prepare(`SELECT s.id FROM students s WHERE s.state = 'free' AND s.warm_workshop_id IS NULL AND s.id BETWEEN ? AND ? AND ${IDLE} ORDER BY s.id LIMIT ?`)
          .all(t.first, t.last, want) as { id: number }[];
        for (const { id } of idle) {
          jobs.push(enqueueJob(db, { verb: 'CREATE', studentId: id, registrationId: null, workshopId: t.workshopId, source: 'timer', key: `${WARM_KEY}${id}:${stamp}` }));
          inAll++;
          inFlight++;
        }
      }
      return jobs;
    })
    .immediate();
}
