/**
 * Mails relayed for the api-db (inventory 4.1, B13): the original api-db sends its participant
 * mails (welcome, credentials, reminder, thanks, apology) to its backend's mail port, and the
 * credentials and reminder mails carry the participant's password in clear. Such a body waits in
 * the mails table sealed (auth/seal.ts under a key of its own, derived from the data folder's
 * session-key secret) and is dropped once sent; the row keeps kind `relayed`, the
 * recipients, the subject and the state.
 */
import crypto from 'node:crypto';
import { Sealer } from '../auth/seal.js';

export const RELAYED = 'relayed';
const PREFIX = 'sealed:v1:';

export class MailVault {
  private readonly sealer: Sealer;

  constructor(secret: string) {
    this.sealer = new Sealer(secret, 'wod relayed mail at rest');
  }

  seal(text: string): string {
    return PREFIX + this.sealer.seal(text);
  }

  /** The text, or null when it was sealed with another key, altered, or never sealed. */
  open(sealed: string | null): string | null {
    return sealed?.startsWith(PREFIX) ? this.sealer.unseal<string>(sealed.slice(PREFIX.length)) : null;
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
