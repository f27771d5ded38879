/**
 * The SMTP mail API: an existing WoD api-db (or `wod action`) sends orders by mail, as it sends them
 * to the original backend's procmail. Only allowed client networks may connect, only allowed
 * envelope senders may order, with SMTP AUTH when configured. An order is stored as jobs before
 * 250 is answered; a bad one gets a 5xx with the reason and runs nothing.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { safeEqual } from '../auth/seal.js';
import type { WodConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { dispatchOrder } from './dispatch.js';
import { OrderError, parseOrder } from './orders.js';

type SmtpError = Error & { responseCode: number };
const refuse = (code: number, message: string): SmtpError => Object.assign(new Error(message), { responseCode: code });

function blockList(networks: string[]): net.BlockList {
  const list = new net.BlockList();
  for (const cidr of networks) {
    const [address, prefix] = cidr.split('/');
    list.addSubnet(address, Number(prefix), net.isIPv6(address) ? 'ipv6' : 'ipv4');
  }
  return list;
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

export interface MailApiDeps {
  config: WodConfig['mailApi'];
  poolSize: number;
  db: Db;
  log: Logger;
  /** told when jobs were queued */
  onJobs: () => void;
  password?: string;
}

export function createMailApi(deps: MailApiDeps): SMTPServer {
  const { config, log } = deps;
  const allowed = blockList(config.networks);
  const senders = new Set(config.senders.map((s) => s.toLowerCase()));
  const needAuth = !!config.authUser;
  if (needAuth && !deps.password) throw new Error('mailApi.authUser is set but WOD_MAIL_API_PASSWORD is not');

  const options: SMTPServerOptions = {
    name: 'wod',
    banner: 'wod mail API',
    size: 1024 * 1024,
    authOptional: !needAuth,
    allowInsecureAuth: true,
    disabledCommands: needAuth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(session, cb) {
      const address = session.remoteAddress.replace(/^::ffff:/, '');
      if (allowed.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4')) return cb();
      log.warn('mail API: connection refused', { from: address });
      cb(refuse(554, `client ${address} is not allowed to give orders`));
    },
    onAuth(auth, _session, cb) {
      if (auth.username === config.authUser && typeof auth.password === 'string' && safeEqual(auth.password, deps.password!)) return cb(null, { user: auth.username });
      log.warn('mail API: authentication failed', { user: auth.username });
      cb(refuse(535, 'authentication failed'));
    },
    onMailFrom(address, session, cb) {
      if (needAuth && !session.user) return cb(refuse(530, 'authentication required'));
      if (senders.has(address.address.toLowerCase())) return cb();
      log.warn('mail API: sender refused', { sender: address.address });
      cb(refuse(550, `sender ${address.address} is not allowed to give orders`));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        void (async () => {
          if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) throw refuse(552, 'message too large');
          const parsed = await simpleParser(raw);
          const fallback = subjectAndBody(raw.toString('utf8'));
          const subject = parsed.subject || fallback.subject;
          const body = parsed.text?.trim() ? parsed.text : fallback.body;
          // Without a Message-ID, the message itself is its identity.
          const messageId = parsed.messageId ?? `sha256:${crypto.createHash('sha256').update(raw).digest('hex')}`;
          const order = parseOrder(subject, body);
          const result = dispatchOrder(deps.db, order, messageId, deps.poolSize);
          log.info(`mail API: ${result.duplicate ? 'repeated' : 'accepted'} order`, {
            order: subject, workshop: order.workshop, sender: session.envelope.mailFrom && session.envelope.mailFrom.address, jobs: result.jobs.join(','),
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
