/**
 * The mail API over real SMTP (nodemailer → smtp-server) against a real SQLite file: the original's
 * orders accepted exactly, everything else refused with a 5xx and the reason, nothing run twice.
 */
import net from 'node:net';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { SMTPServer } from 'smtp-server';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { loadConfig } from '../../hub-service/src/config/load';
import { createLogger } from '../../hub-service/src/log';
import { parseOrder } from '../../hub-service/src/mail-in/orders';
import { createMailApi, subjectAndBody } from '../../hub-service/src/mail-in/server';
import { syncPool } from '../../hub-service/src/pool/pool';
import { type Db, openDatabase } from '../../hub-service/src/store/db';
import { freePorts } from '../support/ports';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

describe('orders', () => {
  test('the four forms, CHLG alias, and refusals with the expected form', () => {
    expect(parseOrder('CREATE 12 825 Ada@Example.org', 'WKSHP-API101\n')).toEqual({ verb: 'CREATE', students: [12], participantId: '825', email: 'ada@example.org', workshop: 'WKSHP-API101', challenge: false });
    expect(parseOrder('RESET 3,5 0', 'CHLG-API101')).toMatchObject({ verb: 'RESET', students: [3, 4, 5], workshop: 'WKSHP-API101', challenge: true });
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

describe('SMTP', () => {
  let db: Db;
  let server: SMTPServer;
  let port: number;
  let kicks = 0;
  const mailApi = loadConfig({ env: {} }).mailApi;

  beforeAll(async () => {
    const root = tempWorkshops();
    writeWorkshop(root, 'WKSHP-API101', { range: [1, 10], capacity: 10 });
    db = openDatabase(path.join(root, 'wod.sqlite'));
    syncPool(db, 20);
    importWorkshops(db, scanWorkshops({ dir: root }, 20), 'test');
    [port] = await freePorts(1);
    server = createMailApi({ config: mailApi, poolSize: 20, db, log: createLogger('error', 't', () => {}), onJobs: () => kicks++ });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const send = (subject: string, text: string, opts: { from?: string; messageId?: string } = {}) =>
    nodemailer
      .createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true })
      .sendMail({ from: opts.from ?? 'wodadmin@localhost', to: 'wod@localhost', subject, text, messageId: opts.messageId })
      .then((info) => ({ ok: true, response: info.response }), (e: Error & { responseCode?: number; response?: string }) => ({ ok: false, code: e.responseCode, response: e.response }));
  const jobs = () => db.prepare('SELECT verb, student_id AS student, source, registration_id IS NOT NULL AS reg FROM jobs ORDER BY id').all();

  test('an accepted CREATE is stored as a job, with its registration, before 250', async () => {
    const r = await send('CREATE 3 825 ada@example.org', 'WKSHP-API101', { messageId: '<order-1@api-db>' });
    expect(r).toMatchObject({ ok: true, response: expect.stringMatching(/^250 .*queued as jobs \d+/) });
    expect(jobs()).toEqual([{ verb: 'CREATE', student: 3, source: 'mail', reg: 1 }]);
    expect(db.prepare(`SELECT r.external_id, p.email, s.state FROM registrations r JOIN participants p ON p.id = r.participant_id JOIN students s ON s.id = r.student_id`).get()).toEqual({
      external_id: '825', email: 'ada@example.org', state: 'allocated',
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
    expect(await send('CREATE 4 1 a@b.org', 'WKSHP-API101', { from: 'intruder@evil.example' })).toMatchObject({ ok: false, code: 550, response: expect.stringMatching(/sender intruder@evil\.example is not allowed/) });
    expect(await send('CREATE 4 1', 'WKSHP-API101')).toMatchObject({ ok: false, code: 550, response: expect.stringMatching(/malformed CREATE order/) });
    expect(await send('CREATE 4 1 a@b.org', 'WKSHP-Nope')).toMatchObject({ ok: false, code: 550, response: expect.stringMatching(/unknown workshop WKSHP-Nope/) });
    expect(await send('CREATE 15 1 a@b.org', 'WKSHP-API101')).toMatchObject({ ok: false, code: 550, response: expect.stringMatching(/student 15 is out of range: WKSHP-API101 uses students 1 to 10/) });
    expect(await send('PURGE 99 1', 'WKSHP-API101')).toMatchObject({ ok: false, code: 550, response: expect.stringMatching(/pool is students 1 to 20/) });
    expect(await send('CREATE 3 2 b@b.org', 'WKSHP-API101')).toMatchObject({ ok: false, code: 550, response: expect.stringMatching(/student 3 is in use/) });
    expect(jobs()).toHaveLength(before);
  });

  test('CLEANUP ends the running registration; RESET covers a range; PURGE one student', async () => {
    expect((await send('CLEANUP 3 825', 'WKSHP-API101')).ok).toBe(true);
    expect(db.prepare('SELECT state, end_reason FROM registrations').get()).toEqual({ state: 'ended', end_reason: 'mail' });
    expect((await send('RESET 5,7 0', 'WKSHP-API101')).ok).toBe(true);
    expect((await send('PURGE 8 0', 'CHLG-API101')).ok).toBe(true);
    expect(jobs().slice(1).map((j) => `${(j as { verb: string }).verb} ${(j as { student: number }).student}`)).toEqual(['CLEANUP 3', 'RESET 5', 'RESET 6', 'RESET 7', 'PURGE 8']);
  });

  test("a raw dialogue like the original's (HELO, no blank line before the body) is understood", async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let out = '';
      const steps = ['HELO api-db\r\n', 'MAIL FROM:<wodadmin@localhost>\r\n', 'RCPT TO:<wod@backend>\r\n', 'DATA\r\n', 'Subject: PURGE 9 0\r\nWKSHP-API101\r\n.\r\n', 'QUIT\r\n'];
      socket.on('data', (d) => {
        out += d.toString();
        const next = steps.shift();
        if (next) socket.write(next);
        else socket.end();
      });
      socket.on('close', () => resolve(out));
    });
    expect(reply).toMatch(/250 .*queued as jobs/);
    expect(jobs().at(-1)).toMatchObject({ verb: 'PURGE', student: 9 });
  });
});

describe('SMTP with AUTH and networks', () => {
  test('AUTH is required when configured; a client outside the networks is refused', async () => {
    const root = tempWorkshops();
    const db = openDatabase(path.join(root, 'wod.sqlite'));
    const [p1, p2] = await freePorts(2);
    const base = loadConfig({ env: {} }).mailApi;
    const log = createLogger('error', 't', () => {});
    const authed = createMailApi({ config: { ...base, authUser: 'api-db' }, password: 's3cret-s3cret', poolSize: 5, db, log, onJobs: () => {} });
    const closed = createMailApi({ config: { ...base, networks: ['10.0.0.0/8'] }, poolSize: 5, db, log, onJobs: () => {} });
    await new Promise<void>((r) => authed.listen(p1, '127.0.0.1', r));
    await new Promise<void>((r) => closed.listen(p2, '127.0.0.1', r));
    const mail = { from: 'wodadmin@localhost', to: 'wod@localhost', subject: 'PURGE 1 0', text: 'WKSHP-A' };
    const attempt = (port: number, auth?: { user: string; pass: string }) =>
      nodemailer.createTransport({ host: '127.0.0.1', port, ignoreTLS: true, auth }).sendMail(mail).then(() => 'sent', (e: Error & { responseCode?: number }) => `${e.responseCode}: ${e.message}`);
    expect(await attempt(p1)).toMatch(/^530/);
    expect(await attempt(p1, { user: 'api-db', pass: 'wrong' })).toMatch(/^535/);
    expect(await attempt(p1, { user: 'api-db', pass: 's3cret-s3cret' })).toMatch(/^550: .*unknown workshop WKSHP-A/); // authenticated, then judged on its content
    expect(await attempt(p2)).toMatch(/554|not allowed/);
    await new Promise<void>((r) => authed.close(() => r()));
    await new Promise<void>((r) => closed.close(() => r()));
  });
});
