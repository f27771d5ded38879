/**
 * External api-db mode: orders mailed by a WoD api-db are reported back with the original
 * backend's REST calls, retried until accepted. The api-db here is a recording HTTP server.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { type RunningHub, startHub } from '../support/hub';
import { outboxMails } from '../support/outbox';
import { query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

interface Call {
  method: string;
  path: string;
  token?: string;
  body: Record<string, string>;
}

let hub: RunningHub;
/** the api-db logs in with what `wod mail-api credentials` gives its operator */
let credential: { host: string; port: number; user: string; password: string };
let recorder: http.Server;
const calls: Call[] = [];
let failNextPuts = 0;
const workshops = tempWorkshops();

beforeAll(async () => {
  recorder = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const call: Call = { method: req.method!, path: req.url!, token: req.headers['x-access-token'] as string | undefined, body: raw ? JSON.parse(raw) : {} };
      calls.push(call);
      res.setHeader('Content-Type', 'application/json');
      if (call.path === '/api/login') {
        const ok = call.body.username === 'moderator' && call.body.password === 'api-db-secret';
        res.writeHead(ok ? 200 : 401).end(JSON.stringify(ok ? { accessToken: 'jwt-1' } : { message: 'Invalid Password!' }));
      } else if (call.token !== 'jwt-1') {
        res.writeHead(403).end(JSON.stringify({ message: 'No token provided!' }));
      } else if (call.method === 'PUT' && failNextPuts > 0) {
        failNextPuts--;
        res.writeHead(503).end(JSON.stringify({ message: 'busy' }));
      } else {
        res.writeHead(200).end('{}');
      }
    });
  });
  await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
  writeWorkshop(workshops, 'WKSHP-API101', { range: [1, 5], capacity: 5 });
  hub = await startHub({
    env: {
      WOD_WORKSHOPS_DIR: workshops,
      WOD_API_DB_URL: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/api`,
      WOD_API_DB_BASE_STDID: '100',
      WOD_API_DB_PASSWORD: 'api-db-secret',
      WOD_LIFECYCLE_MAX_ATTEMPTS: '6',
    },
  });
  credential = JSON.parse(await hub.cli('mail-api', 'credentials', '--json'));
});
afterAll(async () => {
  await hub?.stop();
  await new Promise((r) => recorder.close(r));
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
  failNextPuts = 1;
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
