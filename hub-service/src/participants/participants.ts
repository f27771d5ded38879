/**
 * A participant's personal data, wherever wod keeps it: the participants row (email, name,
 * company), their registrations (client address, the api-db's participant id, survey comments),
 * the mails to them (address, subject, stored bodies; sealed relayed bodies) and their outbox
 * files, the job step logs that name them ("credentials mailed to …"), and the audit entries about
 * them or their registrations (an actor `participant:<email>`). The hub's own database holds only
 * the pool's `studentN` users, never a participant. Lookup and export here; erasure in ./erase.ts.
 */
import type { Db } from '../store/db.js';
import { mailDetails, type MailDetail } from '../mail-out/queries.js';
import { participantRegistrations, type RegistrationView } from '../registrations/registrations.js';

/**
 * An erased participant's email: `erased:<id>`. Unique as the id is, and never an address anyone
 * can register or order with (those need an `@`), so nobody takes the row over. isErased() matches
 * that form exactly: a mail-API order accepts any `\S+@\S+`, `erased:1@x` among them, and that
 * participant is a live one.
 */
export const ERASED_PREFIX = 'erased:';
const ERASED_EMAIL = /^erased:\d+$/;
export const erasedEmail = (id: number) => `${ERASED_PREFIX}${id}`;
export const isErased = (email: string) => ERASED_EMAIL.test(email);
/** What an erased participant's name and company read. */
export const ERASED_TEXT = '(erased)';

export class ParticipantError extends Error {
  constructor(
    readonly status: 404 | 409,
    readonly code: 'unknown-participant' | 'participant-active',
    message: string,
  ) {
    super(message);
  }
}

export interface Participant {
  id: number;
  email: string;
  name: string;
  company: string;
  createdAt: string;
  updatedAt: string;
}

const SELECT_PARTICIPANT = `SELECT id, email, name, company, created_at AS createdAt, updated_at AS updatedAt FROM participants`;

/** A participant by id (all digits) or email (any case), erased ones included. */
export function findParticipant(db: Db, ref: string): Participant | null {
  const r = ref.trim();
  const row = /^\d{1,12}$/.test(r) ? db.prepare(`${SELECT_PARTICIPANT} WHERE id = ?`).get(Number(r)) : db.prepare(`${SELECT_PARTICIPANT} WHERE email = ?`).get(r.toLowerCase());
  return (row as Participant | undefined) ?? null;
}

export interface ParticipantSummary extends Participant {
  registrations: number;
  erased: boolean;
}

/** Participants, newest first, or the one of an email. */
export function listParticipants(db: Db, q: { email?: string; limit: number; offset: number }): { items: ParticipantSummary[]; total: number } {
  const where = q.email === undefined ? '' : ' WHERE p.email = ?';
  const params = q.email === undefined ? [] : [q.email.toLowerCase()];
  const rows = db
    .prepare(
      `SELECT p.id, p.email, p.name, p.company, p.created_at AS createdAt, p.updated_at AS updatedAt,
              (SELECT COUNT(*) FROM registrations r WHERE r.participant_id = p.id) AS registrations
       FROM participants p${where} ORDER BY p.id DESC LIMIT ? OFFSET ?`,
    )
    .all(...params, q.limit, q.offset) as Omit<ParticipantSummary, 'erased'>[];
  return {
    items: rows.map((r) => ({ ...r, erased: isErased(r.email) })),
    total: (db.prepare(`SELECT COUNT(*) AS n FROM participants p${where}`).get(...params) as { n: number }).n,
  };
}

/** A registration as its participant's export shows it: what the panel shows, and what it keeps apart. */
export type RegistrationRecord = Omit<RegistrationView, 'participant' | 'workshop'> & {
  workshop: { folder: string; name: string };
  mode: string;
  badge: string | null;
  clientIp: string | null;
  externalId: string | null;
};

export interface AuditRecord {
  at: string;
  actor: string;
  action: string;
  subject: { type: string; id: string };
  details: unknown;
}

export interface ParticipantExport {
  participant: Participant;
  registrations: RegistrationRecord[];
  mails: MailDetail[];
  audit: AuditRecord[];
}

export const registrationIds = (db: Db, participantId: number): number[] =>
  (db.prepare('SELECT id FROM registrations WHERE participant_id = ? ORDER BY id').all(participantId) as { id: number }[]).map((r) => r.id);

/** The audit entries about a participant: their own, their registrations', and any naming their address. */
export function auditAbout(p: Participant, registrations: number[]): { where: string; params: unknown[] } {
  const ids = registrations.map((id) => `'${id}'`).join(', ') || 'NULL';
  return {
    where: `((subject_type = 'participant' AND subject_id = ?) OR (subject_type = 'registration' AND subject_id IN (${ids}))
             OR instr(lower(actor), ?) > 0 OR instr(lower(details), ?) > 0)`,
    params: [String(p.id), p.email, p.email],
  };
}

/** The mails to a participant: those of their registrations, and relayed ones with their address among the recipients. */
export function mailsTo(p: Participant, registrations: number[]): { where: string; params: unknown[] } {
  const ids = registrations.length ? registrations.join(', ') : 'NULL';
  return { where: `(registration_id IN (${ids}) OR instr(', ' || lower(to_address) || ', ', ?) > 0)`, params: [`, ${p.email}, `] };
}

/** Everything wod holds about a participant, for them (the right of access), or null when unknown. */
export function exportParticipant(db: Db, id: number): ParticipantExport | null {
  const participant = findParticipant(db, String(id));
  if (!participant) return null;
  type Kept = Pick<RegistrationRecord, 'id' | 'mode' | 'badge' | 'clientIp' | 'externalId'>;
  const rows = db.prepare('SELECT id, mode, badge, client_ip AS clientIp, external_id AS externalId FROM registrations WHERE participant_id = ?').all(id) as Kept[];
  const kept = new Map(rows.map((r) => [r.id, r]));
  const registrations = participantRegistrations(db, id).map(({ participant: _, workshop, ...r }): RegistrationRecord => ({
    ...r,
    ...kept.get(r.id)!,
    workshop: { folder: workshop.folder, name: workshop.name },
  }));
  const regs = registrations.map((r) => r.id);
  const m = mailsTo(participant, regs);
  const mails = mailDetails(db, m.where, m.params);
  const a = auditAbout(participant, regs);
  const audit = (
    db.prepare(`SELECT at, actor, action, subject_type AS type, subject_id AS subjectId, details FROM audit WHERE ${a.where} ORDER BY id`).all(...a.params) as {
      at: string;
      actor: string;
      action: string;
      type: string;
      subjectId: string;
      details: string | null;
    }[]
  ).map((e): AuditRecord => ({
    at: e.at,
    actor: e.actor,
    action: e.action,
    subject: { type: e.type, id: e.subjectId },
    details: e.details === null ? null : JSON.parse(e.details),
  }));
  return { participant, registrations, mails, audit };
}
