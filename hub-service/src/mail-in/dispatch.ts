/**
 * Turns an accepted mail order into jobs, in one transaction, before the SMTP answer: an order
 * answered 250 is stored; one refused changes nothing. A repeated Message-ID runs nothing twice.
 */
import crypto from 'node:crypto';
import { audit } from '../audit/audit.js';
import { enqueueJob, type JobSource, type Verb } from '../jobs/store.js';
import { RUNNING } from '../registrations/registrations.js';
import type { Db } from '../store/db.js';
import { type Order, OrderError, orderSubjects, parseOrder } from './orders.js';

export interface Dispatched {
  duplicate: boolean;
  jobs: number[];
}

const RUNNING_SQL = RUNNING.map((s) => `'${s}'`).join(', ');

export function dispatchOrder(db: Db, order: Order, messageId: string, poolSize: number, source: JobSource = 'mail'): Dispatched {
  return db
    .transaction((): Dispatched => {
      const prefix = `mail:${messageId}:`;
      const seen = db.prepare('SELECT id FROM jobs WHERE idempotency_key >= ? AND idempotency_key < ?').all(prefix, `${prefix}\uffff`) as { id: number }[];
      if (seen.length) return { duplicate: true, jobs: seen.map((j) => j.id) };

      const w = db.prepare('SELECT id, name, range_min, range_max FROM workshops WHERE folder = ? AND removed_at IS NULL').get(order.workshop) as
        | { id: number; name: string; range_min: number; range_max: number }
        | undefined;
      if (!w) throw new OrderError(`unknown workshop ${order.workshop}`);
      const [min, max] = order.verb === 'CREATE' ? [w.range_min, w.range_max] : [1, poolSize];
      const outside = order.students.filter((n) => n < min || n > max);
      if (outside.length) {
        throw new OrderError(`student ${outside[0]} is out of range: ${order.verb === 'CREATE' ? `${order.workshop} uses students ${min} to ${max}` : `the pool is students 1 to ${poolSize}`}`);
      }

      const jobs: number[] = [];
      for (const n of order.students) {
        const student = db.prepare('SELECT id, state, registration_id FROM students WHERE id = ?').get(n) as { id: number; state: string; registration_id: number | null };
        const running = student.registration_id
          ? (db.prepare(`SELECT id FROM registrations WHERE id = ? AND state IN (${RUNNING_SQL})`).get(student.registration_id) as { id: number } | undefined)
          : undefined;
        let registrationId: number | null = running?.id ?? null;

        if (order.verb === 'CREATE') {
          if (student.state !== 'free') throw new OrderError(`student ${n} is in use (${student.state}); CLEANUP or PURGE it first`);
          const participant = db
            .prepare(`INSERT INTO participants (email, name, company) VALUES (?, ?, '') ON CONFLICT (email) DO UPDATE SET updated_at = excluded.updated_at RETURNING id`)
            .get(order.email, order.email) as { id: number };
          registrationId = Number(
            db.prepare(`INSERT INTO registrations (participant_id, workshop_id, student_id, external_id) VALUES (?, ?, ?, ?)`).run(participant.id, w.id, n, order.participantId)
              .lastInsertRowid,
          );
          db.prepare(`UPDATE students SET state = 'allocated', registration_id = ? WHERE id = ?`).run(registrationId, n);
        } else if (order.verb === 'CLEANUP' && running) {
          db.prepare(`UPDATE registrations SET state = 'ended', end_reason = 'mail', ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`).run(running.id);
        } else if (order.verb === 'RESET' && student.state === 'cleanup') {
          registrationId = student.registration_id;
        }
        jobs.push(enqueueJob(db, { verb: order.verb, studentId: n, registrationId, workshopId: w.id, source, key: `${prefix}${n}` }));
      }
      audit(db, `${source}:${order.participantId}`, `order.${order.verb.toLowerCase()}`, { type: 'workshop', id: order.workshop }, { students: order.students, messageId, jobs });
      return { duplicate: false, jobs };
    })
    .immediate();
}

/** A verb on a student or a range given from the panel or the API: the same orders, without mail. */
export function dispatchAction(db: Db, action: { verb: Verb; workshop: string; students: string }, operator: string, poolSize: number, source: JobSource): number[] {
  return orderSubjects(action.verb, action.students, operator).flatMap(
    (subject) => dispatchOrder(db, parseOrder(subject, action.workshop), `${source}:${crypto.randomUUID()}`, poolSize, source).jobs,
  );
}

