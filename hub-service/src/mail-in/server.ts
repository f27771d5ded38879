/**
 * The SMTP mail API: an existing WoD api-db (or `wod action`) sends orders by mail, as it sends them
 * to the original backend's procmail, and the api-db's participant mails to be delivered, as the
 * original backend's Postfix relayed them. A front TCP server judges each connection (access.ts):
 * a client must connect from `mailApi.networks`, then log in with SMTP AUTH (user
 * `mailApi.authUser`, password from secrets/mail-api-password or WOD_MAIL_API_PASSWORD), served by
 * smtp-server; a client of an operator-listed `mailApi.trustedNetworks` network that is not this
 * host (an original api-db, which cannot authenticate) is served instead by the original's lenient
 * dialect (original-dialect.ts) without AUTH. The envelope sender never authorises:
 * `mailApi.senders`, when set, only narrows. Both sessions hand a complete message to
 * messages.ts: an order is stored as jobs before 250 is answered, any other subject is queued for
 * delivery to its recipients (mail-out, sealed at rest); a refused one gets a 5xx with the reason
 * and changes nothing.
 */
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { safeEqual } from '../auth/seal.js';
import type { WodConfig } from '../config/schema.js';
import { interfaceAddresses } from '../network/addresses.js';
import { clientRules, judgeClient, trustWarnings } from './access.js';
import { acceptMessage, type MessageDeps, refuse, replyToFailure } from './messages.js';
import { type DialectLimits, serveOriginalDialect } from './original-dialect.js';

/** Failed AUTH attempts a connection gets before it is closed. */
export const MAX_AUTH_FAILURES = 3;

/** The largest message either session takes. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export interface MailApiDeps extends MessageDeps {
  config: WodConfig['mailApi'];
  /** the AUTH password of `config.authUser` (readMailApiPassword) */
  password: string;
  /** this host's addresses, never trusted (default: its interfaces' now; loopback always counts) */
  hostAddresses?: () => string[];
  /** the original dialect's bounds (tests shorten them) */
  dialectLimits?: Partial<DialectLimits>;
}

interface Connection {
  address: string;
  authFailures: number;
}

/**
 * The mail API's listener: one port, two sessions. Events: 'error' (the listener's and smtp-server's).
 */
export class MailApi extends EventEmitter {
  private readonly dialect = new Set<net.Socket>();

  constructor(
    readonly front: net.Server,
    readonly smtp: SMTPServer,
  ) {
    super();
    front.on('error', (e) => this.emit('error', e));
    smtp.on('error', (e) => this.emit('error', e));
  }

  /** @internal the front server's: a trusted connection */
  track(socket: net.Socket): void {
    this.dialect.add(socket);
    socket.once('close', () => this.dialect.delete(socket));
  }

  listen(port: number, host: string, cb?: () => void): this {
    this.front.listen(port, host, cb);
    return this;
  }

  address(): net.AddressInfo {
    return this.front.address() as net.AddressInfo;
  }

  /** Stops listening and closes every session (smtp-server's after its grace period). */
  close(cb?: () => void): void {
    let waiting = 2;
    const done = () => --waiting === 0 && cb?.();
    this.front.close(() => done());
    this.smtp.close(() => done());
    for (const socket of this.dialect) socket.destroy();
  }
}

export function createMailApi(deps: MailApiDeps): MailApi {
  const { config, log } = deps;
  if (!deps.password) throw new Error('the mail API needs a password: secrets/mail-api-password (npx wod prepare) or WOD_MAIL_API_PASSWORD');
  const rules = clientRules(config);
  const hostAddresses = deps.hostAddresses ?? interfaceAddresses;
  for (const warning of trustWarnings(config, hostAddresses())) log.warn(warning);
  const senders = new Set(config.senders.map((s) => s.toLowerCase()));
  const senderRefusal = (sender: string) => (!senders.size || senders.has(sender.toLowerCase()) ? null : `sender ${sender} is not allowed to give orders (mailApi.senders)`);
  const connections = new WeakMap<SMTPServerSession, Connection>();
  const connection = (session: SMTPServerSession): Connection => connections.get(session) ?? { address: session.remoteAddress, authFailures: 0 };

  // Every client that is not trusted is served here and must log in; trusted ones never come here (see the front below).
  const options: SMTPServerOptions = {
    name: 'wod',
    banner: 'wod mail API',
    size: MAX_MESSAGE_BYTES,
    // AUTH is demanded in onMailFrom, so that the refusal can say what to do.
    authOptional: true,
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(session, cb) {
      connections.set(session, { address: judgeClient(session.remoteAddress, rules, hostAddresses).address, authFailures: 0 });
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
      if (!session.user) {
        deps.metrics?.mailApiOrder('refused-unauthenticated');
        log.warn('mail API: order without authentication refused', { from: c.address, sender: address.address });
        return cb(refuse(530, 'authentication required: log in with SMTP AUTH as mailApi.authUser (npx wod mail-api credentials); the envelope sender does not authorise'));
      }
      const refused = senderRefusal(address.address);
      if (!refused) return cb();
      deps.metrics?.mailApiOrder('refused-sender');
      log.warn('mail API: sender refused', { from: c.address, sender: address.address });
      cb(refuse(550, refused));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        void (async () => {
          if (!session.user) throw refuse(530, 'authentication required');
          if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
            deps.metrics?.mailApiOrder('refused-too-large');
            throw refuse(552, 'message too large');
          }
          const envelope = {
            client: connection(session).address,
            by: 'AUTH' as const,
            sender: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
            recipients: session.envelope.rcptTo.map((r) => r.address),
          };
          return acceptMessage(deps, raw, envelope);
        })().then(
          (text) => cb(null, text),
          (e: Error) => cb(replyToFailure(e, log)),
        );
      });
    },
  };
  const smtp = new SMTPServer(options);

  const front = net.createServer((socket) => {
    const verdict = judgeClient(socket.remoteAddress ?? '', rules, hostAddresses);
    if (!verdict.allowed) {
      deps.metrics?.mailApiOrder('refused-client');
      log.warn('mail API: connection refused', { from: verdict.address });
      socket.on('error', () => {});
      socket.end(`554 client ${verdict.address} is not in mailApi.networks: it may not give orders\r\n`);
      setTimeout(() => socket.destroy(), 2_000).unref();
      return;
    }
    if (verdict.trustIgnored) log.info('mail API: client inside mailApi.trustedNetworks but on this host: AUTH still required', { from: verdict.address });
    if (!verdict.trusted) {
      smtp.connect(socket, { id: crypto.randomBytes(8).toString('hex') });
      return;
    }
    api.track(socket);
    // A client that half-closes after writing (netcat) still gets the answer to its message.
    socket.allowHalfOpen = true;
    serveOriginalDialect(socket, {
      client: verdict.address,
      name: 'wod',
      log,
      limits: { maxMessageBytes: MAX_MESSAGE_BYTES, ...deps.dialectLimits },
      checkSender: (sender) => {
        const refused = senderRefusal(sender);
        if (refused) {
          deps.metrics?.mailApiOrder('refused-sender');
          log.warn('mail API: sender refused', { from: verdict.address, sender });
        }
        return refused;
      },
      deliver: (raw, envelope) =>
        acceptMessage(deps, raw, { client: verdict.address, by: 'trusted network', sender: envelope.sender, recipients: envelope.recipients }).catch((e: Error) => {
          throw replyToFailure(e, log);
        }),
    });
  });
  const api = new MailApi(front, smtp);
  return api;
}
