import crypto from 'node:crypto';

/**
 * Authenticated encryption (AES-256-GCM) of small JSON values for cookies: the browser holds the
 * value but can neither read nor alter it. Keys are derived from the service's session-key secret,
 * one per purpose (cookies by default; relayed mails at rest have their own).
 */
export class Sealer {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;

  constructor(secret: string, purpose = 'wod cookie encryption') {
    const ikm = Buffer.from(secret, 'utf8');
    this.encKey = Buffer.from(crypto.hkdfSync('sha256', ikm, Buffer.alloc(0), purpose, 32));
    this.macKey = Buffer.from(crypto.hkdfSync('sha256', ikm, Buffer.alloc(0), 'wod csrf', 32));
  }

  seal(value: unknown): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.encKey, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64url');
  }

  /** The sealed value, or null for anything forged, truncated or sealed with another key. */
  unseal<T>(sealed: string | undefined): T | null {
    if (!sealed) return null;
    try {
      const raw = Buffer.from(sealed, 'base64url');
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.encKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as T;
    } catch {
      return null;
    }
  }

  /** A keyed MAC, e.g. the CSRF token of a session. */
  mac(message: string): string {
    return crypto.createHmac('sha256', this.macKey).update(message).digest('base64url');
  }
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
