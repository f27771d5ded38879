/**
 * Participant mail, reliably. A mail is queued in the same transaction as what caused it, under a
 * key (one per registration and kind), so it is neither lost nor queued twice; the delivery loop
 * hands it to the transport and retries with backoff, however long the relay is down. The
 * credentials mail alone is sent at once by its job step and recorded without its body, because
 * the password must not be stored. Stored mails hold placeholders for the links that act as the
 * participant; `links` makes them as the mail goes out. Mails relayed for the api-db (relay.ts)
 * wait sealed, are sent as they came (text only, no links), and lose their body once sent.
 */
import crypto from 'node:crypto';
import type { WodConfig } from '../config/schema.js';
import { portalUrl } from '../config/urls.js';
import type { MailLinks } from '../journey/links.js';
import type { Logger } from '../log.js';
import type { WodMetrics } from '../metrics/metrics.js';
import type { Db } from '../store/db.js';
import { type MailContent, renderHtml, renderText } from './content.js';
import { type MailVault, RELAYED, relayKey } from './relay.js';
import type { MailTransport } from './transport.js';

export interface QueuedMail {
  kind: string;
  key: string;
  registrationId: number | null;
  to: string;
  content: MailContent;
}

interface Row {
  id: number;
  key: string;
  kind: string;
  registration_id: number | null;
  to_address: string;
  subject: string;
  text: string;
  html: string | null;
  message_id: string;
  attempts: number;
}

const MAX_DELAY_MS = 10 * 60_000;

export class Mailer {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private readonly domain: string;

  constructor(
    private readonly db: Db,
    private readonly transport: MailTransport,
    private readonly links: MailLinks,
    private readonly config: Pick<WodConfig, 'branding' | 'publicUrl' | 'mail'>,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    /** seals relayed mails at rest; without it, nothing is relayed */
    private readonly vault: MailVault | null = null,
    /** counts what the transport did not take (wod_mail_delivery_failures_total) */
    private readonly metrics?: WodMetrics,
  ) {
    this.domain = new URL(config.publicUrl).hostname || 'wod.local';
  }

  get portalUrl(): string {
    return portalUrl(this.config);
  }

  private render(content: MailContent) {
    return { text: renderText(content, this.config.branding.name, this.portalUrl), html: renderHtml(content, this.config.branding, this.portalUrl) };
  }

  private messageId(key: string): string {
    return `<${key.replace(/[^\w.-]/g, '.')}.${crypto.randomBytes(6).toString('hex')}@${this.domain}>`;
  }

  /** Queues a mail; call it inside the transaction that decides it. A second call with the same key does nothing. */
  queue(mail: QueuedMail): void {
    const { text, html } = this.render(mail.content);
    this.db
      .prepare(
        `INSERT INTO mails (key, kind, registration_id, to_address, subject, text, html, message_id, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (key) DO NOTHING`,
      )
      .run(mail.key, mail.kind, mail.registrationId, mail.to, mail.content.subject, text, html, this.messageId(mail.key), new Date(this.now()).toISOString());
  }

  /** Sends now (the credentials); records it, without its body, once sent. Throws when the transport fails. */
  async sendNow(mail: QueuedMail & { bcc?: string }): Promise<void> {
    if (this.db.prepare(`SELECT 1 FROM mails WHERE key = ? AND state = 'sent'`).get(mail.key)) return;
    const { text, html } = this.render(mail.content);
    const messageId = this.messageId(mail.key);
    await this.transport.send({ key: mail.key, to: mail.to, bcc: mail.bcc, subject: mail.content.subject, text, html, messageId }).catch((e: unknown) => {
      this.metrics?.mailDeliveryFailed();
      throw e;
    });
    this.db
      .prepare(
        `INSERT INTO mails (key, kind, registration_id, to_address, subject, message_id, state, attempts, sent_at) VALUES (?, ?, ?, ?, ?, ?, 'sent', 1, ?)
                ON CONFLICT (key) DO NOTHING`,
      )
      .run(mail.key, mail.kind, mail.registrationId, mail.to, mail.content.subject, messageId, new Date(this.now()).toISOString());
  }

  /**
   * Queues a mail the api-db asked us to deliver (mail-in/messages.ts), its body sealed. A repeated
   * Message-ID to the same recipients is queued once.
   */
  relay(mail: { recipients: string[]; subject: string; text: string; messageId: string | null }): { key: string; duplicate: boolean } {
    if (!this.vault) throw new Error('no key to seal relayed mails with');
    const key = relayKey(mail.messageId, mail.recipients);
    const messageId = mail.messageId ? `<${mail.messageId.replace(/^<|>$/g, '')}>` : this.messageId(key);
    const inserted = this.db
      .prepare(`INSERT INTO mails (key, kind, to_address, subject, text, message_id, next_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`)
      .run(key, RELAYED, mail.recipients.join(', '), mail.subject, this.vault.seal(mail.text), messageId, new Date(this.now()).toISOString());
    return { key, duplicate: inserted.changes === 0 };
  }

  /** Queues a copy of a sent or queued mail under a new key (the admin's "resend"): its links are made anew when it goes. */
  resend(id: number): number | null {
    const row = this.db.prepare(`SELECT * FROM mails WHERE id = ? AND text IS NOT NULL AND kind <> '${RELAYED}'`).get(id) as (Row & { kind: string }) | undefined;
    if (!row) return null;
    const key = `${row.key}:resent:${crypto.randomBytes(3).toString('hex')}`;
    return Number(
      this.db
        .prepare(`INSERT INTO mails (key, kind, registration_id, to_address, subject, text, html, message_id, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(key, row.kind, row.registration_id, row.to_address, row.subject, row.text, row.html, this.messageId(key), new Date(this.now()).toISOString()).lastInsertRowid,
    );
  }

  /** Hands every due mail to the transport; a failure waits longer each time, and never loses the mail. */
  async deliverDue(): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    let sent = 0;
    try {
      const due = this.db
        .prepare(
          `SELECT id, key, kind, registration_id, to_address, subject, text, html, message_id, attempts FROM mails WHERE state = 'queued' AND next_at <= ? ORDER BY id LIMIT 50`,
        )
        .all(new Date(this.now()).toISOString()) as Row[];
      for (const m of due) {
        const relayed = m.kind === RELAYED;
        const opened = relayed ? (this.vault?.open(m.text) ?? null) : null;
        if (relayed && opened === null) {
          // Sealed with another key (the session key was replaced), or no key given: it can never go.
          const why = this.vault ? 'sealed with another key (secrets/session-key changed)' : 'this mailer has no key to open relayed mails';
          this.db.prepare(`UPDATE mails SET text = NULL, next_at = '9999-12-31T00:00:00.000Z', error = ? WHERE id = ?`).run(`the body cannot be opened: ${why}`, m.id);
          this.log.error('relayed mail dropped: its body cannot be opened', { key: m.key, why });
          continue;
        }
        try {
          const fill = (body: string) => this.links.fill(body, m.registration_id);
          await this.transport.send({
            key: m.key,
            to: m.to_address,
            subject: m.subject,
            text: relayed ? opened! : fill(m.text),
            html: relayed || m.html === null ? undefined : fill(m.html),
            messageId: m.message_id,
          });
          this.db
            .prepare(`UPDATE mails SET state = 'sent', attempts = attempts + 1, sent_at = ?, error = NULL${relayed ? ', text = NULL, html = NULL' : ''} WHERE id = ?`)
            .run(new Date(this.now()).toISOString(), m.id);
          sent++;
        } catch (e) {
          this.metrics?.mailDeliveryFailed();
          const delay = Math.min(MAX_DELAY_MS, 5_000 * 2 ** m.attempts);
          this.db
            .prepare(`UPDATE mails SET attempts = attempts + 1, next_at = ?, error = ? WHERE id = ?`)
            .run(new Date(this.now() + delay).toISOString(), (e as Error).message.slice(0, 500), m.id);
          this.log.warn('mail not sent, will retry', { key: m.key, delayMs: delay, error: (e as Error).message });
          break; // the relay is probably down: the others wait too
        }
      }
    } finally {
      this.busy = false;
    }
    return sent;
  }

  start(intervalMs = 1_000): void {
    const tick = () => {
      void this.deliverDue().finally(() => {
        this.timer = setTimeout(tick, intervalMs);
        this.timer.unref();
      });
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
