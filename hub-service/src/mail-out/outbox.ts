/**
 * The default mail transport: every message is kept as an .eml file in the data folder's outbox
 * (mode 0600: credentials are inside), built by nodemailer exactly as it would go on the wire.
 * A message has a key; a second send with the same key is a no-op, so a retried step never mails
 * twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';

export interface OutgoingMail {
  /** one per registration and kind of mail, e.g. credentials-42 */
  key: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export class Outbox {
  private readonly transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  constructor(
    readonly dir: string,
    private readonly from: string,
  ) {}

  file(key: string): string {
    return path.join(this.dir, `${key.replace(/[^\w.-]/g, '_')}.eml`);
  }

  /** Returns false when a mail with this key was sent already. */
  async send(mail: OutgoingMail): Promise<boolean> {
    const file = this.file(mail.key);
    if (fs.existsSync(file)) return false;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const info = await this.transport.sendMail({
      from: this.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      headers: { 'X-Wod-Key': mail.key },
    });
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, info.message as Buffer, { mode: 0o600 });
    fs.renameSync(tmp, file);
    return true;
  }
}
