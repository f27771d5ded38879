/**
 * The thanks mail's download link: `<registration id>.<expiry, epoch seconds>.<MAC>`, as the start
 * link (registrations/start-link.ts) but of its own purpose, so that neither opens the other. The
 * link works while its archive is kept: past the expiry, or once the participant is erased, it
 * answers "gone" rather than "no such link".
 */
import fs from 'node:fs';
import { type Sealer, safeEqual } from '../auth/seal.js';
import { isErased } from '../participants/participants.js';
import type { Db } from '../store/db.js';
import { findArchive } from './records.js';

export function workToken(sealer: Sealer, registrationId: number, expiresAt: Date): string {
  const exp = Math.floor(expiresAt.getTime() / 1000);
  return `${registrationId}.${exp}.${sealer.mac(`work:${registrationId}:${exp}`)}`;
}

/** The registration a genuine token names, and when it said it expires; null for a forged or altered one. */
export function verifyWorkToken(sealer: Sealer, token: string): { registrationId: number; expiresAt: number } | null {
  const m = token.match(/^(\d{1,12})\.(\d{1,12})\.([\w-]{20,})$/);
  if (!m || !safeEqual(m[3], sealer.mac(`work:${m[1]}:${m[2]}`))) return null;
  return { registrationId: Number(m[1]), expiresAt: Number(m[2]) * 1000 };
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
