import type { Sealer } from '../auth/seal.js';
import { safeEqual } from '../auth/seal.js';

/**
 * The participant's status page is reached by a signed link: `<registration id>.<MAC>`. Only the
 * mails carry it; knowing an email address or a registration number is not enough.
 */
export function statusToken(sealer: Sealer, registrationId: number): string {
  return `${registrationId}.${sealer.mac(`status:${registrationId}`)}`;
}

export function verifyStatusToken(sealer: Sealer, token: string): number | null {
  const m = token.match(/^(\d{1,12})\.([\w-]{20,})$/);
  if (!m) return null;
  return safeEqual(m[2], sealer.mac(`status:${m[1]}`)) ? Number(m[1]) : null;
}
