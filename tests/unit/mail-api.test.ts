/**
 * The mail API over real SMTP (nodemailer → smtp-server) against a real SQLite file: the original's
 * orders accepted exactly from an authenticated (or operator-trusted) client, everything else
 * refused with a 5xx and the reason, nothing run twice. The original's lenient dialect (its
 * parsing, its bounds, a message cut short) and the relay of the api-db's participant mails
 * (sealed at rest, sent, its body dropped).
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { MailApi } from '../../hub-service/src/mail-in/server';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { loadConfig } from '../../hub-service/src/config/load';
import { createLogger } from '../../hub-service/src/log';
import { clientRules, judgeClient, readMailApiPassword, trustWarnings } from '../../hub-service/src/mail-in/access';
import { parseOrder } from '../../hub-service/src/mail-in/orders';
import { createMailApi } from '../../hub-service/src/mail-in/server';
import { isOrder, subjectAndBody, MAX_RELAY_RECIPIENTS, type MailRelay } from '../../hub-service/src/mail-in/messages';
import { parsePath, serveOriginalDialect, unstuff, type DialectSession } from '../../hub-service/src/mail-in/original-dialect';
import { MailLinks } from '../../hub-service/src/journey/links';
import { Sealer } from '../../hub-service/src/auth/seal';
import { Mailer } from '../../hub-service/src/mail-out/mailer';
import { MailVault } from '../../hub-service/src/mail-out/relay';
import type { Message, MailTransport } from '../../hub-service/src/mail-out/transport';
import { postfixDialogue, sendPostfixEmail, writeAtOnce } from '../support/original-api-db';
import { syncPool } from '../../hub-service/src/pool/pool';
import { type Db, openDatabase } from '../../hub-service/src/store/db';
import { freePorts } from '../support/ports';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

describe('orders', () => {
  test('the four forms, CHLG alias, and refusals with the expected form', () => {
    expect(parseOrder('CREATE 12 825 Ada@Example.org', 'WKSHP-API101\n')).toEqual({
      verb: 'CREATE',
      students: [12],
      participantId: '825',
      email: 'ada@example.org',
      workshop: 'WKSHP-API101',
      challenge: false,
    });
    // the folder as ordered: the desk finds CHLG-API101, or WKSHP-API101 in challenge mode
    expect(parseOrder('RESET 3,5 0', 'CHLG-API101')).toMatchObject({ verb: 'RESET', students: [3, 4, 5], workshop: 'CHLG-API101', challenge: true });
    expect(parseOrder('PURGE 7 0', '\n\nWKSHP-X')).toMatchObject({ verb: 'PURGE', students: [7] });
    expect(() => parseOrder('DELETE 1 2', 'WKSHP-X')).toThrow(/unknown order 'DELETE'/);
    expect(() => parseOrder('PURGE [object Promise] 12', 'WKSHP-X')).toThrow(/malformed PURGE order: the subject must read 'PURGE <stdid> <participantId>'/);
    expect(() => parseOrder('CREATE 1 2', 'WKSHP-X')).toThrow(/CREATE <stdid> <participantId> <email>/);
    expect(() => parseOrder('CLEANUP 1 2', 'rm -rf /')).toThrow(/first line of the body must be the workshop folder/);
    expect(() => parseOrder('RESET 9,3 0', 'WKSHP-X')).toThrow(/empty/);
  });

  test("the original client's message: no blank line between Subject and body", () => {
    expect(subjectAndBody('Subject: CREATE 1 2 a@b.c\nWKSHP-API101\n')).toEqual({ subject: 'CREATE 1 2 a@b.c', body: 'WKSHP-API101\n' });
    expect(subjectAndBody('From: x\r\nSubject: PURGE 1 0\r\n\r\nWKSHP-A\r\n').subject).toBe('PURGE 1 0');
  });
});

const PASSWORD = 'a-test-password-of-the-mail-api';
const auth = { user: 'wod', pass: PASSWORD };
const quiet = createLogger('error', 't', () => {});

describe('SMTP', () => {
  let db: Db;
  let server: MailApi;
  let port: number;
  let kicks = 0;
  const mailApi = { ...loadConfig({ env: {} }).mailApi, senders: ['wodadmin@localhost'] };

  beforeAll(async () => {
    const root = tempWorkshops();
    writeWorkshop(root, 'WKSHP-API101', { range: [1, 10], capacity: 10 });
    db = openDatabase(path.join(root, 'wod.sqlite'));
    syncPool(db, 20);
    importWorkshops(db, scanWorkshops({ dir: root }, 20), 'test');
    [port] = await freePorts(1);
    server = createMailApi({ config: mailApi, password: PASSWORD, poolSize: 20, db, log: quiet, onJobs: () => kicks++ });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const send = (subject: string, text: string, opts: { from?: string; messageId?: string } = {}) =>
    nodemailer
      .createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, auth })
      .sendMail({ from: opts.from ?? 'wodadmin@localhost', to: 'wod@localhost', subject, text, messageId: opts.messageId })
      .then(
        (info) => ({ ok: true, response: info.response }),
        (e: Error & { responseCode?: number; response?: string }) => ({ ok: false, code: e.responseCode, response: e.response }),
      );
  const jobs = () => db.prepare('SELECT verb, student_id AS student, source, registration_id IS NOT NULL AS reg FROM jobs ORDER BY id').all();

  test('an accepted CREATE is stored as a job, with its registration, before 250', async () => {
    const r = await send('CREATE 3 825 ada@example.org', 'WKSHP-API101', { messageId: '<order-1@api-db>' });
    expect(r).toMatchObject({ ok: true, response: expect.stringMatching(/^250 .*queued as jobs \d+/) });
    expect(jobs()).toEqual([{ verb: 'CREATE', student: 3, source: 'mail', reg: 1 }]);
    expect(
      db.prepare(`SELECT r.external_id, p.email, s.state FROM registrations r JOIN participants p ON p.id = r.participant_id JOIN students s ON s.id = r.student_id`).get(),
    ).toEqual({
      external_id: '825',
      email: 'ada@example.org',
      state: 'allocated',
    });
    expect(kicks).toBe(1);
  });

  test('a repeated Message-ID runs nothing twice', async () => {
    const r = await send('CREATE 3 825 ada@example.org', 'WKSHP-API101', { messageId: '<order-1@api-db>' });
    expect(r).toMatchObject({ ok: true, response: expect.stringMatching(/already done/) });
    expect(jobs()).toHaveLength(1);
  });

  test('refusals: 5xx with the reason, nothing stored', async () => {
    const before = jobs().length;
    // mailApi.senders narrows who may order, on top of AUTH
    expect(await send('CREATE 4 1 a@b.org', 'WKSHP-API101', { from: 'intruder@evil.example' })).toMatchObject({
      ok: false,
      code: 550,
      response: expect.stringMatching(/sender intruder@evil\.example is not allowed/),
    });
    expect(await send('CREATE 4 1', 'WKSHP-API101')).toMatchObject({ ok: false, code: 550, response: expect.stringMatching(/malformed CREATE order/) });
    expect(await send('CREATE 4 1 a@b.org', 'WKSHP-Nope')).toMatchObject({ ok: false, code: 550, response: expect.stringMatching(/unknown workshop WKSHP-Nope/) });
    expect(await send('CREATE 15 1 a@b.org', 'WKSHP-API101')).toMatchObject({
      ok: false,
      code: 550,
      response: expect.stringMatching(/student 15 is out of range: WKSHP-API101 uses students 1 to 10/),
    });
    expect(await send('PURGE 99 1', 'WKSHP-API101')).toMatchObject({ ok: false, code: 550, response: expect.stringMatching(/pool is students 1 to 20/) });
    expect(await send('CREATE 3 2 b@b.org', 'WKSHP-API101')).toMatchObject({ ok: false, code: 550, response: expect.stringMatching(/student 3 is in use/) });
    expect(jobs()).toHaveLength(before);
  });

  test('CLEANUP ends the running registration; RESET covers a range; PURGE one student', async () => {
    expect((await send('CLEANUP 3 825', 'WKSHP-API101')).ok).toBe(true);
    expect(db.prepare('SELECT state, end_reason FROM registrations').get()).toEqual({ state: 'ended', end_reason: 'mail' });
    expect((await send('RESET 5,7 0', 'WKSHP-API101')).ok).toBe(true);
    expect((await send('PURGE 8 0', 'CHLG-API101')).ok).toBe(true);
    expect(
      jobs()
        .slice(1)
        .map((j) => `${(j as { verb: string }).verb} ${(j as { student: number }).student}`),
    ).toEqual(['CLEANUP 3', 'RESET 5', 'RESET 6', 'RESET 7', 'PURGE 8']);
  });

  test("a raw dialogue like the original's (HELO, no blank line before the body), logged in, is understood", async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let out = '';
      const plain = Buffer.from(`\0wod\0${PASSWORD}`).toString('base64');
      const steps = [
        'HELO api-db\r\n',
        `AUTH PLAIN ${plain}\r\n`,
        'MAIL FROM:<wodadmin@localhost>\r\n',
        'RCPT TO:<wod@backend>\r\n',
        'DATA\r\n',
        'Subject: PURGE 9 0\r\nWKSHP-API101\r\n.\r\n',
        'QUIT\r\n',
      ];
      socket.on('data', (d) => {
        out += d.toString();
        const next = steps.shift();
        if (next) socket.write(next);
        else socket.end();
      });
      socket.on('close', () => resolve(out));
    });
    expect(reply).toMatch(/235 .*Authentication successful/);
    expect(reply).toMatch(/250 .*queued as jobs/);
    expect(jobs().at(-1)).toMatchObject({ verb: 'PURGE', student: 9 });
  });
});

describe('who may order', () => {
  test('networks in CIDR form; any holding a loopback address can never be trusted', () => {
    expect(() => clientRules({ networks: ['127.0.0.0/8'], trustedNetworks: ['127.0.0.0/8'] })).toThrow(/trustedNetworks: 127\.0\.0\.0\/8 contains a loopback address/);
    expect(() => clientRules({ networks: ['bogus'], trustedNetworks: [] })).toThrow(/networks: 'bogus' is not a network in CIDR form/);
  });

  test("the trust of a listed network never covers this host's own addresses", () => {
    const rules = clientRules({ networks: ['127.0.0.0/8', '::1/128', '192.0.2.0/24'], trustedNetworks: ['192.0.2.0/24'] });
    const host = () => ['127.0.0.1', '::1', '192.0.2.2', 'fe80::1'];
    const verdicts = Object.fromEntries(
      ['127.0.0.1', '::ffff:127.0.0.1', '::1', '192.0.2.2', '::ffff:192.0.2.2', '192.0.2.9', '::ffff:192.0.2.9', '10.0.0.1', 'fe80::1'].map((a) => {
        const v = judgeClient(a, rules, host);
        return [a, `${v.allowed ? 'connects' : 'refused'}${v.trusted ? ', trusted' : ''}${v.trustIgnored ? ', trust ignored' : ''}`];
      }),
    );
    expect(verdicts).toEqual({
      '127.0.0.1': 'connects',
      '::ffff:127.0.0.1': 'connects',
      '::1': 'connects',
      '192.0.2.2': 'connects, trust ignored',
      '::ffff:192.0.2.2': 'connects, trust ignored',
      '192.0.2.9': 'connects, trusted',
      '::ffff:192.0.2.9': 'connects, trusted',
      '10.0.0.1': 'refused',
      'fe80::1': 'refused',
    });
    expect(trustWarnings({ host: '127.0.0.1', trustedNetworks: [] }, host())).toEqual([]);
    const warnings = trustWarnings({ host: '127.0.0.1', trustedNetworks: ['192.0.2.0/24'] }, host()).join('\n');
    expect(warnings).toMatch(/WITHOUT AUTH from mailApi\.trustedNetworks 192\.0\.2\.0\/24/);
    expect(warnings).toMatch(/this host's own address\(es\) 192\.0\.2\.2 are inside/);
    expect(warnings).toMatch(/mailApi\.host is 127\.0\.0\.1: no other host can reach/);
  });

  test('the password: the secret file, or WOD_MAIL_API_PASSWORD when set (16 characters at least)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-mail-api-'));
    const file = path.join(dir, 'mail-api-password');
    expect(() => readMailApiPassword(file, {})).toThrow(/missing: run 'npx wod prepare'/);
    fs.writeFileSync(file, 'f'.repeat(64) + '\n', { mode: 0o600 });
    expect(readMailApiPassword(file, {})).toEqual({ password: 'f'.repeat(64), source: file });
    expect(readMailApiPassword(file, { WOD_MAIL_API_PASSWORD: 'e'.repeat(20) })).toEqual({ password: 'e'.repeat(20), source: 'WOD_MAIL_API_PASSWORD' });
    expect(() => readMailApiPassword(file, { WOD_MAIL_API_PASSWORD: 'short' })).toThrow(/at least 16 characters/);
    fs.chmodSync(file, 0o644);
    expect(() => readMailApiPassword(file, {})).toThrow(/must not be readable by others/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('SMTP: AUTH, networks and trust', () => {
  const base = { ...loadConfig({ env: {} }).mailApi };
  const servers: MailApi[] = [];
  let db: Db;
  beforeAll(() => {
    db = openDatabase(path.join(tempWorkshops(), 'wod.sqlite'));
  });
  afterAll(() => Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))));
  const serve = async (config: Partial<typeof base>, opts: { host?: string; hostAddresses?: () => string[] } = {}) => {
    const [port] = await freePorts(1);
    const server = createMailApi({ config: { ...base, ...config }, password: PASSWORD, poolSize: 5, db, log: quiet, onJobs: () => {}, hostAddresses: opts.hostAddresses });
    servers.push(server);
    await new Promise<void>((r) => server.listen(port, opts.host ?? '127.0.0.1', r));
    return port;
  };
  const attempt = (port: number, opts: { host?: string; auth?: { user: string; pass: string }; from?: string } = {}) =>
    nodemailer
      .createTransport({ host: opts.host ?? '127.0.0.1', port, ignoreTLS: true, auth: opts.auth })
      .sendMail({ from: opts.from ?? 'wodadmin@localhost', to: 'wod@localhost', subject: 'PURGE 1 0', text: 'WKSHP-A' })
      .then(
        () => 'sent',
        (e: Error & { responseCode?: number }) => `${e.responseCode}: ${e.message}`,
      );

  test('AUTH is required by default; the envelope sender alone never authorises; any sender once logged in', async () => {
    const port = await serve({});
    expect(await attempt(port)).toMatch(/^530: .*authentication required.*the envelope sender does not authorise/);
    expect(await attempt(port, { auth: { user: 'wod', pass: 'wrong' } })).toMatch(/^535: .*authentication failed: wrong user or password/);
    expect(await attempt(port, { auth: { user: 'api-db', pass: PASSWORD } })).toMatch(/^535/);
    // authenticated, then judged on its content (no workshop WKSHP-A here)
    expect(await attempt(port, { auth })).toMatch(/^550: .*unknown workshop WKSHP-A/);
    expect(await attempt(port, { auth, from: 'anyone@example.org' })).toMatch(/^550: .*unknown workshop WKSHP-A/);
  });

  test('a client outside the networks is refused with 554 and the reason', async () => {
    const port = await serve({ networks: ['10.0.0.0/8'] });
    expect(await attempt(port, { auth })).toMatch(/^554: .*client 127\.0\.0\.1 is not in mailApi\.networks/);
  });

  test('three failed AUTH on one connection close it', async () => {
    const port = await serve({});
    const replies = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      const wrong = (n: number) => `AUTH PLAIN ${Buffer.from(`\0wod\0guess-${n}`).toString('base64')}\r\n`;
      const steps = ['EHLO x\r\n', wrong(1), wrong(2), wrong(3), wrong(4)];
      let out = '';
      socket.on('data', (d) => {
        out += d.toString();
        const next = steps.shift();
        if (next) socket.write(next);
      });
      socket.on('close', () => resolve(out));
    });
    expect(replies.match(/^\d{3}(?= )/gm)).toEqual(['220', '250', '535', '535', '421']);
    expect(replies).toMatch(/421 .*authentication failed 3 times: closing the connection/);
  });

  test('refused at creation: no password, a loopback trusted network', () => {
    const deps = { poolSize: 5, db, log: quiet, onJobs: () => {} };
    expect(() => createMailApi({ ...deps, config: base, password: '' })).toThrow(/needs a password/);
    expect(() => createMailApi({ ...deps, config: { ...base, trustedNetworks: ['::ffff:127.0.0.0/104'] }, password: PASSWORD })).toThrow(/contains a loopback address/);
  });

  // Over the wire, a trusted network needs a client address that is not loopback: this host's own
  // interface address (the connection to it comes from it).
  const own = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === 'IPv4')?.address;
  (own ? test : test.skip)(`a trusted network lets another host order without AUTH, never this host (${own})`, async () => {
    const config = { networks: [...base.networks, `${own}/32`], trustedNetworks: [`${own}/32`] };
    const real = await serve(config, { host: own });
    expect(await attempt(real, { host: own })).toMatch(/^530/);
    // the same client seen as another host (an api-db elsewhere)
    const elsewhere = await serve(config, { host: own, hostAddresses: () => [] });
    expect(await attempt(elsewhere, { host: own })).toMatch(/^550: .*unknown workshop WKSHP-A/);
  });
});

describe('the original dialect', () => {
  test('MAIL FROM and RCPT TO with or without <>, a space or not, parameters ignored', () => {
    const cases: [string, 'MAIL FROM' | 'RCPT TO', string | null][] = [
      ['MAIL FROM: wodadmin@localhost', 'MAIL FROM', 'wodadmin@localhost'],
      ['MAIL FROM:<wodadmin@localhost> SIZE=100', 'MAIL FROM', 'wodadmin@localhost'],
      ['mail from:wodadmin@localhost', 'MAIL FROM', 'wodadmin@localhost'],
      ['MAIL FROM:<>', 'MAIL FROM', ''],
      ['MAIL FROM:', 'MAIL FROM', null],
      ['MAIL FROM: a<b@c', 'MAIL FROM', null],
      ['RCPT TO: wod@backend.example', 'RCPT TO', 'wod@backend.example'],
      ['RCPT TO:<ada@example.org>', 'RCPT TO', 'ada@example.org'],
      ['RCPT TO:<>', 'RCPT TO', null],
      ['RCPT TO ada@example.org', 'RCPT TO', null],
    ];
    for (const [line, verb, address] of cases) expect([line, parsePath(verb, line)]).toEqual([line, address]);
    expect(unstuff('..hidden')).toBe('.hidden');
    expect(unstuff('plain')).toBe('plain');
    expect(['CREATE 1 2 a@b.c', 'purge 3 0', 'RESET', ' CLEANUP 1 2'].map((s) => isOrder(s, 'WKSHP-X'))).toEqual([true, true, true, true]);
    expect(['Workshops-on-Demand credentials', 'Resetting', 'Thanks for participating', ''].map((s) => isOrder(s, 'Hello, Ada!'))).toEqual([false, false, false, false]);
    // a mistyped order still reads as one by its body (the workshop folder): refused, never relayed
    expect(isOrder('CRATE 1 2 a@b.c', '\nWKSHP-Python101\n')).toBe(true);
  });

  interface Delivered {
    raw: string;
    sender: string;
    recipients: string[];
  }
  const sessions: net.Server[] = [];
  afterAll(() => Promise.all(sessions.map((s) => new Promise((r) => s.close(r)))));
  /** A server whose every connection is a dialect session (trust is the front's business). */
  const dialect = async (opts: Partial<DialectSession> = {}) => {
    const delivered: Delivered[] = [];
    const lines: string[] = [];
    const log = createLogger('debug', 't', (l) => lines.push(l));
    const server = net.createServer((socket) =>
      serveOriginalDialect(socket, {
        client: socket.remoteAddress ?? '?',
        name: 'wod',
        log,
        checkSender: (sender) => (sender === 'intruder@evil.example' ? `sender ${sender} is not allowed` : null),
        deliver: async (raw, envelope) => {
          delivered.push({ raw: raw.toString(), ...envelope });
          return `queued as jobs ${delivered.length}`;
        },
        ...opts,
      }),
    );
    sessions.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const target = { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port };
    return { delivered, lines, target, until: (check: () => boolean) => waitFor(check) };
  };
  const waitFor = async (check: () => boolean, ms = 3_000) => {
    for (const end = Date.now() + ms; !check() && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
    expect(check()).toBe(true);
  };
  const codes = (out: string) => out.match(/^\d{3}(?= )/gm) ?? [];
  const mail = { helo: 'api-db.example', sender: 'wodadmin@localhost', recipient: 'wod@backend', subject: 'CREATE 1 825 ada@example.org', content: 'WKSHP-API101' };

  test("the original's client: all written before the banner, LF, no <>, gone at the banner; the message is still taken", async () => {
    const d = await dialect();
    await sendPostfixEmail({ ...d.target, ...mail });
    await d.until(() => d.delivered.length === 1);
    expect(d.delivered[0]).toEqual({ raw: 'Subject: CREATE 1 825 ada@example.org\r\nWKSHP-API101\r\n', sender: 'wodadmin@localhost', recipients: ['wod@backend'] });
    expect(subjectAndBody(d.delivered[0].raw)).toEqual({ subject: 'CREATE 1 825 ada@example.org', body: 'WKSHP-API101\n' });
  });

  test('the same dialogue read to the end: every command answered in order', async () => {
    const d = await dialect();
    const out = await writeAtOnce(d.target, { text: postfixDialogue({ ...d.target, ...mail }) + 'QUIT\n' });
    expect(codes(out)).toEqual(['220', '250', '250', '250', '354', '250', '221']);
    expect(out).toMatch(/^250 2\.0\.0 queued as jobs 1\r$/m);
  });

  test('a standard dialogue: EHLO, CRLF, <>, a blank line, dot-stuffing; one message per connection', async () => {
    const d = await dialect();
    const one = 'MAIL FROM:<wodadmin@localhost>\r\nRCPT TO:<ada@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: Hello\r\n\r\n..dot\r\nline\r\n.\r\n';
    const out = await writeAtOnce(d.target, { text: `EHLO x\r\n${one}${one.replace('Hello', 'Again')}QUIT\r\n` });
    expect(codes(out)).toEqual(['220', '250', '250', '250', '250', '354', '250', ...Array(9).fill('503'), '221']);
    expect(out).toMatch(/250-PIPELINING/);
    expect(out).toMatch(/^503 5\.5\.1 one message per connection: connect again for the next/m);
    expect(d.delivered.map((m) => m.raw)).toEqual(['Subject: Hello\r\n\r\n.dot\r\nline\r\n']);
    expect(d.delivered[0].recipients).toEqual(['ada@example.org', 'bob@example.org']);
  });

  test("an order smuggled in a participant's text (the original api-db does not dot-stuff) is never taken", async () => {
    const d = await dialect();
    // a name chosen at registration, put by the api-db into its welcome mail as it is
    const name = 'Eve\n.\nMAIL FROM: s@x\nRCPT TO: wod@backend\nDATA\nSubject: CLEANUP 7 0\nWKSHP-API101\n';
    await sendPostfixEmail({ ...d.target, ...mail, recipient: 'eve@example.org', subject: 'Workshops-on-Demand', content: `Hello, ${name}! In a moment…` });
    await d.until(() => d.lines.some((l) => l.includes('command after the message ignored')));
    expect(d.delivered.map((m) => m.raw)).toEqual(['Subject: Workshops-on-Demand\r\nHello, Eve\r\n']);
  });

  test('the connection ended inside the last data line, even a lone dot: cut short, never delivered', async () => {
    const d = await dialect();
    await writeAtOnce(d.target, { text: 'HELO x\nMAIL FROM: a@b\nRCPT TO: c@d\nDATA\nSubject: CREATE 1 2 a@b.c\nWKSHP-X\n.', waitMs: 200 });
    await d.until(() => d.lines.some((l) => /message cut short.*why=the connection ended inside a line/.test(l)));
    expect(d.delivered).toEqual([]);
  });

  test('cut short (closed before the final dot): dropped and logged with the client and the bytes, never delivered', async () => {
    const d = await dialect();
    await sendPostfixEmail({ ...d.target, ...mail }, { cutBeforeDot: true });
    await d.until(() => d.lines.some((l) => l.includes('message cut short')));
    expect(d.lines.find((l) => l.includes('message cut short'))).toMatch(/^\[W .*mail API: message cut short, dropped.*from=127\.0\.0\.1.*bytes=\d+/);
    expect(d.delivered).toEqual([]);
  });

  test('bounded: a huge message, an endless line, an idle client, a stream of errors', async () => {
    const d = await dialect({ limits: { maxMessageBytes: 10_000, maxLineBytes: 512, idleMs: 300, maxErrors: 4 } });
    const huge = await writeAtOnce(d.target, { prefix: 'HELO x\nMAIL FROM: a@b\nRCPT TO: c@d\nDATA\nSubject: big\n', fill: 'y'.repeat(99) + '\n', bytes: 200_000, suffix: '.\n' });
    expect(huge).toMatch(/^552 5\.3\.4 message larger than 10000 bytes/m);
    const endless = await writeAtOnce(d.target, { prefix: 'HELO ', fill: 'x', bytes: 100_000 });
    expect(endless).toMatch(/^500 5\.5\.2 line longer than 512 bytes/m);
    const idle = await writeAtOnce(d.target, { text: 'HELO x\nMAIL FROM: a@b\nRCPT TO: c@d\nDATA\nSubject: s\n', waitMs: 3_000 });
    expect(idle).toMatch(/^421 4\.4\.2 wod idle for too long/m);
    expect(d.lines.some((l) => /message cut short.*why=idle timeout/.test(l))).toBe(true);
    const noise = await writeAtOnce(d.target, { text: 'GET / HTTP/1.1\nHost: x\nAccept: */*\nUser-Agent: y\nmore\n', waitMs: 3_000 });
    expect(codes(noise)).toEqual(['220', '502', '502', '502', '502', '421']);
    expect(d.delivered).toEqual([]);
  });

  test('a refused sender: nothing after it is taken, the data lines are only bad commands', async () => {
    const d = await dialect();
    const out = await writeAtOnce(d.target, { text: postfixDialogue({ ...d.target, ...mail, sender: 'intruder@evil.example' }), waitMs: 500 });
    expect(codes(out)).toEqual(['220', '250', '550', '503', '503', '502', '502', '502']);
    expect(d.delivered).toEqual([]);
  });
});

describe('the mail API: trusted clients and the relay', () => {
  const base = { ...loadConfig({ env: {} }).mailApi };
  let db: Db;
  const relayed: Parameters<MailRelay['relay']>[0][] = [];
  const relay: MailRelay = { relay: (m) => (relayed.push(m), { key: `relayed:${relayed.length}`, duplicate: false }) };
  const servers: MailApi[] = [];
  beforeAll(() => {
    const root = tempWorkshops();
    writeWorkshop(root, 'WKSHP-API101', { range: [1, 10], capacity: 10 });
    db = openDatabase(path.join(root, 'wod.sqlite'));
    syncPool(db, 20);
    importWorkshops(db, scanWorkshops({ dir: root }, 20), 'test');
  });
  afterAll(() => Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))));
  const serve = async (config: Partial<typeof base>, opts: { host: string; hostAddresses?: () => string[]; relay?: MailRelay }) => {
    const [port] = await freePorts(1);
    const server = createMailApi({
      config: { ...base, ...config },
      password: PASSWORD,
      poolSize: 20,
      db,
      log: quiet,
      onJobs: () => {},
      hostAddresses: opts.hostAddresses,
      relay: opts.relay,
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(port, opts.host, r));
    return port;
  };
  const relayTo = (port: number, to: string[], opts: { host?: string; auth?: boolean } = {}) =>
    nodemailer
      .createTransport({ host: opts.host ?? '127.0.0.1', port, ignoreTLS: true, auth: opts.auth ? auth : undefined })
      .sendMail({ from: 'wodadmin@localhost', to, subject: 'Workshops-on-Demand credentials', text: 'Password: s3cret-of-ada' })
      .then(
        (info) => info.response,
        (e: Error & { responseCode?: number }) => `${e.responseCode}: ${e.message}`,
      );

  test('an AUTH client relays a participant mail to its recipients, within bounds; without a relay, refused', async () => {
    const port = await serve({}, { host: '127.0.0.1', relay });
    expect(await relayTo(port, ['ada@example.org'], { auth: true })).toMatch(/^250 .*queued for delivery as relayed:1/);
    expect(relayed.at(-1)).toEqual({
      recipients: ['ada@example.org'],
      subject: 'Workshops-on-Demand credentials',
      text: 'Password: s3cret-of-ada\n',
      messageId: expect.any(String),
    });
    const many = Array.from({ length: MAX_RELAY_RECIPIENTS + 1 }, (_, i) => `p${i}@example.org`);
    expect(await relayTo(port, many, { auth: true })).toMatch(new RegExp(`^550: .*at most ${MAX_RELAY_RECIPIENTS} recipients`));
    expect(await relayTo(port, ['ada@example.org'])).toMatch(/^530: .*authentication required/);
    const none = await serve({}, { host: '127.0.0.1' });
    expect(await relayTo(none, ['ada@example.org'], { auth: true })).toMatch(/^550: .*relays no mail/);
    expect(relayed).toHaveLength(1);
  });

  const own = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === 'IPv4')?.address;
  (own ? test : test.skip)(`a trusted client (${own} seen as another host) speaks the original dialect: orders and relays without AUTH`, async () => {
    const config = { networks: [...base.networks, `${own}/32`], trustedNetworks: [`${own}/32`] };
    const port = await serve(config, { host: own!, hostAddresses: () => [], relay });
    await sendPostfixEmail({
      host: own!,
      port,
      helo: 'api-db',
      sender: 'wodadmin@localhost',
      recipient: 'wod@backend',
      subject: 'CREATE 4 900 eve@example.org',
      content: 'WKSHP-API101',
    });
    // the client was gone before the answer: the order is stored all the same
    const created = () => db.prepare(`SELECT 1 FROM jobs WHERE source = 'mail' AND verb = 'CREATE' AND student_id = 4`).get();
    for (const end = Date.now() + 3_000; !created() && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
    expect(created()).toBeTruthy();
    const out = await writeAtOnce(
      { host: own!, port },
      {
        text:
          postfixDialogue({
            host: own!,
            port,
            helo: 'api-db',
            sender: 'wodadmin@localhost',
            recipient: 'eve@example.org',
            subject: 'Thanks for participating',
            content: 'Bye, Eve',
          }) + 'QUIT\n',
      },
    );
    expect(out).toMatch(/^250 2\.0\.0 queued for delivery as relayed:\d+/m);
    expect(relayed.at(-1)).toMatchObject({ recipients: ['eve@example.org'], subject: 'Thanks for participating', text: 'Bye, Eve\n', messageId: null });
    // netcat-style: the client half-closes once it has written, and still reads the answer; a mistyped order is refused, not relayed
    const mistyped = await writeAtOnce(
      { host: own!, port },
      { text: 'HELO x\nMAIL FROM: wodadmin@localhost\nRCPT TO: wod@backend\nDATA\nSubject: CRATE 5 900 eve@example.org\nWKSHP-API101\n.\n', halfClose: true },
    );
    expect(mistyped).toMatch(/^550 .*unknown order 'CRATE'/m);
    expect(relayed.at(-1)?.subject).toBe('Thanks for participating');
    // the same address, really this host: smtp-server and AUTH
    const real = await serve(config, { host: own!, relay });
    expect(await relayTo(real, ['ada@example.org'], { host: own })).toMatch(/^530/);
  });
});

describe('relayed mails at rest', () => {
  class Transport implements MailTransport {
    sent: Message[] = [];
    down = false;
    async send(m: Message): Promise<void> {
      if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:587');
      this.sent.push(m);
    }
  }
  const setup = (vault = new MailVault('s'.repeat(64))) => {
    const db = openDatabase(path.join(tempWorkshops(), 'wod.sqlite'));
    const config = loadConfig({ env: {} });
    const transport = new Transport();
    const mailer = new Mailer(db, transport, new MailLinks(db, new Sealer('k'.repeat(64)), config.publicUrl), config, quiet, Date.now, vault);
    return { db, transport, mailer };
  };
  const row = (db: Db) => db.prepare(`SELECT kind, to_address, subject, text, html, state, attempts FROM mails`).get() as Record<string, unknown>;
  const mail = { recipients: ['ada@example.org'], subject: 'Your credentials', text: 'User Name: student3\nPassword: Xq7-secret-pw\n', messageId: null };

  test('sealed while queued, survives the transport being down, sent as it came, its body dropped once sent', async () => {
    const { db, transport, mailer } = setup();
    transport.down = true;
    const { key } = mailer.relay(mail);
    expect(row(db)).toMatchObject({ kind: 'relayed', to_address: 'ada@example.org', subject: 'Your credentials', state: 'queued', html: null });
    expect(String(row(db).text)).toMatch(/^sealed:v1:/);
    expect(String(row(db).text)).not.toContain('Xq7-secret-pw');
    expect(await mailer.deliverDue()).toBe(0);
    expect(row(db)).toMatchObject({ state: 'queued', attempts: 1 });
    transport.down = false;
    db.prepare(`UPDATE mails SET next_at = '2000-01-01T00:00:00.000Z'`).run();
    expect(await mailer.deliverDue()).toBe(1);
    expect(transport.sent).toEqual([
      { key, to: 'ada@example.org', subject: 'Your credentials', text: mail.text, html: undefined, messageId: expect.stringMatching(/^<relayed\./) },
    ]);
    expect(row(db)).toMatchObject({ state: 'sent', text: null, html: null });
    expect(mailer.resend((db.prepare('SELECT id FROM mails').get() as { id: number }).id)).toBeNull();
  });

  test('a repeated Message-ID is queued once; a body sealed with another key is dropped, never sent', async () => {
    const { db, transport, mailer } = setup();
    expect(mailer.relay({ ...mail, messageId: '<m1@api-db>' }).duplicate).toBe(false);
    expect(mailer.relay({ ...mail, messageId: '<m1@api-db>' }).duplicate).toBe(true);
    db.prepare(`UPDATE mails SET text = ?`).run(new MailVault('t'.repeat(64)).seal('other'));
    expect(await mailer.deliverDue()).toBe(0);
    expect(transport.sent).toEqual([]);
    expect(row(db)).toMatchObject({ state: 'queued', text: null });
  });
});
