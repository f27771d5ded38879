/**
 * Orders at the one desk against a real hub: `wod action` on a range of students, permanent
 * refusals over SMTP, challenge mode, and a CLEANUP that gives up (a cleanup hook that fails for
 * real) leaving its student stuck on the panel until a one-click retry frees it.
 */
import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { Browser } from '../support/browser';
import { adminToken, restApi, type RunningHub, startHub } from '../support/hub';
import { query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const notebook = JSON.stringify({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [{ cell_type: 'markdown', id: 'm', metadata: {}, source: ["{% if MODEWS == 'CHLG' %}challenge{% else %}workshop{% endif %} for {{ STUDENT }}"] }],
});
let hub: RunningHub;
let token: string;
const workshops = tempWorkshops();
const fixed = path.join(workshops, 'cleanup-may-succeed');

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-Orders', { range: [10, 14], capacity: 5 }, { notebook });
  const sticky = writeWorkshop(workshops, 'WKSHP-Sticky', { range: [20, 22], capacity: 3 });
  // fails for real until the operator "fixes" it
  fs.writeFileSync(path.join(sticky, 'cleanup'), `#!/bin/sh\n[ -f '${fixed}' ] && exit 0\necho 'the appliance is unreachable'\nexit 1\n`, { mode: 0o755 });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  token = await adminToken(hub);
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const api = (p: string, init: RequestInit = {}) => restApi(hub, token, p, init);
const students = (first: number, last: number) =>
  query<{ id: number; state: string; problem: string | null }>(hub.dataDir, 'SELECT id, state, problem FROM students WHERE id BETWEEN ? AND ? ORDER BY id', first, last);

async function mailOrder(subject: string, body: string) {
  const credential = JSON.parse(await hub.cli('mail-api', 'credentials', '--json')) as { user: string; password: string };
  return nodemailer
    .createTransport({ host: '127.0.0.1', port: hub.ports.mailApi, ignoreTLS: true, auth: { user: credential.user, pass: credential.password } })
    .sendMail({ from: 'wodadmin@localhost', to: 'wod@x', subject, text: body })
    .then(
      (info) => ({ ok: true as const, code: 250, response: info.response }),
      (e: { responseCode?: number; response?: string }) => ({ ok: false as const, code: e.responseCode, response: e.response ?? '' }),
    );
}

test('wod action CREATE on a range makes three students and prints three sets of credentials; CLEANUP of the range frees them', async () => {
  const created = await hub.cli('action', 'CREATE', 'WKSHP-Orders', '10,12');
  expect(created).not.toMatch(/451|try again/);
  expect([...created.matchAll(/username: (student\d+)/g)].map((m) => m[1])).toEqual(['student10', 'student11', 'student12']);
  expect([...created.matchAll(/password: \S+/g)]).toHaveLength(3);
  expect(query(hub.dataDir, `SELECT s.name, r.state FROM registrations r JOIN students s ON s.id = r.student_id ORDER BY r.id`)).toEqual(
    ['student10', 'student11', 'student12'].map((name) => ({ name, state: 'ready' })),
  );
  const cleaned = await hub.cli('action', 'CLEANUP', 'WKSHP-Orders', '10,12');
  expect(cleaned.match(/CLEANUP student1[012]: done/g)).toHaveLength(3);
  expect(students(10, 12).map((s) => s.state)).toEqual(['free', 'free', 'free']);
  expect(query(hub.dataDir, `SELECT DISTINCT state FROM registrations`)).toEqual([{ state: 'cleaned' }]);
}, 300_000);

test('a second mailed CREATE for a taken student is refused for good (5xx with the reason); CHLG- deploys in challenge mode', async () => {
  const first = await mailOrder('CREATE 13 901 first@example.com', 'CHLG-Orders');
  expect(first).toMatchObject({ ok: true, code: 250 });
  const second = await mailOrder('CREATE 13 902 second@example.com', 'WKSHP-Orders');
  expect(second.ok).toBe(false);
  expect(second.code).toBeGreaterThanOrEqual(500);
  expect(second.response).toMatch(/student 13 is in use/);
  expect(query(hub.dataDir, `SELECT external_id AS externalId, mode FROM registrations WHERE student_id = 13`)).toEqual([{ externalId: '901', mode: 'CHLG' }]);
  await until(
    () => query<{ state: string }>(hub.dataDir, `SELECT state FROM jobs WHERE student_id = 13 AND verb = 'CREATE'`),
    (j) => j[0]?.state === 'done',
    'the CHLG CREATE to finish',
    120_000,
  );
  const nb = fs.readFileSync(path.join(hub.dataDir, 'homes', 'student13', 'WKSHP-Orders', '0-ReadMeFirst.ipynb'), 'utf8');
  expect(nb).toContain('challenge for student13');
}, 200_000);

test('a CLEANUP that gives up leaves the student stuck on the dashboard with its error; one click on Retry frees it', async () => {
  const res = await api('/registrations', {
    method: 'POST',
    body: JSON.stringify({ email: 'sticky@example.com', name: 'S', company: 'C', workshop: 'WKSHP-Sticky', acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { registration: { id: number } }).registration.id;
  await until(
    () => query<{ state: string }>(hub.dataDir, 'SELECT state FROM registrations WHERE id = ?', id),
    (r) => r[0]?.state === 'ready',
    'the registration to be ready',
    120_000,
  );
  expect((await api(`/admin/registrations/${id}/end`, { method: 'POST' })).status).toBe(200);
  await until(
    () => students(20, 20),
    (s) => s[0].problem !== null,
    'the CLEANUP to give up',
    90_000,
  );
  // the seat is not silently leaked: the student is held, stuck, with the error
  expect(students(20, 20)).toEqual([{ id: 20, state: 'allocated', problem: expect.stringMatching(/^CLEANUP gave up: cleanup-hook: cleanup exited with 1/) }]);

  const admin = new Browser(hub.url);
  await admin.hubLogin('admin', hub.admin.password);
  expect((await admin.request('/services/wod/admin/')).text).toContain('<b>1</b><span>students stuck</span>');
  const pool = await admin.request('/services/wod/admin/pool');
  expect(pool.text).toContain('Stuck students');
  expect(pool.text).toContain('Retry CLEANUP');
  const csrf = pool.text.match(/name="_csrf" value="([^"]+)"/)![1];

  fs.writeFileSync(fixed, '');
  const retry = await admin.request('/services/wod/admin/pool/20/retry', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf }).toString(),
    follow: false,
  });
  expect(retry.status).toBe(303);
  await until(
    () => students(20, 20),
    (s) => s[0].state === 'free',
    'the retried CLEANUP to free the student',
    90_000,
  );
  expect(students(20, 20)).toEqual([{ id: 20, state: 'free', problem: null }]);
  expect(query(hub.dataDir, 'SELECT state FROM registrations WHERE id = ?', id)).toEqual([{ state: 'cleaned' }]);
}, 300_000);
