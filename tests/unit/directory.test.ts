/**
 * The LDAP directory module against a real slapd (tests/support/slapd.ts): it binds as the manager
 * over StartTLS or ldaps://, replaces studentN's userPassword, and then the student binds with the
 * new password and no longer with the old one. Its failures are sentences without the secrets.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkLdap } from '../../hub-service/src/catalog/problems';
import type { WodConfig } from '../../hub-service/src/config/schema';
import { loadConfig } from '../../hub-service/src/config/load';
import {
  type Directory,
  DirectoryError,
  directoryLockStep,
  DirectoryUnreachable,
  LdapDirectory,
  readLdapBindPassword,
  setDirectoryPassword,
  sshaHash,
  studentDn,
} from '../../hub-service/src/lifecycle/directory';
import type { Step, StepContext } from '../../hub-service/src/jobs/engine';
import type { Job } from '../../hub-service/src/jobs/store';
import { cleanupPlan } from '../../hub-service/src/lifecycle/cleanup';
import { resetPlan } from '../../hub-service/src/lifecycle/reset';
import { isTransient, type Kit, type Subject } from '../../hub-service/src/lifecycle/steps';
import { freePorts } from '../support/ports';
import { startSlapd, type TestDirectory } from '../support/slapd';

let ldap: TestDirectory;
beforeAll(async () => {
  ldap = await startSlapd(3);
});
afterAll(async () => {
  await ldap?.stop();
});

const settings = (over: Partial<WodConfig['ldap']> = {}): WodConfig['ldap'] => ({
  url: ldap.url,
  bindDn: ldap.bindDn,
  baseDn: ldap.baseDn,
  userPrefix: 'student',
  startTls: true,
  caFile: ldap.caFile,
  passwordScheme: 'clear',
  timeoutSeconds: 5,
  ...over,
});

test('over StartTLS it sets the password: the student binds with the new one, not the old one', async () => {
  const directory = new LdapDirectory(settings(), () => ldap.bindPassword);
  expect(await directory.setPassword(1, 'NewPassword1234x')).toBe(ldap.dn(1));
  expect(await ldap.canBind(ldap.dn(1), 'NewPassword1234x')).toBe(true);
  expect(await ldap.canBind(ldap.dn(1), ldap.initialPassword(1))).toBe(false);
  // once more (a step run again): still the last one given
  await directory.setPassword(1, 'Another1234abcdX');
  expect(await ldap.canBind(ldap.dn(1), 'Another1234abcdX')).toBe(true);
  expect(await ldap.canBind(ldap.dn(1), 'NewPassword1234x')).toBe(false);
  // the other students are untouched
  expect(await ldap.canBind(ldap.dn(2), ldap.initialPassword(2))).toBe(true);
});

test('over ldaps:// with passwordScheme ssha it stores a hash the student binds with', async () => {
  const directory = new LdapDirectory(settings({ url: ldap.ldapsUrl, startTls: false, passwordScheme: 'ssha' }), () => ldap.bindPassword);
  await directory.setPassword(2, 'HashedPassw0rdXY');
  expect(await ldap.canBind(ldap.dn(2), 'HashedPassw0rdXY')).toBe(true);
  expect(await ldap.canBind(ldap.dn(2), ldap.initialPassword(2))).toBe(false);
  expect(sshaHash('secret', Buffer.from('12345678'))).toBe(sshaHash('secret', Buffer.from('12345678')));
  expect(sshaHash('secret')).toMatch(/^\{SSHA\}[A-Za-z0-9+/]+=*$/);
});

test('a certificate it cannot verify stops it before it binds', async () => {
  const directory = new LdapDirectory(settings({ caFile: undefined }), () => ldap.bindPassword);
  const e = (await directory.setPassword(3, 'NeverSentXXXX123').catch((err: Error) => err)) as Error;
  expect(e).toBeInstanceOf(DirectoryError);
  expect(e).not.toBeInstanceOf(DirectoryUnreachable);
  expect(e.message).toMatch(/could not start TLS with the directory/);
  expect(await ldap.canBind(ldap.dn(3), ldap.initialPassword(3))).toBe(true);
});

test('its failures name what to check, never a password, and only an unreachable directory is retried', async () => {
  const wrong = new LdapDirectory(settings(), () => 'wrong-bind-secret-123');
  const refused = (await wrong.setPassword(3, 'StudentPassw0rd1').catch((err: Error) => err)) as Error;
  expect(refused.message).toContain(`the directory refused ${ldap.bindDn}`);
  expect(refused.message).not.toMatch(/wrong-bind-secret-123|StudentPassw0rd1/);
  expect(isTransient(refused)).toBe(false);

  const missing = (await new LdapDirectory(settings(), () => ldap.bindPassword).setPassword(99, 'StudentPassw0rd1').catch((err: Error) => err)) as Error;
  expect(missing.message).toContain('uid=student99,ou=People,dc=wod,dc=test is not in the directory');

  const [closed] = await freePorts(1);
  const down = (await new LdapDirectory(settings({ url: `ldap://127.0.0.1:${closed}`, timeoutSeconds: 2 }), () => ldap.bindPassword)
    .setPassword(1, 'StudentPassw0rd1')
    .catch((err: Error) => err)) as Error;
  expect(down).toBeInstanceOf(DirectoryUnreachable);
  expect(isTransient(down)).toBe(true);

  const none = (await setDirectoryPassword(undefined, 1, 'x').catch((err: Error) => err)) as Error;
  expect(none.message).toMatch(/ldap: true, but no directory is configured: set ldap.url and ldap.baseDn/);
});

test('the entry is uid=<userPrefix>N,ou=People,<baseDn>, as the original', () => {
  expect(studentDn({ userPrefix: 'student', baseDn: 'dc=example,dc=org' }, 7)).toBe('uid=student7,ou=People,dc=example,dc=org');
  expect(studentDn({ userPrefix: 'wod', baseDn: 'dc=x' }, 12)).toBe('uid=wod12,ou=People,dc=x');
  expect(() => studentDn({ userPrefix: 'student', baseDn: 'dc=x' }, 0)).toThrow();
});

test('the bind password comes from WOD_LDAP_BIND_PASSWORD or a 0600 file, nothing else', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-ldap-secret-'));
  const file = path.join(dir, 'ldap-bind-password');
  try {
    expect(() => readLdapBindPassword(file, {})).toThrow(/bind password is missing: write it to .*ldap-bind-password \(one line, chmod 600\) or set WOD_LDAP_BIND_PASSWORD/);
    fs.writeFileSync(file, 'from-the-file\n', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    expect(() => readLdapBindPassword(file, {})).toThrow(/must not be readable by others/);
    fs.chmodSync(file, 0o600);
    expect(readLdapBindPassword(file, {})).toBe('from-the-file');
    expect(readLdapBindPassword(file, { WOD_LDAP_BIND_PASSWORD: 'from-the-env' })).toBe('from-the-env');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('config: ldap.* from the environment; a url without a base is refused', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-ldap-config-'));
  try {
    const c = loadConfig({ env: { WOD_LDAP_URL: 'ldaps://ldap.example.org:636', WOD_LDAP_BASE_DN: 'dc=example,dc=org', WOD_LDAP_CA_FILE: 'ca.pem' }, projectRoot: root });
    expect(c.ldap).toEqual({
      url: 'ldaps://ldap.example.org:636',
      bindDn: 'cn=Directory Manager',
      baseDn: 'dc=example,dc=org',
      userPrefix: 'student',
      startTls: false,
      caFile: path.join(root, 'ca.pem'),
      passwordScheme: 'clear',
      timeoutSeconds: 10,
    });
    expect(() => loadConfig({ env: { WOD_LDAP_URL: 'ldap://ldap.example.org' }, projectRoot: root })).toThrow(/ldap.baseDn \(WOD_LDAP_BASE_DN\): ldap.url is set/);
    expect(() => loadConfig({ env: { WOD_LDAP_URL: 'http://ldap.example.org', WOD_LDAP_BASE_DN: 'dc=x' }, projectRoot: root })).toThrow(/WOD_LDAP_URL/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('lint: ldap: true without a directory is an error; a directory without TLS a warning', () => {
  const spec = { folder: 'WKSHP-Dir', ldap: true };
  const at = { file: '/w/WKSHP-Dir/wod.yml', line: 4 };
  expect(checkLdap(spec, { ldap: { url: undefined, baseDn: undefined, startTls: false } }, at)).toEqual([
    expect.objectContaining({ severity: 'error', file: at.file, line: 4, field: 'ldap', message: expect.stringContaining('no directory is configured') }),
  ]);
  expect(checkLdap(spec, { ldap: { url: 'ldap://l:389', baseDn: 'dc=x', startTls: false } }, at)).toEqual([
    expect.objectContaining({ severity: 'warning', message: expect.stringContaining('without TLS'), fix: 'use ldaps:// or set ldap.startTls' }),
  ]);
  expect(checkLdap(spec, { ldap: { url: 'ldap://l:389', baseDn: 'dc=x', startTls: true } }, at)).toEqual([]);
  expect(checkLdap(spec, { ldap: { url: 'ldaps://l', baseDn: 'dc=x', startTls: false } }, at)).toEqual([]);
  expect(checkLdap({ folder: 'WKSHP-Dir', ldap: false }, { ldap: { url: undefined, baseDn: undefined, startTls: false } })).toEqual([]);
});

describe('CLEANUP and RESET give the directory a password nobody knows, first, as the original', () => {
  const subject = (ldapOn: boolean) => ({ n: 4, student: 'student4', registration: null, workshop: { folder: 'WKSHP-Dir', ldap: ldapOn } }) as unknown as Subject;
  const fakeKit = (s: Subject, directory?: Directory) => {
    const step = (name: string, run: (s: Subject, ctx: StepContext) => Promise<void>): Step => ({ name, run: (ctx) => run(s, ctx) });
    const noop = (name: string) => step(name, async () => undefined);
    return {
      step,
      deps: { directory },
      host: { home: () => '/nonexistent' },
      stopServer: noop('server-stopped'),
      kill: noop('processes-stopped'),
      lock: noop('locked'),
      wipe: noop('home-wiped'),
      release: () => noop('released'),
      report: noop('reported'),
      hooks: async () => ({}),
    } as unknown as Kit;
  };
  const ctx = (logged: string[]): StepContext => ({ job: { id: 1 } as Job, log: (t) => void logged.push(t) });

  test('the first step of both; it sets a fresh password only for ldap: true workshops', async () => {
    for (const plan of [cleanupPlan, resetPlan]) expect(plan(fakeKit(subject(true))).steps({} as Job)[0].name).toBe('directory-locked');
    const given: [number, string][] = [];
    const directory: Directory = { setPassword: async (n, pw) => (given.push([n, pw]), `uid=student${n}`) };
    const logged: string[] = [];
    await directoryLockStep(fakeKit(subject(true), directory)).run(ctx(logged));
    await directoryLockStep(fakeKit(subject(true), directory)).run(ctx(logged));
    expect(given.map(([n]) => n)).toEqual([4, 4]);
    expect(given[0][1]).toMatch(/^[a-zA-Z2-9]{16}$/);
    expect(given[0][1]).not.toBe(given[1][1]);
    expect(logged.join('')).not.toContain(given[0][1]);
    await directoryLockStep(fakeKit(subject(false), directory)).run(ctx([]));
    expect(given).toHaveLength(2);
    await expect(directoryLockStep(fakeKit(subject(true))).run(ctx([]))).rejects.toThrow(/no directory is configured/);
  });
});
