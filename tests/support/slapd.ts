/**
 * A real OpenLDAP slapd (Debian's slapd package) of a test's own: a slapd.conf in a temporary
 * folder, an mdb database loaded with slapadd (dc=wod,dc=test, ou=People, uid=student1…N), a
 * self-signed certificate for ldaps:// and StartTLS, free ports. Stopped by `stop()` (afterAll).
 * Nothing is shared with another test or with a system slapd.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'ldapts';
import { freePorts } from './ports';

export interface TestDirectory {
  /** plain LDAP, for StartTLS */
  url: string;
  /** LDAP over TLS */
  ldapsUrl: string;
  baseDn: string;
  /** the manager (slapd's rootdn) and its password */
  bindDn: string;
  bindPassword: string;
  /** the certificate's CA (the certificate itself: it is self-signed) */
  caFile: string;
  /** each student's first password */
  initialPassword: (n: number) => string;
  /** a simple bind as this entry with this password: true when the directory accepts it */
  canBind: (dn: string, password: string) => Promise<boolean>;
  dn: (n: number) => string;
  dir: string;
  stop: () => Promise<void>;
}

const SCHEMAS = ['core', 'cosine', 'nis', 'inetorgperson'];

export async function startSlapd(students = 3): Promise<TestDirectory> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-slapd-'));
  const [port, tlsPort] = await freePorts(2);
  const baseDn = 'dc=wod,dc=test';
  const bindDn = `cn=Directory Manager,${baseDn}`;
  const bindPassword = `manager-${path.basename(dir)}`;
  const dn = (n: number) => `uid=student${n},ou=People,${baseDn}`;
  const initialPassword = (n: number) => `first-${n}-${path.basename(dir)}`;

  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  fs.mkdirSync(path.join(dir, 'db'));
  const conf = path.join(dir, 'slapd.conf');
  fs.writeFileSync(
    conf,
    [
      ...SCHEMAS.map((s) => `include /etc/ldap/schema/${s}.schema`),
      `pidfile ${dir}/slapd.pid`,
      `argsfile ${dir}/slapd.args`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `TLSCertificateFile ${cert}`,
      `TLSCertificateKeyFile ${key}`,
      'database mdb',
      `suffix "${baseDn}"`,
      `rootdn "${bindDn}"`,
      `rootpw ${bindPassword}`,
      `directory ${dir}/db`,
      'maxsize 10485760',
      'access to attrs=userPassword by self write by anonymous auth by * none',
      'access to * by * read',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const entries = [
    `dn: ${baseDn}\nobjectClass: dcObject\nobjectClass: organization\ndc: wod\no: wod test`,
    `dn: ou=People,${baseDn}\nobjectClass: organizationalUnit\nou: People`,
    ...Array.from(
      { length: students },
      (_, i) => `dn: ${dn(i + 1)}\nobjectClass: inetOrgPerson\nuid: student${i + 1}\ncn: student${i + 1}\nsn: student${i + 1}\nuserPassword: ${initialPassword(i + 1)}`,
    ),
  ];
  fs.writeFileSync(path.join(dir, 'base.ldif'), entries.join('\n\n') + '\n', { mode: 0o600 });
  execFileSync('/usr/sbin/slapadd', ['-f', conf, '-l', path.join(dir, 'base.ldif')], { stdio: 'pipe' });

  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = `ldaps://127.0.0.1:${tlsPort}`;
  // -d 0: in the foreground, so that it is this test's child and ends with it
  const child: ChildProcess = spawn('/usr/sbin/slapd', ['-f', conf, '-h', `${url}/ ${ldapsUrl}/`, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const canBind = async (who: string, password: string, at = url) => {
    const client = new Client({ url: at, connectTimeout: 5_000, timeout: 5_000 });
    try {
      await client.bind(who, password);
      return true;
    } catch (e) {
      if ((e as Error).name === 'InvalidCredentialsError') return false;
      throw e;
    } finally {
      await client.unbind().catch(() => undefined);
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  // ready when the manager can bind
  for (let i = 0; ; i++) {
    try {
      if (await canBind(bindDn, bindPassword)) break;
    } catch {
      /* not listening yet */
    }
    if (child.exitCode !== null || i > 100) {
      await stop();
      throw new Error(`slapd did not start: ${stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, ldapsUrl, baseDn, bindDn, bindPassword, caFile: cert, initialPassword, canBind: (who, pw) => canBind(who, pw), dn, dir, stop };
}
