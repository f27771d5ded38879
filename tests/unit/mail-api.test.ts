/**
 * The mail API over real SMTP (nodemailer → smtp-server) against a real SQLite file: the original's
 * orders accepted exactly from an authenticated (or operator-trusted) client, everything else
 * refused with a 5xx and the reason, nothing run twice.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { SMTPServer } from 'smtp-server';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { loadConfig } from '../../hub-service/src/config/load';
import { createLogger } from '../../hub-service/src/log';
import { clientRules, judgeClient, readMailApiPassword, trustWarnings } from '../../hub-service/src/mail-in/access';
import { parseOrder } from '../../hub-service/src/mail-in/orders';
import { createMailApi, subjectAndBody } from '../../hub-service/src/mail-in/server';
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
  let server: SMTPServer;
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
  const servers: SMTPServer[] = [];
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
