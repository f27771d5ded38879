/**
 * External api-db mode: orders mailed by a WoD api-db are reported back with the original
 * backend's REST calls, retried until accepted. The api-db here is the emulated original
 * (tests/support/original-api-db.ts): JWTs that expire, 403 without a token, 401 once expired.
 * The client alone first: a token past its lifetime, answered 401 or 403, brings a fresh login,
 * and a job longer than the lifetime logs in again before it reports.
 */
import fs from 'node:fs';
import nodemailer from 'nodemailer';
import { ApiDb, renewalTime } from '../../hub-service/src/lifecycle/api-db';
import { type RunningHub, startHub } from '../support/hub';
import { apiDbEnv, OriginalApiDb } from '../support/original-api-db';
import { outboxMails } from '../support/outbox';
import { query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

describe('the api-db client against the original REST API', () => {
  const apiDbs: OriginalApiDb[] = [];
  afterAll(() => Promise.all(apiDbs.map((a) => a.stop())));
  const emulate = async (o: ConstructorParameters<typeof OriginalApiDb>[0]) => {
    const apiDb = new OriginalApiDb(o);
    apiDbs.push(apiDb);
    const url = await apiDb.start();
    return { apiDb, config: { url, username: 'moderator', password: 'api-db-secret', baseStdid: 100 } };
  };
  const expire = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000 + 100));
  const seen = (apiDb: OriginalApiDb) => apiDb.calls.map((c) => `${c.method} ${c.path} ${c.tokenState} ${c.status}`);

  test("a token is renewed ahead of its JWT's exp: 15 s, or a quarter of a shorter life; without exp, only a refusal tells", () => {
    const jwt = (payload: object) => `h.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.s`;
    expect(renewalTime(jwt({ iat: 1000, exp: 1180 }))).toBe(1_165_000);
    expect(renewalTime(jwt({ iat: 1000, exp: 1004 }))).toBe(1_003_000);
    expect(renewalTime(jwt({ exp: 1180 }))).toBe(1_165_000);
    expect(renewalTime(jwt({ id: 2 }))).toBeNull();
    expect(renewalTime('not-a-jwt')).toBeNull();
  });

  for (const expiredStatus of [401, 403] as const) {
    test(`an expired token answered ${expiredStatus} brings one fresh login and the call again`, async () => {
      const { apiDb, config } = await emulate({ tokenLifetimeSeconds: 1, expiredStatus });
      // a clock that never sees the token age: only the answer can tell
      const client = new ApiDb(config, () => 0);
      await client.report({ verb: 'PURGE', stdid: 3, participantId: null, workshop: 'WKSHP-A', password: 'p' });
      await expire(1);
      await client.report({ verb: 'PURGE', stdid: 4, participantId: null, workshop: 'WKSHP-A', password: 'q' });
      expect(seen(apiDb)).toEqual([
        'POST /api/login none 200',
        'PUT /api/student/103 valid 200',
        `PUT /api/student/104 expired ${expiredStatus}`,
        'POST /api/login none 200',
        'PUT /api/student/104 valid 200',
      ]);
    });
  }

  test('a wrong api-db password is a passing failure (the job retries), no call made without a token', async () => {
    const { apiDb, config } = await emulate({});
    await expect(new ApiDb({ ...config, password: 'wrong' }).report({ verb: 'PURGE', stdid: 1, participantId: null, workshop: 'W' })).rejects.toThrow(
      /api-db POST \/login answered 401: .*Invalid Password!/,
    );
    expect(seen(apiDb)).toEqual(['POST /api/login none 401']);
  });

  test('a job longer than the token lifetime logs in again before it reports: no call is ever refused', async () => {
    const { apiDb, config } = await emulate({ tokenLifetimeSeconds: 2 });
    const client = new ApiDb(config);
    await client.report({ verb: 'CREATE', stdid: 1, participantId: '825', workshop: 'WKSHP-A', password: 'first' });
    await expire(2); // the CREATE of another student, with its appliance, takes longer than the token lives
    await client.report({ verb: 'CREATE', stdid: 2, participantId: '826', workshop: 'WKSHP-A', password: 'second' });
    expect(seen(apiDb)).toEqual([
      'POST /api/login none 200',
      'PUT /api/student/101 valid 200',
      'PUT /api/customer/825 valid 200',
      'POST /api/login none 200',
      'PUT /api/student/102 valid 200',
      'PUT /api/customer/826 valid 200',
    ]);
  });
});

describe('through a real hub', () => {
  let hub: RunningHub;
  /** the api-db logs in with what `wod mail-api credentials` gives its operator */
  let credential: { host: string; port: number; user: string; password: string };
  const apiDb = new OriginalApiDb({ workshops: [{ id: 7, notebook: 'WKSHP-API101', reset: false }] });
  const calls = apiDb.calls;
  const workshops = tempWorkshops();

  beforeAll(async () => {
    const url = await apiDb.start();
    writeWorkshop(workshops, 'WKSHP-API101', { range: [1, 5], capacity: 5 });
    hub = await startHub({
      env: {
        WOD_WORKSHOPS_DIR: workshops,
        ...apiDbEnv(url),
        WOD_LIFECYCLE_MAX_ATTEMPTS: '6',
      },
    });
    credential = JSON.parse(await hub.cli('mail-api', 'credentials', '--json'));
  });
  afterAll(async () => {
    await hub?.stop();
    await apiDb.stop();
    fs.rmSync(workshops, { recursive: true, force: true });
  });

  const order = (subject: string) =>
    nodemailer
      .createTransport({ host: credential.host, port: credential.port, ignoreTLS: true, auth: { user: credential.user, pass: credential.password } })
      .sendMail({ from: 'wodadmin@localhost', to: 'wod@backend', subject, text: 'WKSHP-API101\n' });

  /** Waits for the recorder to have seen a call; names the calls it saw when it gives up. */
  const sawCall = (check: () => boolean, what: string): Promise<unknown> =>
    until(check, (v) => v, what, 90_000, 200).catch((e: Error) => {
      throw new Error(`${e.message}; calls: ${JSON.stringify(calls)}`);
    });

  test('CREATE is reported with the password and activation; a failing api-db is retried until it accepts', async () => {
    apiDb.failNextPuts = 1;
    await order('CREATE 2 825 ada@example.org');
    await sawCall(() => calls.some((c) => c.path === '/api/customer/825' && c.body.active === 'true'), 'the activation');
    const puts = calls.filter((c) => c.method === 'PUT');
    expect(puts.map((c) => c.path)).toEqual(['/api/student/102', '/api/student/102', '/api/customer/825']); // the first was refused (503), then retried
    expect(puts[1].body.password).toMatch(/^[a-zA-Z2-9]{16}$/);
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/api/login' });
    // the api-db mails the credentials itself: wod sends none, nor queues any, by the end of the CREATE
    await until(
      () => query<{ state: string }>(hub.dataDir, `SELECT state FROM jobs WHERE verb = 'CREATE' AND student_id = 2`),
      (js) => js.length === 1 && js[0].state === 'done',
      'the CREATE of student2 to finish',
    );
    expect(query(hub.dataDir, 'SELECT kind, to_address FROM mails')).toEqual([]);
    expect((await outboxMails(hub.dataDir)).length).toBe(0);
  });

  test('CLEANUP is reported with the completion, the release and cleaned', async () => {
    const before = calls.length;
    await order('CLEANUP 2 825');
    await sawCall(() => calls.slice(before).some((c) => c.body.cleaned === 'true'), 'cleaned');
    expect(
      calls
        .slice(before)
        .filter((c) => c.method === 'PUT')
        .map((c) => [c.path, c.body]),
    ).toEqual([
      ['/api/customer/825', { completionPercentage: '0' }],
      ['/api/student/102', { assigned: 'false' }],
      ['/api/customer/825', { cleaned: 'true' }],
    ]);
  });

  test('PURGE is reported as the original does it (assigned false and a new password)', async () => {
    const before = calls.length;
    await order('PURGE 3 0');
    await sawCall(() => calls.slice(before).some((c) => c.path === '/api/student/103'), 'the purge report');
    const put = calls.slice(before).find((c) => c.path === '/api/student/103')!;
    expect(put.body.assigned).toBe('false');
    expect(put.body.password).toMatch(/^[a-zA-Z2-9]{16}$/);
  });
});
