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

const SELECT = `SELECT id, key, kind, registration_id AS registrationId, to_address AS "to", subject, state, attempts, error,
  created_at AS createdAt, sent_at AS sentAt FROM mails`;

export function listMails(db: Db, q: { registrationId?: number; limit: number; offset: number }): { items: MailView[]; total: number } {
  const where = q.registrationId === undefined ? '' : ' WHERE registration_id = ?';
  const params = q.registrationId === undefined ? [] : [q.registrationId];
  return {
    items: db.prepare(`${SELECT}${where} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...params, q.limit, q.offset) as MailView[],
    total: (db.prepare(`SELECT COUNT(*) AS n FROM mails${where}`).get(...params) as { n: number }).n,
  };
}

export function getMail(db: Db, id: number): (MailView & { text: string | null; html: string | null }) | null {
  const row = db
    .prepare(
      `SELECT id, key, kind, registration_id AS registrationId, to_address AS "to", subject, state, attempts, error,
    created_at AS createdAt, sent_at AS sentAt, text, html FROM mails WHERE id = ?`,
    )
    .get(id) as (MailView & { text: string | null; html: string | null }) | undefined;
  if (!row) return null;
  if (row.kind === RELAYED) return { ...row, text: null, html: null };
  return { ...row, text: row.text && showLinks(row.text), html: row.html && showLinks(row.html) };
}
