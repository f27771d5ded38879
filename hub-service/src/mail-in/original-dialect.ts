/**
 * The original WoD api-db's SMTP, as its `sendPostfixEmail` speaks it (inventory 5.1, B12): the
 * whole dialogue written at once before the banner, LF line ends, `MAIL FROM: x` without <>, no
 * blank line after the Subject, no QUIT, and the socket destroyed as soon as the banner arrives.
 * smtp-server refuses all of that ("You talk too soon", 501, a bare-LF end of data that never
 * ends), so the mail API serves clients of `mailApi.trustedNetworks` (and only them: see
 * server.ts) with this small, lenient session instead. It also takes what netcat-style scripts
 * (wod-test-action.sh) and standard clients send: HELO, EHLO or nothing, LF or CRLF, paths with
 * or without <>, data ending in `\n.\n` or `\r\n.\r\n` (dot-unstuffed), pipelined or not.
 *
 * A message is handed over as soon as its final dot is read, whether or not the client stays to
 * read the answer; one cut short (the connection ends before the dot) is dropped and logged, never
 * handed over. Sizes and time are bounded: lines, messages, recipients, errors, idle time and the
 * whole session.
 */
import type net from 'node:net';
import type { Logger } from '../log.js';
import type { SmtpError } from './messages.js';

export interface DialectLimits {
  /** a message's bytes (the data section) */
  maxMessageBytes: number;
  /** a command line's bytes */
  maxLineBytes: number;
  maxRecipients: number;
  /** refused or unknown commands before the session is closed */
  maxErrors: number;
  idleMs: number;
  /** the whole session, however busy */
  sessionMs: number;
}

export const DIALECT_LIMITS: DialectLimits = {
  maxMessageBytes: 1024 * 1024,
  maxLineBytes: 4096,
  maxRecipients: 100,
  maxErrors: 10,
  idleMs: 60_000,
  sessionMs: 10 * 60_000,
};

export interface DialectSession {
  /** the client's address, for the log and the envelope */
  client: string;
  /** the name in the banner and the replies */
  name: string;
  log: Logger;
  limits?: Partial<DialectLimits>;
  /** MAIL FROM check; a string is the 5xx reason of a refusal */
  checkSender: (sender: string) => string | null;
  /** a complete message; resolves with the text of the 250 reply or rejects with an SmtpError */
  deliver: (raw: Buffer, envelope: { sender: string; recipients: string[] }) => Promise<string>;
}

/**
 * The address of a MAIL FROM or RCPT TO argument, with or without <>, with or without a space after
 * the colon, ESMTP parameters after it ignored; null when there is none or it is not an address.
 */
export function parsePath(verb: 'MAIL FROM' | 'RCPT TO', line: string): string | null {
  const m = line.match(verb === 'MAIL FROM' ? /^MAIL\s+FROM\s*:\s*(.*)$/i : /^RCPT\s+TO\s*:\s*(.*)$/i);
  if (!m) return null;
  const arg = m[1].trim();
  const bracketed = arg.match(/^<([^<>]*)>(\s|$)/);
  const address = bracketed ? bracketed[1].trim() : (arg.split(/\s+/)[0] ?? '');
  if (address.length > 320 || [...address].some((c) => c <= ' ' || c === '\x7f' || c === '<' || c === '>')) return null;
  if (!address) return verb === 'MAIL FROM' && bracketed ? '' : null; // <> is the null sender
  return address;
}

/** One line of a data section, as the original's readers take it: a leading dot doubled is one dot. */
export function unstuff(line: string): string {
  return line.startsWith('.') ? line.slice(1) : line;
}

type Mode = 'command' | 'data';

/** Serves one connection of a trusted client until it ends. */
export function serveOriginalDialect(socket: net.Socket, s: DialectSession): void {
  const limits = { ...DIALECT_LIMITS, ...s.limits };
  let input: Buffer = Buffer.alloc(0);
  let mode: Mode = 'command';
  let sender: string | null = null;
  let recipients: string[] = [];
  let data: Buffer[] = [];
  let dataBytes = 0;
  let errors = 0;
  let busy = false;
  let ended = false;
  let closing = false;
  /**
   * One message per connection, as the original's client and wod-test-action.sh send them. The
   * original api-db does not dot-stuff, so text a participant chose (a name in a welcome mail)
   * could end a message with a lone dot and write commands of its own: after the first message,
   * nothing but QUIT is taken.
   */
  let delivered = false;

  const reply = (code: number, text: string) => {
    if (socket.destroyed || !socket.writable) return;
    const lines = text.split('\n');
    socket.write(lines.map((l, i) => `${code}${i < lines.length - 1 ? '-' : ' '}${l}\r\n`).join(''));
  };
  const close = (code?: number, text?: string) => {
    if (closing) return;
    if (mode === 'data') cutShort('the connection was closed by wod');
    closing = true;
    if (code) reply(code, text ?? '');
    clearTimeout(lifetime);
    socket.end();
    setTimeout(() => socket.destroy(), 2_000).unref();
  };
  const cutShort = (why: string) => {
    s.log.warn('mail API: message cut short, dropped', { from: s.client, bytes: dataBytes, why });
    mode = 'command';
    data = [];
    dataBytes = 0;
  };
  const failed = (code: number, text: string) => {
    reply(code, text);
    if (++errors >= limits.maxErrors) close(421, `${s.name} too many errors: closing the connection`);
  };
  const tooLarge = () => {
    s.log.warn('mail API: message too large, refused', { from: s.client, limit: limits.maxMessageBytes });
    mode = 'command';
    data = [];
    close(552, `5.3.4 message larger than ${limits.maxMessageBytes} bytes`);
  };
  const resetEnvelope = () => {
    sender = null;
    recipients = [];
  };

  const command = (line: string) => {
    const verb = (line.match(/^\s*(\S+)/)?.[1] ?? '').toUpperCase();
    if (delivered && verb !== 'QUIT') {
      if (verb) s.log.warn('mail API: command after the message ignored (one message per connection)', { from: s.client, command: verb.slice(0, 20) });
      return failed(503, '5.5.1 one message per connection: connect again for the next');
    }
    switch (verb) {
      case 'HELO':
        resetEnvelope();
        return reply(250, s.name);
      case 'EHLO':
        resetEnvelope();
        return reply(250, [s.name, 'PIPELINING', '8BITMIME', `SIZE ${limits.maxMessageBytes}`].join('\n'));
      case 'MAIL': {
        if (sender !== null) return failed(503, '5.5.1 nested MAIL command');
        const address = parsePath('MAIL FROM', line.trim());
        if (address === null) return failed(501, '5.1.7 MAIL FROM: needs a sender address');
        const refused = s.checkSender(address);
        if (refused) return failed(550, refused);
        sender = address;
        return reply(250, '2.1.0 accepted');
      }
      case 'RCPT': {
        if (sender === null) return failed(503, '5.5.1 MAIL FROM first');
        const address = parsePath('RCPT TO', line.trim());
        if (!address) return failed(501, '5.1.3 RCPT TO: needs a recipient address');
        if (recipients.length >= limits.maxRecipients) return failed(452, `4.5.3 too many recipients (at most ${limits.maxRecipients})`);
        recipients.push(address);
        return reply(250, '2.1.5 accepted');
      }
      case 'DATA':
        if (sender === null || !recipients.length) return failed(503, `5.5.1 ${sender === null ? 'MAIL FROM' : 'RCPT TO'} first`);
        mode = 'data';
        return reply(354, 'end data with <CR><LF>.<CR><LF> (or <LF>.<LF>)');
      case 'RSET':
        resetEnvelope();
        return reply(250, '2.0.0 reset');
      case 'NOOP':
        return reply(250, '2.0.0 OK');
      case 'VRFY':
        return reply(252, '2.5.0 cannot verify');
      case 'HELP':
        return reply(214, 'HELO EHLO MAIL RCPT DATA RSET NOOP QUIT');
      case 'QUIT':
        return close(221, '2.0.0 bye');
      case 'AUTH':
        return failed(503, '5.5.1 no AUTH here: this client is trusted (mailApi.trustedNetworks)');
      case '':
        return failed(500, '5.5.2 empty command');
      default:
        return failed(502, `5.5.2 command not implemented: ${verb.slice(0, 20)}`);
    }
  };

  const endOfData = () => {
    const raw = Buffer.concat(data);
    const envelope = { sender: sender ?? '', recipients: [...recipients] };
    mode = 'command';
    data = [];
    dataBytes = 0;
    resetEnvelope();
    busy = true;
    delivered = true;
    // Handed over now, even if the client is gone: it wrote the whole message.
    s.deliver(raw, envelope)
      .then(
        (text) => reply(250, `2.0.0 ${text}`),
        (e: SmtpError) => reply(e.responseCode ?? 451, e.message),
      )
      .finally(() => {
        busy = false;
        pump();
      });
  };

  const dataLine = (line: string) => {
    if (line === '.') return endOfData();
    const text = unstuff(line);
    dataBytes += Buffer.byteLength(text) + 2;
    if (dataBytes > limits.maxMessageBytes) return tooLarge();
    data.push(Buffer.from(`${text}\r\n`));
  };

  const pump = () => {
    while (!busy && !closing) {
      const lf = input.indexOf(0x0a);
      let line: string;
      if (lf >= 0) {
        line = input.subarray(0, lf).toString('utf8').replace(/\r$/, '');
        input = input.subarray(lf + 1);
      } else if (ended && input.length) {
        // A last command without its line end: the client is gone, take what it wrote. A data line
        // without its end is a message cut short, even a lone dot: only a dot with its line end ends the data.
        line = input.toString('utf8').replace(/\r$/, '');
        input = Buffer.alloc(0);
        if (mode === 'data') {
          cutShort('the connection ended inside a line');
          continue;
        }
      } else break;
      if (mode === 'data') dataLine(line);
      else command(line);
    }
    if (busy || closing) return;
    // A line without its end yet: bounded too.
    if (mode === 'data' && dataBytes + input.length > limits.maxMessageBytes) return tooLarge();
    if (mode === 'command' && input.length > limits.maxLineBytes) {
      s.log.warn('mail API: command line too long, closing', { from: s.client, limit: limits.maxLineBytes });
      return close(500, `5.5.2 line longer than ${limits.maxLineBytes} bytes`);
    }
    if (ended) {
      if (mode === 'data') cutShort(socket.destroyed ? 'the connection was closed' : 'the connection ended');
      close();
    }
  };

  const lifetime = setTimeout(() => close(421, `4.4.2 ${s.name} session too long: closing the connection`), limits.sessionMs);
  lifetime.unref();
  socket.setTimeout(limits.idleMs, () => {
    if (mode === 'data') cutShort('idle timeout');
    close(421, `4.4.2 ${s.name} idle for too long: closing the connection`);
  });
  socket.on('data', (chunk: Buffer) => {
    if (closing) return;
    input = input.length ? Buffer.concat([input, chunk]) : chunk;
    pump();
  });
  const finish = () => {
    if (ended) return;
    ended = true;
    pump();
  };
  socket.on('end', finish);
  socket.on('close', () => {
    clearTimeout(lifetime);
    finish();
  });
  // The original destroys its socket on our banner: writing the replies then fails, which is fine.
  socket.on('error', (e) => s.log.debug('mail API: connection error', { from: s.client, error: e.message }));
  reply(220, `${s.name} ESMTP wod mail API`);
}
