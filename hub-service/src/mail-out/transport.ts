/**
 * Where mails go: the outbox folder (the default: each message kept as an .eml file, mode 0600,
 * built by nodemailer exactly as it would go on the wire) or an SMTP relay. Both send fully formed
 * messages with From, To, Date, Message-ID and HTML plus plain-text alternatives.
 */
import fs from 'node:fs';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { WodConfig } from '../config/schema.js';

export interface Message {
  /** one per registration and kind of mail: the outbox file's name */
  key: string;
  to: string;
  bcc?: string;
  subject: string;
  text: string;
  html?: string;
  messageId: string;
}

export interface MailTransport {
  send(message: Message): Promise<void>;
}

export function outboxFile(dir: string, key: string): string {
  return path.join(dir, `${key.replace(/[^\w.-]/g, '_')}.eml`);
}

export class OutboxTransport implements MailTransport {
  private readonly build = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  constructor(
    readonly dir: string,
    private readonly from: string,
  ) {}

  async send(m: Message): Promise<void> {
    const file = outboxFile(this.dir, m.key);
    if (fs.existsSync(file)) return;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const info = await this.build.sendMail({
      from: this.from,
      to: m.to,
      bcc: m.bcc,
      subject: m.subject,
      text: m.text,
      html: m.html,
      messageId: m.messageId,
      headers: { 'X-Wod-Key': m.key },
    });
    fs.writeFileSync(`${file}.tmp`, info.message as Buffer, { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  }
}

export class SmtpTransport implements MailTransport {
  private readonly smtp: Transporter;

  constructor(
    config: WodConfig['mail'],
    password: string | undefined,
    private readonly from = config.from,
  ) {
    this.smtp = nodemailer.createTransport({
      host: config.smtpHost,
      port: config.smtpPort,
      secure: config.smtpSecure,
      ...(config.smtpUser ? { auth: { user: config.smtpUser, pass: password ?? '' } } : {}),
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
    });
  }

  async send(m: Message): Promise<void> {
    await this.smtp.sendMail({ from: this.from, to: m.to, bcc: m.bcc, subject: m.subject, text: m.text, html: m.html, messageId: m.messageId, headers: { 'X-Wod-Key': m.key } });
  }
}
