/**
 * What the mail API does with a message once it is fully received, whichever session took it (the
 * smtp-server one for AUTH clients, the original dialect for trusted networks): an order (its
 * subject starts with CREATE, CLEANUP, RESET or PURGE) is stored as jobs; anything else from an
 * allowed client is a participant mail the api-db asks us to deliver (the original backend's
 * Postfix relayed them, inventory 4.1) and is queued for the mail transport. The caller has already
 * decided the client may give orders; this is the one place that parses, places, relays and logs.
 */
import crypto from 'node:crypto';
import { simpleParser } from 'mailparser';
import type { Logger } from '../log.js';
import type { WodMetrics } from '../metrics/metrics.js';
import type { Db } from '../store/db.js';
import { placeOrder } from '../registrations/order-desk.js';
import { WORKSHOP_FOLDER } from '../catalog/spec.js';
import { type Order, OrderError, parseOrder } from './orders.js';

export type SmtpError = Error & { responseCode: number };
export const refuse = (code: number, message: string): SmtpError => Object.assign(new Error(message), { responseCode: code });

/** Recipients a relayed mail may have: the api-db sends each participant mail to one participant. */
export const MAX_RELAY_RECIPIENTS = 5;

/** Where a relayed mail goes: mail-out's Mailer.relay (queued, sealed at rest, retried). */
export interface MailRelay {
  relay(mail: { recipients: string[]; subject: string; text: string; messageId: string | null }): { key: string; duplicate: boolean };
}

export interface MessageDeps {
  db: Db;
  poolSize: number;
  log: Logger;
  /** told when jobs were queued */
  onJobs: () => void;
  /** participant mails of the api-db; without it, nothing is relayed */
  relay?: MailRelay;
  /** counts the orders by verdict (wod_mail_api_orders_total) */
  metrics?: WodMetrics;
}

export interface Envelope {
  /** the client's address */
  client: string;
  by: 'AUTH' | 'trusted network';
  sender: string | null;
  recipients: string[];
}

/**
 * Subject and body of a raw order. The original's client puts no blank line between its Subject
 * and the body; like Postfix, the first line that is not a header starts the body.
 */
export function subjectAndBody(raw: string): { subject: string; body: string } {
  const lines = raw.replace(/\r\n/g, '\n').split('\n');
  let i = 0;
  let subject = '';
  for (; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') {
      i++;
      break;
    }
    if (/^[ \t]/.test(line)) continue;
    const m = line.match(/^([\x21-\x39\x3b-\x7e]+):\s?(.*)$/);
    if (!m) break;
    if (m[1].toLowerCase() === 'subject') subject = m[2];
  }
  return { subject, body: lines.slice(i).join('\n') };
}

/**
 * An order: its subject starts with a verb (any case), or its body's first line is a workshop folder
 * as an order's is. A malformed or mistyped order (`CRATE 1 2 x`) is refused, never relayed.
 */
export function isOrder(subject: string, body: string): boolean {
  const first =
    body
      .split(/\r?\n/)
      .find((l) => l.trim())
      ?.trim() ?? '';
  return /^\s*(CREATE|CLEANUP|RESET|PURGE)(\s|$)/i.test(subject) || WORKSHOP_FOLDER.test(first);
}

const ADDRESS = /^[^\s<>@,;"]{1,64}@[^\s<>@,;"]{1,255}$/;

/** Handles a fully received message; resolves with the text of the 250 reply, or throws an SmtpError. */
export async function acceptMessage(deps: MessageDeps, raw: Buffer, envelope: Envelope): Promise<string> {
  const parsed = await simpleParser(raw);
  const fallback = subjectAndBody(raw.toString('utf8'));
  const subject = (parsed.subject || fallback.subject).trim();
  const body = parsed.text?.trim() ? parsed.text : fallback.body;
  const who = { from: envelope.client, by: envelope.by, sender: envelope.sender ?? '' };
  if (!isOrder(subject, body)) return relayMail(deps, { subject, text: body, messageId: parsed.messageId ?? null }, envelope, who);

  // Without a Message-ID, the message itself is its identity.
  const messageId = parsed.messageId ?? `sha256:${crypto.createHash('sha256').update(raw).digest('hex')}`;
  const { order, result } = place(deps, subject, body, messageId);
  deps.log.info(`mail API: ${result.duplicate ? 'repeated' : 'accepted'} order`, { order: subject, workshop: order.workshop, ...who, jobs: result.jobs.join(',') });
  if (!result.duplicate) deps.onJobs();
  return result.duplicate ? `already done: jobs ${result.jobs.join(', ')}` : `queued as jobs ${result.jobs.join(', ')}`;
}

/** Parses and stores an order (or finds it stored before), counting its verdict; throws what refuses it. */
function place(deps: MessageDeps, subject: string, body: string, messageId: string): { order: Order; result: ReturnType<typeof placeOrder> } {
  try {
    const order = parseOrder(subject, body);
    const result = placeOrder(deps.db, order, messageId, deps.poolSize);
    deps.metrics?.mailApiOrder(result.duplicate ? 'duplicate' : 'accepted');
    return { order, result };
  } catch (e) {
    deps.metrics?.mailApiOrder(e instanceof OrderError ? 'refused-invalid' : 'failed');
    throw e;
  }
}

function relayMail(deps: MessageDeps, mail: { subject: string; text: string; messageId: string | null }, envelope: Envelope, who: Record<string, string>): string {
  const recipients = [...new Set(envelope.recipients.map((r) => r.trim().toLowerCase()))];
  const refused = (code: number, reason: string) => {
    deps.log.warn('mail API: relay refused', { ...who, to: recipients.slice(0, MAX_RELAY_RECIPIENTS + 1).join(','), reason });
    return refuse(code, reason);
  };
  if (!deps.relay) throw refused(550, 'this mail API relays no mail: the subject must be an order (CREATE, CLEANUP, RESET or PURGE)');
  if (!recipients.length) throw refused(554, 'a mail to relay needs a recipient (RCPT TO)');
  if (recipients.length > MAX_RELAY_RECIPIENTS) throw refused(550, `a relayed mail goes to at most ${MAX_RELAY_RECIPIENTS} recipients, not ${recipients.length}`);
  const bad = recipients.find((r) => !ADDRESS.test(r));
  if (bad) throw refused(553, `recipient ${bad.slice(0, 80)} is not an address (user@domain)`);
  const subject = mail.subject.replace(/[\r\n]+/g, ' ').slice(0, 998);
  const { key, duplicate } = deps.relay.relay({ recipients, subject, text: mail.text, messageId: mail.messageId });
  // Never the body: the api-db's credentials and reminder mails hold the participant's password.
  deps.log.info(`mail API: ${duplicate ? 'repeated' : 'queued'} mail to relay`, { ...who, to: recipients.join(','), subject, key });
  return duplicate ? `already queued for delivery as ${key}` : `queued for delivery as ${key}`;
}

/** How a failure of acceptMessage is answered and logged. */
export function replyToFailure(e: Error, log: Logger): SmtpError {
  const code = (e as SmtpError).responseCode ?? (e instanceof OrderError ? 550 : 451);
  if (!(e as SmtpError).responseCode) log[code >= 500 ? 'warn' : 'error']('mail API: message refused', { reason: e.message });
  return refuse(code, e instanceof OrderError || (e as SmtpError).responseCode ? e.message : 'the message could not be stored; try again');
}
