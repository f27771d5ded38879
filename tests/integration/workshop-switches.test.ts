/**
 * The original's `ldap: true` and `compile` switches through a real hub and a real slapd: CREATE
 * sets the mailed password in the directory (StartTLS, the bind password from the data folder's
 * secrets) and installs the compiled script, which the student's account runs, printing the values
 * rendered for them, but cannot read; CLEANUP gives the directory a password nobody knows.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureLocalAccount } from '../../hub-service/src/isolation/student-side';
import { adminToken, restApi, type RunningHub, startHub } from '../support/hub';
import { credentialsIn, waitForMail } from '../support/outbox';
import { startSlapd, type TestDirectory } from '../support/slapd';
import { until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const asRoot = process.getuid?.() === 0;
let hub: RunningHub;
let ldap: TestDirectory;
let token: string;
const workshops = tempWorkshops();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-test-switches-'));

beforeAll(async () => {
  ldap = await startSlapd(3);
  const dir = writeWorkshop(workshops, 'WKSHP-Switches', { range: [1, 3], capacity: 3, ldap: true, compile: 'get-secret.sh' });
  fs.writeFileSync(path.join(dir, 'vars.yml'), 'SECRET_TOKEN: tok-7f3a9c\n');
  fs.writeFileSync(path.join(dir, 'get-secret.sh'), '#!/bin/bash\necho "{{ STUDENT }} token={{ SECRET_TOKEN }} pass={{ PASSSTU }}"\n');
  fs.mkdirSync(path.join(dataDir, 'secrets'), { mode: 0o700 });
  fs.writeFileSync(path.join(dataDir, 'secrets', 'ldap-bind-password'), `${ldap.bindPassword}\n`, { mode: 0o600 });
  hub = await startHub({
    dataDir,
    env: {
      WOD_WORKSHOPS_DIR: workshops,
      WOD_LDAP_URL: ldap.url,
      WOD_LDAP_START_TLS: 'true',
      WOD_LDAP_CA_FILE: ldap.caFile,
      WOD_LDAP_BASE_DN: ldap.baseDn,
      WOD_LDAP_BIND_DN: ldap.bindDn,
    },
  });
  token = await adminToken(hub);
});
afterAll(async () => {
  await hub?.stop();
  await ldap?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const api = (p: string, init: RequestInit = {}) => restApi(hub, token, p, init);

const stateOf = async (id: number) => ((await (await api(`/admin/registrations/${id}`)).json()) as { state: string }).state;

(asRoot ? test : test.skip)('ldap: true and compile: the directory gets the mailed password, the student runs the compiled script but cannot read it', async () => {
  const res = await api('/registrations', {
    method: 'POST',
    body: JSON.stringify({ email: 'ada@example.com', name: 'Ada', company: 'ACME', workshop: 'WKSHP-Switches', acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { registration: { id: number } }).registration.id;
  const mail = await waitForMail(hub.dataDir, (m) => !!m.subject?.includes('is ready'), 120_000);
  const { student, password } = credentialsIn(mail);
  expect(student).toBe('student1');
  expect(
    await until(
      () => stateOf(id),
      (s) => s === 'ready',
      'the registration ready',
    ),
  ).toBe('ready');

  // the directory: the mailed password binds, the old one does not
  expect(await ldap.canBind(ldap.dn(1), password)).toBe(true);
  expect(await ldap.canBind(ldap.dn(1), ldap.initialPassword(1))).toBe(false);

  // the compiled script: in the home as <name>.x, ours, run-only; its source was not deployed
  const home = path.join(hub.dataDir, 'homes', 'student1');
  const binary = path.join(home, 'get-secret.sh.x');
  const stat = fs.statSync(binary);
  expect(stat.mode & 0o7777).toBe(0o711);
  expect(stat.uid).toBe(0);
  expect(fs.existsSync(path.join(home, 'WKSHP-Switches', 'get-secret.sh'))).toBe(false);
  expect(fs.existsSync(path.join(home, 'WKSHP-Switches', '0-ReadMeFirst.ipynb'))).toBe(true);

  // as the student's account (local mode started by root: wod-student)
  const ids = ensureLocalAccount('wod-student');
  const asStudent = (...cmd: string[]) => spawnSync('setpriv', [`--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--clear-groups', '--', ...cmd], { encoding: 'utf8', cwd: home });
  const ran = asStudent(binary);
  expect(ran.stderr).toBe('');
  expect(ran.stdout).toBe(`student1 token=tok-7f3a9c pass=${password}\n`);
  expect(asStudent('test', '-r', binary).status).toBe(1);
  expect(asStudent('cat', binary).status).not.toBe(0);

  // CLEANUP: a new password in the directory, which nobody was told
  expect((await api(`/admin/registrations/${id}/end`, { method: 'POST' })).status).toBe(200);
  await until(
    () => stateOf(id),
    (s) => s === 'cleaned',
    'the registration cleaned',
    90_000,
  );
  expect(await ldap.canBind(ldap.dn(1), password)).toBe(false);
  expect(await ldap.canBind(ldap.dn(1), ldap.initialPassword(1))).toBe(false);
  expect(fs.existsSync(binary)).toBe(false);
});
