/**
 * The original WoD api-db drives wod unchanged (issue 12): its raw SMTP client, byte for byte, on
 * another host (a network namespace in mailApi.trustedNetworks), places CREATE, CLEANUP, RESET and
 * PURGE orders; each is executed and reported back to the emulated api-db, whose tokens live three
 * seconds (so wod logs in again); its participant mails are relayed to the outbox, with no clear
 * password left in the database; an order cut short is not executed, and logged.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type RunningHub, startHub } from '../support/hub';
import { apiDbEnv, canMakeOtherHost, makeOtherHost, OriginalApiDb, type OtherHost, type PostfixEmail } from '../support/original-api-db';
import { outboxMails, waitForMail } from '../support/outbox';
import { query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const FOLDER = 'WKSHP-API101';
const SENDER = 'wodadmin@localhost';
const possible = canMakeOtherHost();
const suite = possible ? describe : describe.skip;

let other: OtherHost;
let hub: RunningHub;
const apiDb = new OriginalApiDb({ tokenLifetimeSeconds: 3, workshops: [{ id: 7, notebook: FOLDER, reset: false }] });
const workshops = tempWorkshops();

beforeAll(async () => {
  if (!possible) return;
  other = makeOtherHost('oapidb');
  const url = await apiDb.start();
  writeWorkshop(workshops, FOLDER, { range: [1, 6], capacity: 6 });
  hub = await startHub({
    env: {
      WOD_WORKSHOPS_DIR: workshops,
      ...apiDbEnv(url),
      WOD_MAIL_API_HOST: other.hostAddress,
      WOD_MAIL_API_NETWORKS: `127.0.0.0/8,::1/128,${other.network}`,
      WOD_MAIL_API_TRUSTED_NETWORKS: other.network,
      WOD_MAIL_API_SENDERS: SENDER,
    },
  });
});
afterAll(async () => {
  await hub?.stop();
  await apiDb.stop();
  other?.remove();
  fs.rmSync(workshops, { recursive: true, force: true });
});

/** What the api-db's CheckCustomers sends, from the other host. */
const send = (subject: string, content: string, opts: { recipient?: string; cutBeforeDot?: boolean } = {}) => {
  const mail: PostfixEmail = {
    host: other.hostAddress,
    port: hub.ports.mailApi,
    helo: 'api-db.example.org',
    sender: SENDER,
    recipient: opts.recipient ?? `wodadmin@${other.hostAddress}`,
    subject,
    content,
  };
  return other.client({ mode: 'original', mail, cutBeforeDot: opts.cutBeforeDot });
};

const sawCalls = (check: () => boolean, what: string) =>
  until(check, (v) => v, what, 120_000, 200).catch((e: Error) => {
    throw new Error(`${e.message}; calls: ${JSON.stringify(apiDb.calls.map((c) => [c.method, c.path, c.status, c.body]))}`);
  });
const putsSince = (n: number) =>
  apiDb.calls
    .slice(n)
    .filter((c) => c.method === 'PUT' && c.status === 200)
    .map((c) => [c.path, c.body]);
const jobsOf = (student: number) => query<{ verb: string; state: string }>(hub.dataDir, `SELECT verb, state FROM jobs WHERE student_id = ? ORDER BY id`, student);
/** Every byte of the database (and its write-ahead log), as text. */
const databaseBytes = () =>
  ['wod.sqlite', 'wod.sqlite-wal']
    .map((f) => path.join(hub.dataDir, f))
    .filter((f) => fs.existsSync(f))
    .map((f) => fs.readFileSync(f).toString('latin1'))
    .join('');

let password = '';

suite('the original api-db, unchanged, on another host', () => {
  test('CREATE from the raw client is executed and reported: password, then activation', async () => {
    expect(await send('CREATE 1 825 ada@example.org', FOLDER)).toBe('closed');
    await sawCalls(() => apiDb.calls.some((c) => c.path === '/api/customer/825' && c.body.active === 'true' && c.status === 200), 'the activation');
    const puts = putsSince(0);
    expect(puts).toEqual([
      ['/api/student/101', { password: expect.stringMatching(/^[a-zA-Z2-9]{16}$/) }],
      ['/api/customer/825', { active: 'true' }],
    ]);
    password = (puts[0][1] as { password: string }).password;
    expect(hub.output()).toMatch(/mail API: accepted order order="?CREATE 1 825 ada@example\.org"? .*from=10\.249\.\d+\.\d+ by="?trusted network"?/);
    // the api-db hears the report before the job's last step is recorded
    await until(
      () => jobsOf(1),
      (jobs) => jobs.every((j) => !['queued', 'running'].includes(j.state)),
      'the CREATE to be recorded',
    );
    expect(jobsOf(1)).toEqual([{ verb: 'CREATE', state: 'done' }]);
  });

  test('its credentials mail is relayed to the participant: From, To, Date, Message-ID added; the password never stored nor logged', async () => {
    const text = `Your Workshops-on-Demand credentials\nAda, The clock has started!\nUser Name student1\nPassword ${password}\nURL http://wod.example.org/hub/login`;
    expect(await send('Workshops-on-Demand credentials', text, { recipient: 'ada@example.org' })).toBe('closed');
    const mail = await waitForMail(hub.dataDir, (m) => m.subject === 'Workshops-on-Demand credentials');
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : mail.to).toBe('ada@example.org');
    expect(mail.from?.text).toMatch(/wod@localhost/);
    expect(mail.date).toBeInstanceOf(Date);
    expect(mail.messageId).toMatch(/^<relayed\..+>$/);
    expect(mail.text).toContain(`Password ${password}`);
    await until(
      () =>
        query<{ kind: string; to_address: string; subject: string; state: string; text: string | null }>(hub.dataDir, `SELECT kind, to_address, subject, state, text FROM mails`),
      (rows) => rows.length === 1 && rows[0].state === 'sent',
      'the relayed mail recorded as sent',
    );
    expect(query(hub.dataDir, `SELECT kind, to_address, subject, state, text, html FROM mails`)).toEqual([
      { kind: 'relayed', to_address: 'ada@example.org', subject: 'Workshops-on-Demand credentials', state: 'sent', text: null, html: null },
    ]);
    expect(databaseBytes()).not.toContain(password);
    expect(hub.output()).not.toContain(password);
    expect(hub.output()).toMatch(/mail API: queued mail to relay .*to=ada@example\.org/);
  });

  test('CLEANUP, once the token has expired, logs in again and reports completion, release and cleaned', async () => {
    const before = apiDb.calls.length;
    const logins = apiDb.logins.length;
    await until(
      () => Date.now(),
      (now) => now - apiDb.logins.at(-1)!.at > 3_100,
      'the token to expire',
      10_000,
      100,
    );
    expect(await send('CLEANUP 1 825', FOLDER)).toBe('closed');
    await sawCalls(() => apiDb.calls.slice(before).some((c) => c.body.cleaned === 'true' && c.status === 200), 'cleaned');
    expect(putsSince(before)).toEqual([
      ['/api/customer/825', { completionPercentage: '0' }],
      ['/api/student/101', { assigned: 'false' }],
      ['/api/customer/825', { cleaned: 'true' }],
    ]);
    expect(apiDb.logins.length).toBeGreaterThan(logins);
    // every call the api-db refused was answered by a fresh login and the call again
    expect(apiDb.calls.filter((c) => c.method === 'PUT' && c.status !== 200).every((c) => apiDb.calls.some((d) => d.at >= c.at && d.path === c.path && d.status === 200))).toBe(
      true,
    );
  });

  test('RESET of a range and PURGE, from the raw client', async () => {
    const before = apiDb.calls.length;
    expect(await send('RESET 2,3 0', FOLDER)).toBe('closed');
    expect(await send('PURGE 4 0', FOLDER)).toBe('closed');
    await sawCalls(
      () => ['/api/student/102', '/api/student/103', '/api/student/104'].every((p) => apiDb.calls.slice(before).some((c) => c.path === p && c.status === 200)),
      'the reports',
    );
    const puts = putsSince(before);
    expect(puts).toEqual(
      expect.arrayContaining([
        // a range gives the workshop back its seats first, as the original's OneView RESET
        ['/api/workshop/7', { capacity: '2' }],
        ['/api/student/102', { assigned: 'false' }],
        ['/api/student/103', { assigned: 'false' }],
        ['/api/student/104', { assigned: 'false', password: expect.stringMatching(/^[a-zA-Z2-9]{16}$/) }],
      ]),
    );
    const ranged = () => [...jobsOf(2), ...jobsOf(3), ...jobsOf(4)];
    await until(ranged, (jobs) => jobs.every((j) => !['queued', 'running'].includes(j.state)), 'the RESETs and the PURGE to be recorded');
    expect(ranged()).toEqual([
      { verb: 'RESET', state: 'done' },
      { verb: 'RESET', state: 'done' },
      { verb: 'PURGE', state: 'done' },
    ]);
  });

  test("wod-test-action.sh's dialogue (netcat: CRLF, a blank line, QUIT) is answered command by command", async () => {
    const before = apiDb.calls.length;
    const out = await other.client({
      mode: 'raw',
      host: other.hostAddress,
      port: hub.ports.mailApi,
      text: `MAIL FROM: ${SENDER}\r\nRCPT TO: wodadmin@${other.hostAddress}\r\nDATA\r\nSubject: PURGE 5 0\r\n\r\n${FOLDER}\r\n.\r\nQUIT\r\n`,
    });
    expect(out.match(/^\d{3}(?= )/gm)).toEqual(['220', '250', '250', '354', '250', '221']);
    expect(out).toMatch(/^250 2\.0\.0 queued as jobs \d+/m);
    await sawCalls(() => apiDb.calls.slice(before).some((c) => c.path === '/api/student/105' && c.status === 200), 'the purge of student 105');
  });

  test('an order cut short (the socket closed before the final dot) is not executed, and is logged', async () => {
    const jobs = query(hub.dataDir, 'SELECT COUNT(*) AS n FROM jobs');
    expect(await send('CREATE 6 826 bob@example.org', FOLDER, { cutBeforeDot: true })).toBe('closed');
    await until(
      () => hub.output(),
      (o) => /mail API: message cut short, dropped/.test(o),
      'the log line of the message cut short',
    );
    expect(hub.output()).toMatch(new RegExp(`mail API: message cut short, dropped from=${other.address.replace(/\./g, '\\.')} bytes=\\d+`));
    expect(query(hub.dataDir, 'SELECT COUNT(*) AS n FROM jobs')).toEqual(jobs);
    expect(jobsOf(6)).toEqual([]);
    expect(apiDb.calls.some((c) => c.path === '/api/customer/826')).toBe(false);
    expect((await outboxMails(hub.dataDir)).map((m) => m.subject)).toEqual(['Workshops-on-Demand credentials']);
  });
});
