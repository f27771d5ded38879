import type { Sealer } from '../auth/seal.js';
import { safeEqual } from '../auth/seal.js';

/**
 * The one-click start link's token: bound to one registration, valid until its deadline,
 * `<registration id>.<deadline, epoch seconds>.<MAC>`.
 */
export function startToken(sealer: Sealer, registrationId: number, deadline: Date): string {
  const exp = Math.floor(deadline.getTime() / 1000);
  return `${registrationId}.${exp}.${sealer.mac(`start:${registrationId}:${exp}`)}`;
}

export function verifyStartToken(sealer: Sealer, token: string, now = Date.now()): number | null {
  const m = token.match(/^(\d{1,12})\.(\d{1,12})\.([\w-]{20,})$/);
  if (!m || !safeEqual(m[3], sealer.mac(`start:${m[1]}:${m[2]}`))) return null;
  return Number(m[2]) * 1000 > now ? Number(m[1]) : null;
}
