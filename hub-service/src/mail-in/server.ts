/**
 * The SMTP mail API: an existing WoD api-db (or `wod action`) sends orders by mail, as it sends them
 * to the original backend's procmail. A client must connect from `mailApi.networks`, then log in
 * with SMTP AUTH (user `mailApi.authUser`, password from secrets/mail-api-password or
 * WOD_MAIL_API_PASSWORD), unless it comes from an operator-listed `mailApi.trustedNetworks` network
 * that is not this host (see access.ts). The envelope sender never authorises: `mailApi.senders`,
 * when set, only narrows. An order is stored as jobs before 250 is answered; a refused one gets a
 * 5xx with the reason and changes nothing.
 */
import crypto from 'node:crypto';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { safeEqual } from '../auth/seal.js';
import type { WodConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { interfaceAddresses } from '../network/addresses.js';
import type { Db } from '../store/db.js';
import { clientRules, judgeClient, trustWarnings } from './access.js';
import { placeOrder } from '../registrations/order-desk.js';
import { OrderError, parseOrder } from './orders.js';

type SmtpError = Error & { responseCode: number };
const refuse = (code: number, message: string): SmtpError => Object.assign(new Error(message), { responseCode: code });

/** Failed AUTH attempts a connection gets before it is closed. */
export const MAX_AUTH_FAILURES = 3;

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

export interface MailApiDeps {
  config: WodConfig['mailApi'];
  poolSize: number;
  db: Db;
  log: Logger;
  /** told when jobs were queued */
  onJobs: () => void;
  /** the AUTH password of `config.authUser` (readMailApiPassword) */
  password: string;
  /** this host's addresses, never trusted (default: its interfaces' now; loopback always counts) */
  hostAddresses?: () => string[];
}

interface Connection {
  address: string;
  trusted: boolean;
  authFailures: number;
}

export function createMailApi(deps: MailApiDeps): SMTPServer {
  const { config, log } = deps;
  if (!deps.password) throw new Error('the mail API needs a password: secrets/mail-api-password (npx wod prepare) or WOD_MAIL_API_PASSWORD');
  const rules = clientRules(config);
  const hostAddresses = deps.hostAddresses ?? interfaceAddresses;
  for (const warning of trustWarnings(config, hostAddresses())) log.warn(warning);
  const senders = new Set(config.senders.map((s) => s.toLowerCase()));
  const connections = new WeakMap<SMTPServerSession, Connection>();
  const connection = (session: SMTPServerSession): Connection => connections.get(session) ?? { address: session.remoteAddress, trusted: false, authFailures: 0 };

  const options: SMTPServerOptions = {
    name: 'wod',
    banner: 'wod mail API',
    size: 1024 * 1024,
    // AUTH is demanded in onMailFrom, so that a trusted network's client may order without it.
    authOptional: true,
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(session, cb) {
      const verdict = judgeClient(session.remoteAddress, rules, hostAddresses);
      if (!verdict.allowed) {
        log.warn('mail API: connection refused', { from: verdict.address });
        return cb(refuse(554, `client ${verdict.address} is not in mailApi.networks: it may not give orders`));
      }
      if (verdict.trustIgnored) log.info('mail API: client inside mailApi.trustedNetworks but on this host: AUTH still required', { from: verdict.address });
      connections.set(session, { address: verdict.address, trusted: verdict.trusted, authFailures: 0 });
      cb();
    },
    onAuth(auth, session, cb) {
      const c = connection(session);
      const userOk = safeEqual(auth.username ?? '', config.authUser);
      const passwordOk = typeof auth.password === 'string' && safeEqual(auth.password, deps.password);
      if (userOk && passwordOk) return cb(null, { user: auth.username });
      c.authFailures++;
      connections.set(session, c);
      log.warn('mail API: authentication failed', { from: c.address, user: (auth.username ?? '').slice(0, 64), method: auth.method, failures: c.authFailures });
      if (c.authFailures >= MAX_AUTH_FAILURES) return cb(refuse(421, `authentication failed ${MAX_AUTH_FAILURES} times: closing the connection`));
      const left = MAX_AUTH_FAILURES - c.authFailures;
      cb(refuse(535, `authentication failed: wrong user or password (${left} more attempt${left === 1 ? '' : 's'} on this connection)`));
    },
    onMailFrom(address, session, cb) {
      const c = connection(session);
      if (!session.user && !c.trusted) {
        log.warn('mail API: order without authentication refused', { from: c.address, sender: address.address });
        return cb(refuse(530, 'authentication required: log in with SMTP AUTH as mailApi.authUser (npx wod mail-api credentials); the envelope sender does not authorise'));
      }
      if (!senders.size || senders.has(address.address.toLowerCase())) return cb();
      log.warn('mail API: sender refused', { from: c.address, sender: address.address });
      cb(refuse(550, `sender ${address.address} is not allowed to give orders (mailApi.senders)`));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        void (async () => {
          if (!session.user && !connection(session).trusted) throw refuse(530, 'authentication required');
          if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) throw refuse(552, 'message too large');
          const parsed = await simpleParser(raw);
          const fallback = subjectAndBody(raw.toString('utf8'));
          const subject = parsed.subject || fallback.subject;
          const body = parsed.text?.trim() ? parsed.text : fallback.body;
          // Without a Message-ID, the message itself is its identity.
          const messageId = parsed.messageId ?? `sha256:${crypto.createHash('sha256').update(raw).digest('hex')}`;
          const order = parseOrder(subject, body);
          const result = placeOrder(deps.db, order, messageId, deps.poolSize);
          log.info(`mail API: ${result.duplicate ? 'repeated' : 'accepted'} order`, {
            order: subject,
            workshop: order.workshop,
            sender: session.envelope.mailFrom && session.envelope.mailFrom.address,
            from: connection(session).address,
            by: session.user ? 'AUTH' : 'trusted network',
            jobs: result.jobs.join(','),
          });
          if (!result.duplicate) deps.onJobs();
          return result;
        })().then(
          (r) => cb(null, r.duplicate ? `already done: jobs ${r.jobs.join(', ')}` : `queued as jobs ${r.jobs.join(', ')}`),
          (e: Error) => {
            const code = (e as SmtpError).responseCode ?? (e instanceof OrderError ? 550 : 451);
            log[code >= 500 ? 'warn' : 'error']('mail API: order refused', { reason: e.message });
            cb(refuse(code, e instanceof OrderError || (e as SmtpError).responseCode ? e.message : 'the order could not be stored; try again'));
          },
        );
      });
    },
  };
  return new SMTPServer(options);
}
