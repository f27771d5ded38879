/**
 * The thanks mail's download link: `<registration id>.<expiry, epoch seconds>.<MAC>`, as the start
 * link (registrations/start-link.ts, both auth/expiring-token.ts) but of its own purpose, so that neither opens the other. The
 * link works while its archive is kept: past the expiry, or once the participant is erased, it
 * answers "gone" rather than "no such link".
 */
import fs from 'node:fs';
import { expiringToken, readExpiringToken } from '../auth/expiring-token.js';
import type { Sealer } from '../auth/seal.js';
import { isErased } from '../participants/participants.js';
import type { Db } from '../store/db.js';
import { findArchive } from './records.js';

export function workToken(sealer: Sealer, registrationId: number, expiresAt: Date): string {
  return expiringToken(sealer, 'work', registrationId, expiresAt);
}

/** The registration a genuine token names, and when it said it expires; null for a forged or altered one. */
export function verifyWorkToken(sealer: Sealer, token: string): { registrationId: number; expiresAt: number } | null {
  const t = readExpiringToken(sealer, 'work', token);
  return t && { registrationId: t.id, expiresAt: t.expiresAt };
}

export type Download = { kind: 'file'; file: string; name: string; bytes: number } | { kind: 'gone' } | { kind: 'invalid' };

/** What a download link gives now: the zip (and the name to save it as), gone (expired, erased, deleted), or invalid. */
export function openDownload(db: Db, sealer: Sealer, token: string, now = Date.now()): Download {
  const t = verifyWorkToken(sealer, token);
  if (!t) return { kind: 'invalid' };
  const a = findArchive(db, t.registrationId);
  const who = db
    .prepare('SELECT p.email, w.folder FROM registrations r JOIN participants p ON p.id = r.participant_id JOIN workshops w ON w.id = r.workshop_id WHERE r.id = ?')
    .get(t.registrationId) as { email: string; folder: string } | undefined;
  if (!a || !who || isErased(who.email) || t.expiresAt <= now || Date.parse(a.expiresAt) <= now || !fs.existsSync(a.file)) return { kind: 'gone' };
  return { kind: 'file', file: a.file, name: `${who.folder}-my-work.zip`, bytes: a.bytes };
}
