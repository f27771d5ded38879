/**
 * Secrets of the `ldap: true` and `compile` switches, against a real hub and a real slapd: the
 * directory's bind password is in no log, no job log, no command line (the original put it on
 * ldapmodify's) and no file a student can read; the compiled script's source (the values rendered
 * into it) is nowhere the student can read it. shc itself is obfuscation, not encryption
 * (content/compile.ts): what is tested here is that wod adds no easier way in.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureLocalAccount, type Ids } from '../../hub-service/src/isolation/student-side';
import { attack } from '../support/attacks';
import { adminToken, type RunningHub, startHub } from '../support/hub';
import { credentialsIn, waitForMail } from '../support/outbox';
import { startSlapd, type TestDirectory } from '../support/slapd';
import { until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const asRoot = process.getuid?.() === 0;
let hub: RunningHub;
let ldap: TestDirectory;
let token: string;
let student: Ids;
const workshops = tempWorkshops();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-test-switches-sec-'));
const secretFile = path.join(dataDir, 'secrets', 'ldap-bind-password');
/** the value rendered into the compiled script: its source */
const rendered = `tok-${crypto.randomBytes(8).toString('hex')}`;

/** Every command line on this machine, read while `during` runs: what `ps` shows a participant. */
async function commandLinesDuring<T>(during: () => Promise<T>): Promise<{ result: T; lines: Set<string> }> {
  const lines = new Set<string>();
  let watching = true;
  const watch = (async () => {
    while (watching) {
      for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        try {
          lines.add(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
        } catch {
          /* gone */
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    return { result: await during(), lines };
  } finally {
    watching = false;
    await watch;
  }
}

function allFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? allFiles(full) : e.isFile() ? [full] : [];
  });
}

/** Files under `dirs` holding `needle` that the student's account can read (grep run as it). */
function readableByStudent(needle: string, dirs: string[]): string[] {
  const res = spawnSync('setpriv', [`--reuid=${student.uid}`, `--regid=${student.gid}`, '--clear-groups', '--', 'grep', '-rlsF', '--', needle, ...dirs], { encoding: 'utf8' });
  return res.stdout.split('\n').filter(Boolean);
}

let password = '';
let registrationId = 0;
let createLines = new Set<string>();

(asRoot ? describe : describe.skip)('ldap and compile secrets', () => {
  beforeAll(async () => {
    student = ensureLocalAccount('wod-student');
    ldap = await startSlapd(2);
    const dir = writeWorkshop(workshops, 'WKSHP-Hidden', { range: [1, 2], capacity: 2, ldap: true, compile: ['get-secret.sh'] });
    fs.writeFileSync(path.join(dir, 'vars.yml'), `SECRET_TOKEN: ${rendered}\n`);
    fs.writeFileSync(path.join(dir, 'get-secret.sh'), '#!/bin/bash\necho "token={{ SECRET_TOKEN }}"\n');
    fs.mkdirSync(path.dirname(secretFile), { mode: 0o700 });
    fs.writeFileSync(secretFile, `${ldap.bindPassword}\n`, { mode: 0o600 });
    hub = await startHub({
      dataDir,
      env: { WOD_WORKSHOPS_DIR: workshops, WOD_LDAP_URL: ldap.ldapsUrl, WOD_LDAP_CA_FILE: ldap.caFile, WOD_LDAP_BASE_DN: ldap.baseDn, WOD_LDAP_BIND_DN: ldap.bindDn },
    });
    token = await adminToken(hub);
    const { result, lines } = await commandLinesDuring(async () => {
      const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: 'eve@example.com', name: 'Eve', company: 'C', workshop: 'WKSHP-Hidden', acceptTerms: true }),
      });
      expect(res.status).toBe(201);
      const id = ((await res.json()) as { registration: { id: number } }).registration.id;
      return { id, mail: await waitForMail(hub.dataDir, (m) => !!m.subject?.includes('is ready'), 120_000) };
    });
    registrationId = result.id;
    password = credentialsIn(result.mail).password;
    createLines = lines;
    // the CREATE did change the directory: the attacks below look at a run that used the bind password
    expect(await ldap.canBind(ldap.dn(1), password)).toBe(true);
  });
  afterAll(async () => {
    await hub?.stop();
    await ldap?.stop();
    fs.rmSync(workshops, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('the bind password shows on no command line, in no log and in no file a student can read', async () => {
    await attack('the LDAP bind password on a command line while CREATE sets the password (ps)', () => {
      expect([...createLines].filter((l) => l.includes(ldap.bindPassword))).toEqual([]);
    });
    await attack("the LDAP bind password in the hub's or the service's output", () => {
      expect(hub.output()).not.toContain(ldap.bindPassword);
    });
    await attack('the LDAP bind password in a job log, the database, the outbox or any file of the data folder but its secret file', () => {
      const holding = allFiles(hub.dataDir).filter((f) => f !== secretFile && fs.readFileSync(f).includes(Buffer.from(ldap.bindPassword)));
      expect(holding).toEqual([]);
    });
    await attack('a student reads the LDAP bind password from the data folder, the homes or the workshops', () => {
      expect(readableByStudent(ldap.bindPassword, [hub.dataDir, workshops])).toEqual([]);
      expect(spawnSync('setpriv', [`--reuid=${student.uid}`, `--regid=${student.gid}`, '--clear-groups', '--', 'cat', secretFile]).status).not.toBe(0);
    });
  });

  test("the compiled script's source is nowhere the student can read it; they can only run it", async () => {
    const home = path.join(hub.dataDir, 'homes', 'student1');
    const binary = path.join(home, 'get-secret.sh.x');
    const as = (...cmd: string[]) => spawnSync('setpriv', [`--reuid=${student.uid}`, `--regid=${student.gid}`, '--clear-groups', '--', ...cmd], { encoding: 'utf8', cwd: home });
    // it does what it is for
    expect(as(binary).stdout).toBe(`token=${rendered}\n`);
    await attack('a student reads the compiled script (cat, cp)', () => {
      expect(as('cat', binary).status).not.toBe(0);
      expect(as('cp', binary, path.join(home, 'copy')).status).not.toBe(0);
    });
    await attack('a student makes the compiled script readable (chmod)', () => {
      expect(as('chmod', 'u+r,o+r', binary).status).not.toBe(0);
      expect(fs.statSync(binary).mode & 0o7777).toBe(0o711);
    });
    await attack("a student finds the script's rendered source (or shc's C file) in the home, the data folder, the workshops or the temporary folder", () => {
      expect(readableByStudent(rendered, [home, hub.dataDir, workshops])).toEqual([]);
      const leftovers = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('wod-compile-') && !f.startsWith('wod-compile-test-'));
      expect(leftovers.flatMap((d) => readableByStudent(rendered, [path.join(os.tmpdir(), d)]))).toEqual([]);
    });
  });

  test('after CLEANUP the mailed password opens nothing in the directory', async () => {
    const { lines } = await commandLinesDuring(async () => {
      expect(
        (await fetch(`${hub.url}/services/wod/api/v1/admin/registrations/${registrationId}/end`, { method: 'POST', headers: { Authorization: `token ${token}` } })).status,
      ).toBe(200);
      await until(
        async () =>
          (
            (await (await fetch(`${hub.url}/services/wod/api/v1/admin/registrations/${registrationId}`, { headers: { Authorization: `token ${token}` } })).json()) as {
              state: string;
            }
          ).state,
        (s) => s === 'cleaned',
        'the registration cleaned',
        90_000,
      );
    });
    await attack('the participant logs in to the directory (the appliances) with the mailed password after CLEANUP', async () => {
      expect(await ldap.canBind(ldap.dn(1), password)).toBe(false);
    });
    await attack('the LDAP bind password on a command line while CLEANUP sets a new password (ps)', () => {
      expect([...lines].filter((l) => l.includes(ldap.bindPassword))).toEqual([]);
    });
  });
});
