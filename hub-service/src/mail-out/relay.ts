/**
 * Mails relayed for the api-db (inventory 4.1, B13): the original api-db sends its participant
 * mails (welcome, credentials, reminder, thanks, apology) to its backend's mail port, and the
 * credentials and reminder mails carry the participant's password in clear. Such a body waits in
 * the mails table sealed (AES-256-GCM, a key derived from the data folder's session-key secret,
 * apart from the cookies' key) and is dropped once sent; the row keeps kind `relayed`, the
 * recipients, the subject and the state.
 */
import crypto from 'node:crypto';

export const RELAYED = 'relayed';
const PREFIX = 'sealed:v1:';

export class MailVault {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(crypto.hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), 'wod relayed mail at rest', 32));
  }

  seal(text: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64url');
  }

  /** The text, or null when it was sealed with another key, altered, or never sealed. */
  open(sealed: string | null): string | null {
    if (!sealed?.startsWith(PREFIX)) return null;
    try {
      const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}

/**
 * The mails table key of a relayed mail: a message with a Message-ID is queued once per
 * recipients (a client retrying it); one without (the original's) always anew, as the original
 * sends each mail once and two of its mails may well be identical.
 */
export function relayKey(messageId: string | null, recipients: string[]): string {
  const id = messageId
    ? crypto
        .createHash('sha256')
        .update(`${messageId}\n${[...recipients].sort().join(',')}`)
        .digest('hex')
        .slice(0, 24)
    : crypto.randomBytes(12).toString('hex');
  return `${RELAYED}:${id}`;
}
