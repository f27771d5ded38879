/**
 * The desk for orders: the original's mail orders, `wod action`, the admin panel's and the API's
 * actions. An order is stored, with its jobs, in one transaction before it is answered: one
 * answered "accepted" is stored; one refused changes nothing. A repeated message id runs nothing
 * twice. Registrations are made by `allocate` and moved by `moveRegistration`, as the portal's are.
 *
 * An order's participant is its participant id (an api-db's customer id; the operator's orders
 * have one each), not its address: every operator order comes from the operator's address.
 */
import crypto from 'node:crypto';
import { audit } from '../audit/audit.js';
import { enqueueJob, type JobSource, type Verb } from '../jobs/store.js';
import { type Order, OrderError, orderSubjects, parseOrder } from '../mail-in/orders.js';
import type { Db } from '../store/db.js';
import { allocate, endRegistration, modeOf } from './registrations.js';
import { HOLDS_SEAT, type RegistrationState, sqlList } from './states.js';

export interface Dispatched {
  duplicate: boolean;
  jobs: number[];
}

/** The workshop an order names: the folder itself when it exists (a real CHLG-X), else CHLG-X is WKSHP-X in challenge mode. */
function orderedWorkshop(db: Db, folder: string) {
  const find = (f: string) =>
    db.prepare('SELECT id, folder, name, range_min, range_max FROM workshops WHERE folder = ? AND removed_at IS NULL').get(f) as
      { id: number; folder: string; name: string; range_min: number; range_max: number } | undefined;
  return find(folder) ?? (folder.startsWith('CHLG-') ? find(folder.replace(/^CHLG-/, 'WKSHP-')) : undefined);
}

export function placeOrder(db: Db, order: Order, messageId: string, poolSize: number, source: JobSource = 'mail'): Dispatched {
  try {
    return store(db, order, messageId, poolSize, source);
  } catch (e) {
    // A rule of the store (one running registration per student, …) that refuses the order will
    // refuse it again: a permanent refusal with its reason, never "try again".
    if ((e as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) throw new OrderError(`the order conflicts with a running registration: ${(e as Error).message}`);
    throw e;
  }
}

/** The jobs of one order: keyed `mail:<messageId>:<student>`. */
const jobsOfOrder = (db: Db, prefix: string) =>
  db.prepare('SELECT id FROM jobs WHERE idempotency_key >= ? AND idempotency_key < ?').all(prefix, `${prefix}\uffff`) as { id: number }[];

/** How many students the order that made this job concerns (a RESET of a range: its size; 1 for any job not from an order). */
export function orderSize(db: Db, jobKey: string | null): number {
  if (!jobKey?.startsWith('mail:')) return 1;
  return jobsOfOrder(db, jobKey.slice(0, jobKey.lastIndexOf(':') + 1)).length;
}

function store(db: Db, order: Order, messageId: string, poolSize: number, source: JobSource): Dispatched {
  return db
    .transaction((): Dispatched => {
      const prefix = `mail:${messageId}:`;
      const seen = jobsOfOrder(db, prefix);
      if (seen.length) return { duplicate: true, jobs: seen.map((j) => j.id) };

      const w = orderedWorkshop(db, order.workshop);
      if (!w) throw new OrderError(`unknown workshop ${order.workshop}`);
      const [min, max] = order.verb === 'CREATE' ? [w.range_min, w.range_max] : [1, poolSize];
      const outside = order.students.filter((n) => n < min || n > max);
      if (outside.length) {
        throw new OrderError(
          `student ${outside[0]} is out of range: ${order.verb === 'CREATE' ? `${w.folder} uses students ${min} to ${max}` : `the pool is students 1 to ${poolSize}`}`,
        );
      }
      const actor = `${source}:${order.participantId}`;

      const jobs: number[] = [];
      for (const n of order.students) {
        const student = db.prepare('SELECT id, state, registration_id FROM students WHERE id = ?').get(n) as { id: number; state: string; registration_id: number | null };
        // the registration still on the student: running, or ended and waiting for its CLEANUP (maybe stuck)
        const current = student.registration_id
          ? (db.prepare(`SELECT id, state FROM registrations WHERE id = ? AND state IN (${sqlList([...HOLDS_SEAT, 'ended'])})`).get(student.registration_id) as
              { id: number; state: RegistrationState } | undefined)
          : undefined;
        const key = `${prefix}${n}`;

        if (order.verb === 'CREATE') {
          if (student.state !== 'free') throw new OrderError(`student ${n} is in use (${student.state}); CLEANUP or PURGE it first`);
          const participant = db
            .prepare(`INSERT INTO participants (email, name, company) VALUES (?, ?, '') ON CONFLICT (email) DO UPDATE SET updated_at = excluded.updated_at RETURNING id`)
            .get(order.email, order.email) as { id: number };
          const { jobId } = allocate(db, {
            participantId: participant.id,
            workshopId: w.id,
            studentId: n,
            mode: order.challenge ? 'CHLG' : modeOf(w.folder),
            externalId: order.participantId,
            source,
            jobKey: key,
            actor,
            details: { workshop: w.folder, messageId },
          });
          jobs.push(jobId);
          continue;
        }
        if (order.verb === 'CLEANUP' && current && current.state !== 'ended') {
          jobs.push(endRegistration(db, { id: current.id, studentId: n, workshopId: w.id }, { actor, reason: 'mail', source, jobKey: key, details: { messageId } }));
          continue;
        }
        // A RESET concerns the registration of a student kept by a reset: true workshop (cleaned already);
        // CLEANUP and PURGE the one on the student (ended and waiting, or stuck), so that it ends with them.
        const registrationId = order.verb === 'RESET' ? (student.state === 'cleanup' ? student.registration_id : null) : (current?.id ?? null);
        jobs.push(enqueueJob(db, { verb: order.verb, studentId: n, registrationId, workshopId: w.id, source, key }));
      }
      audit(db, actor, `order.${order.verb.toLowerCase()}`, { type: 'workshop', id: w.folder }, { students: order.students, messageId, jobs });
      return { duplicate: false, jobs };
    })
    .immediate();
}

/** A verb on a student or a range given from the panel, the API or `wod action --direct`: the same orders, without mail. */
export function placeAction(db: Db, action: { verb: Verb; workshop: string; students: string }, operator: string, poolSize: number, source: JobSource): number[] {
  return orderSubjects(action.verb, action.students, operator).flatMap(
    (subject) => placeOrder(db, parseOrder(subject, action.workshop), `${source}:${crypto.randomUUID()}`, poolSize, source).jobs,
  );
}
