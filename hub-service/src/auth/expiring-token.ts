/**
 * A link's token bound to one id until an expiry, of one purpose: `<id>.<expiry, epoch seconds>.<MAC>`,
 * the MAC over `<purpose>:<id>:<expiry>`, so that a token of one purpose (the start link, the work
 * download) never opens another. Used by registrations/start-link.ts and work/link.ts.
 */
import { type Sealer, safeEqual } from './seal.js';

export type TokenPurpose = 'start' | 'work';

const TOKEN = /^(\d{1,12})\.(\d{1,12})\.([\w-]{20,})$/;

export function expiringToken(sealer: Sealer, purpose: TokenPurpose, id: number, expiresAt: Date): string {
  const exp = Math.floor(expiresAt.getTime() / 1000);
  return `${id}.${exp}.${sealer.mac(`${purpose}:${id}:${exp}`)}`;
}

/** The id a genuine token of that purpose names, and the expiry it carries (ms); null for a forged or altered one. Does not check the expiry. */
export function readExpiringToken(sealer: Sealer, purpose: TokenPurpose, token: string): { id: number; expiresAt: number } | null {
  const m = token.match(TOKEN);
  if (!m || !safeEqual(m[3], sealer.mac(`${purpose}:${m[1]}:${m[2]}`))) return null;
  return { id: Number(m[1]), expiresAt: Number(m[2]) * 1000 };
}
