/**
 * The original's mail orders, exactly as its api-db (and wod-test-action.sh) sends them:
 *   Subject: CREATE <stdid> <participantId> <email>
 *   Subject: CLEANUP <stdid> <participantId>
 *   Subject: RESET <stdid>|<min>,<max> <participantId>
 *   Subject: PURGE <stdid> <participantId>
 * with the workshop folder on the first line of the body (CHLG-X: challenge mode, see
 * registrations/order-desk.ts). Pure: text in, order or the reason it is refused out.
 */
import { WORKSHOP_FOLDER } from '../catalog/spec.js';
import type { Verb } from '../jobs/store.js';

export interface Order {
  verb: Verb;
  /** the students it concerns (a RESET may name a range) */
  students: number[];
  participantId: string;
  email: string | null;
  /** the folder as the order wrote it (CHLG-X is WKSHP-X in challenge mode unless a CHLG-X folder exists) */
  workshop: string;
  challenge: boolean;
}

export class OrderError extends Error {}

const SUBJECTS: Record<Verb, RegExp> = {
  CREATE: /^CREATE (\d+) (\d+) (\S+@\S+)$/,
  CLEANUP: /^CLEANUP (\d+) (\d+)$/,
  RESET: /^RESET (\d+(?:,\d+)?) (\d+)$/,
  PURGE: /^PURGE (\d+) (\d+)$/,
};

export function parseOrder(subject: string, body: string): Order {
  const s = subject.trim().replace(/\s+/g, ' ');
  const verb = s.split(' ')[0] as Verb;
  const pattern = SUBJECTS[verb];
  if (!pattern) throw new OrderError(`unknown order '${s.split(' ')[0] ?? ''}': the subject starts with CREATE, CLEANUP, RESET or PURGE`);
  const m = s.match(pattern);
  if (!m) {
    const forms = {
      CREATE: 'CREATE <stdid> <participantId> <email>',
      CLEANUP: 'CLEANUP <stdid> <participantId>',
      RESET: 'RESET <stdid>|<min>,<max> <participantId>',
      PURGE: 'PURGE <stdid> <participantId>',
    };
    throw new OrderError(`malformed ${verb} order: the subject must read '${forms[verb]}'`);
  }
  const [first, last = first] = m[1].split(',').map(Number);
  if (first < 1 || last < first) throw new OrderError(`student range ${m[1]} is empty or starts below 1`);
  if (last - first >= 1000) throw new OrderError(`student range ${m[1]} is larger than 1000 students`);
  const line =
    body
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l) ?? '';
  if (!WORKSHOP_FOLDER.test(line)) throw new OrderError(`the first line of the body must be the workshop folder (WKSHP-…), not '${line.slice(0, 60)}'`);
  return {
    verb,
    students: Array.from({ length: last - first + 1 }, (_, i) => first + i),
    participantId: m[2],
    email: verb === 'CREATE' ? m[3].toLowerCase() : null,
    workshop: line,
    challenge: line.startsWith('CHLG-'),
  };
}

/** One order per student for CREATE and CLEANUP, one for a RESET range; PURGE takes one student. */
export function orderSubjects(verb: Verb, students: string, operator: string): string[] {
  const [first, last = first] = students.split(',').map(Number);
  if (!Number.isInteger(first) || !Number.isInteger(last) || first < 1 || last < first) throw new OrderError(`'${students}' is not a student number or a min,max range`);
  if (verb === 'RESET') return [`RESET ${students} 0`];
  if (verb === 'PURGE' && last !== first) throw new OrderError('PURGE takes one student, not a range');
  return Array.from({ length: last - first + 1 }, (_, i) => `${verb} ${first + i} 0${verb === 'CREATE' ? ` ${operator}` : ''}`);
}
