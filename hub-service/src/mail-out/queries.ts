/**
 * The mails as the admin panel shows them. Credentials mails have no stored body, by design; the
 * others hold placeholders where their links go, shown as words. A relayed mail's body is sealed
 * until sent, then dropped: never shown.
 */
import { showLinks } from '../journey/links.js';
import type { Db } from '../store/db.js';
import { RELAYED } from './relay.js';

export interface MailView {
  id: number;
  key: string;
  kind: string;
  registrationId: number | null;
  to: string;
  subject: string;
  state: 'queued' | 'sent';
  attempts: number;
  error: string | null;
  createdAt: string;
  sentAt: string | null;
}

const COLUMNS = `id, key, kind, registration_id AS registrationId, to_address AS "to", subject, state, attempts, error,
  created_at AS createdAt, sent_at AS sentAt`;
const SELECT = `SELECT ${COLUMNS} FROM mails`;

export function listMails(db: Db, q: { registrationId?: number; limit: number; offset: number }): { items: MailView[]; total: number } {
  const where = q.registrationId === undefined ? '' : ' WHERE registration_id = ?';
  const params = q.registrationId === undefined ? [] : [q.registrationId];
  return {
    items: db.prepare(`${SELECT}${where} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...params, q.limit, q.offset) as MailView[],
    total: (db.prepare(`SELECT COUNT(*) AS n FROM mails${where}`).get(...params) as { n: number }).n,
  };
}

/** A mail with its body as the panel shows it: links as words; a relayed mail's never. */
export type MailDetail = MailView & { text: string | null; html: string | null };

export function getMail(db: Db, id: number): MailDetail | null {
  return mailDetails(db, 'id = ?', [id])[0] ?? null;
}

/** The mails `where` selects, oldest first, with their bodies. */
export function mailDetails(db: Db, where: string, params: unknown[]): MailDetail[] {
  const rows = db.prepare(`SELECT ${COLUMNS}, text, html FROM mails WHERE ${where} ORDER BY id`).all(...params) as MailDetail[];
  return rows.map((row) => (row.kind === RELAYED ? { ...row, text: null, html: null } : { ...row, text: row.text && showLinks(row.text), html: row.html && showLinks(row.html) }));
}
