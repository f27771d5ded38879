import { expiringToken, readExpiringToken } from '../auth/expiring-token.js';
import type { Sealer } from '../auth/seal.js';

/**
 * The one-click start link's token: bound to one registration, valid until its deadline,
 * `<registration id>.<deadline, epoch seconds>.<MAC>` (auth/expiring-token.ts, purpose `start`).
 */
export function startToken(sealer: Sealer, registrationId: number, deadline: Date): string {
  return expiringToken(sealer, 'start', registrationId, deadline);
}

export function verifyStartToken(sealer: Sealer, token: string, now = Date.now()): number | null {
  const t = readExpiringToken(sealer, 'start', token);
  return t && t.expiresAt > now ? t.id : null;
}
