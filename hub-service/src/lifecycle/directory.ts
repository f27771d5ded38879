/**
 * The site's LDAP directory, for workshops with `ldap: true`: appliances log their students in
 * through it, so studentN's `userPassword` there is set to the participant's password at CREATE, and
 * to a new one nobody knows at CLEANUP and RESET (the participant is locked out of the appliances),
 * as the original's `wod_update_ldap_passwd` did: `uid=<userPrefix>N,ou=People,<baseDn>`, replace
 * userPassword.
 *
 * Unlike the original (plain LDAP, the admin password on ldapmodify's command line, visible in `ps`),
 * wod speaks LDAP itself (ldapts), over ldaps:// or StartTLS when configured; the bind password comes
 * from a 0600 file in the data folder's secrets or from WOD_LDAP_BIND_PASSWORD, is read when needed,
 * and is in no message, log or command line.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Attribute, Change, Client, InvalidCredentialsError, NoSuchObjectError } from 'ldapts';
import { generatePassword } from '../accounts/passwords.js';
import type { WodConfig } from '../config/schema.js';
import type { Step } from '../jobs/engine.js';
import type { Kit } from './steps.js';

export type LdapConfig = WodConfig['ldap'];

export const LDAP_BIND_PASSWORD_ENV = 'WOD_LDAP_BIND_PASSWORD';

/** The directory said no, or is not configured: an operator must act. */
export class DirectoryError extends Error {}

/** The directory could not be reached in time: worth another attempt. */
export class DirectoryUnreachable extends DirectoryError {}

/** `ldap: true` needs a directory: the error a CREATE fails with, and lint's message. */
export const NO_DIRECTORY = 'the workshop has ldap: true, but no directory is configured';
export const NO_DIRECTORY_FIX = 'set ldap.url and ldap.baseDn (WOD_LDAP_URL, WOD_LDAP_BASE_DN), or remove ldap: true';

export function isDirectoryConfigured(config: LdapConfig): boolean {
  return !!(config.url && config.baseDn);
}

/** studentN's entry, as the original names it. */
export function studentDn(config: Pick<LdapConfig, 'userPrefix' | 'baseDn'>, n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new Error(`not a student number: ${n}`);
  return `uid=${config.userPrefix}${n},ou=People,${config.baseDn}`;
}

/** `{SSHA}` of RFC 2307 style: base64 of SHA-1(password + salt) followed by the salt. */
export function sshaHash(password: string, salt: Buffer = crypto.randomBytes(8)): string {
  const digest = crypto
    .createHash('sha1')
    .update(Buffer.concat([Buffer.from(password, 'utf8'), salt]))
    .digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/**
 * The bind password: WOD_LDAP_BIND_PASSWORD when set, else the one line of the secret file, which
 * must not be readable by others (a participant's process must never reach it).
 */
export function readLdapBindPassword(file: string, env: NodeJS.ProcessEnv): string {
  const given = env[LDAP_BIND_PASSWORD_ENV];
  if (given) return given;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new DirectoryError(`the directory's bind password is missing: write it to ${file} (one line, chmod 600) or set ${LDAP_BIND_PASSWORD_ENV}`);
  }
  if (stat.mode & 0o077) throw new DirectoryError(`${file} must not be readable by others (chmod 600 it)`);
  const value = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (!value) throw new DirectoryError(`${file} is empty: write the directory's bind password in it`);
  return value;
}

/** What the lifecycle needs of a directory. */
export interface Directory {
  /** sets studentN's userPassword; returns the entry changed */
  setPassword(n: number, password: string): Promise<string>;
}

const UNREACHABLE = /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EAI_AGAIN|Connection timeout|Timeout|socket hang up|Socket error/i;

export class LdapDirectory implements Directory {
  constructor(
    private readonly config: LdapConfig,
    /** read at each use: the operator may write the secret file after start */
    private readonly bindPassword: () => string,
  ) {}

  async setPassword(n: number, password: string): Promise<string> {
    const c = this.config;
    if (!isDirectoryConfigured(c)) throw new DirectoryError(`${NO_DIRECTORY}: ${NO_DIRECTORY_FIX}`);
    const dn = studentDn(c, n);
    const secret = this.bindPassword();
    const url = new URL(c.url!);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const tlsOptions: ConnectionOptions = {
      minVersion: 'TLSv1.2',
      ...(c.caFile ? { ca: fs.readFileSync(c.caFile) } : {}),
      // StartTLS upgrades a socket: the name its certificate must carry is given here
      host,
      ...(net.isIP(host) ? {} : { servername: host }),
    };
    const timeoutMs = c.timeoutSeconds * 1000;
    // ldapts speaks TLS from the first byte whenever it is given TLS options: only for ldaps://
    const client = new Client({ url: c.url!, timeout: timeoutMs, connectTimeout: timeoutMs, ...(url.protocol === 'ldaps:' ? { tlsOptions } : {}) });
    let step = 'connect to';
    try {
      if (c.startTls && url.protocol === 'ldap:') {
        step = 'start TLS with';
        await client.startTLS(tlsOptions);
      }
      step = `bind as ${c.bindDn} to`;
      await client.bind(c.bindDn, secret);
      step = `set the password of ${dn} in`;
      const value = c.passwordScheme === 'ssha' ? sshaHash(password) : password;
      await client.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: [value] }) }));
      return dn;
    } catch (e) {
      throw describe(e as Error, `could not ${step} the directory ${c.url}`, dn, c.bindDn, [secret, password]);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }
}

/** One sentence an operator can act on, with neither password in it. */
function describe(e: Error, what: string, dn: string, bindDn: string, secrets: string[]): DirectoryError {
  const scrub = (text: string) => secrets.filter(Boolean).reduce((t, s) => t.split(s).join('[secret]'), text);
  if (e instanceof InvalidCredentialsError) return new DirectoryError(`${what}: the directory refused ${bindDn} (check ldap.bindDn and the bind password)`);
  if (e instanceof NoSuchObjectError) return new DirectoryError(`${what}: ${dn} is not in the directory (check ldap.baseDn and ldap.userPrefix)`);
  const detail = scrub(e.message.split('\n')[0]);
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (UNREACHABLE.test(`${code} ${e.message}`)) return new DirectoryUnreachable(`${what}: ${detail}`);
  return new DirectoryError(`${what}: ${detail}`);
}

/** Sets studentN's password in the directory, or says that none is configured. */
export async function setDirectoryPassword(directory: Directory | undefined, n: number, password: string): Promise<string> {
  if (!directory) throw new DirectoryError(`${NO_DIRECTORY}: ${NO_DIRECTORY_FIX}`);
  return directory.setPassword(n, password);
}

/**
 * CLEANUP and RESET of an `ldap: true` workshop: studentN gets a new password in the directory that
 * nobody knows, as the original gives one, so that the participant is locked out of the appliances.
 */
export function directoryLockStep(kit: Pick<Kit, 'step' | 'deps'>): Step {
  return kit.step('directory-locked', async (s, ctx) => {
    if (!s.workshop?.ldap) return;
    const dn = await setDirectoryPassword(kit.deps.directory, s.n, generatePassword(16));
    ctx.log(`${dn}: a new password nobody knows\n`);
  });
}
