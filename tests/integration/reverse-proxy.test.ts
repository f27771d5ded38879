/**
 * The README's nginx example (scripts/deploy/nginx.conf, included there verbatim) in front of a real
 * hub whose public side is a Unix socket (bindSocket): only the file's ports, certificate, name and
 * socket path are replaced. Through it: HTTP is sent to HTTPS, the portal answers, a registration
 * works and its mail links are HTTPS, wod sees the client nginx saw (never the X-Forwarded-For the
 * client forged), and a kernel's WebSocket reaches JupyterLab. Around it: another local account
 * cannot reach the socket, and no TCP public port is left to reach.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import WebSocket from 'ws';
import { attack } from '../support/attacks';
import { Browser } from '../support/browser';
import { ROOT, type RunningHub, startHub, WOD_CLI } from '../support/hub';
import { waitForMail } from '../support/outbox';
import { freePorts } from '../support/ports';
import { query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const hasNginx = (() => {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
// .ci/run installs nginx and runs as root; a machine without either says so instead of failing on
// something else (the socket's folder is given to nginx's group, and nginx's workers are www-data).
const canRun = hasNginx && process.getuid?.() === 0;
const describeWithNginx = canRun ? describe : describe.skip;
// nginx's workers run as www-data, bindSocketGroup's default; the attacker is another account.
const NGINX_USER = 'www-data';
const ATTACKER = 65534;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-nginx-'));
const socketDir = path.join(dir, 'run');
const socket = path.join(socketDir, 'public.sock');
const workshops = tempWorkshops();
let hub: RunningHub;
let nginx: ChildProcess | undefined;
let ca: Buffer;
let ports: { http: number; https: number };
let base: string;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request through nginx, over HTTPS (trusting the test's certificate) or plain HTTP. */
function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {}): Promise<Answer> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, { method: init.method ?? 'GET', headers: init.headers, ca, localAddress: init.localAddress, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** The canonical file, with this test's ports, certificate, name and socket instead of the example's: each must be there. */
function siteConfig(cert: string, key: string): string {
  let text = fs.readFileSync(path.join(ROOT, 'scripts', 'deploy', 'nginx.conf'), 'utf8');
  const replace = (from: string, to: string) => {
    if (!text.includes(from)) throw new Error(`scripts/deploy/nginx.conf no longer has ${JSON.stringify(from)}: update this test`);
    text = text.split(from).join(to);
  };
  replace('/etc/letsencrypt/live/wod.example.org/fullchain.pem', cert);
  replace('/etc/letsencrypt/live/wod.example.org/privkey.pem', key);
  replace('server_name wod.example.org;', 'server_name 127.0.0.1;');
  replace('server unix:/run/wod/public.sock;', `server unix:${socket};`);
  replace('listen 80;', `listen 127.0.0.1:${ports.http};`);
  replace('listen [::]:80;', `listen [::1]:${ports.http};`);
  replace('listen 443 ssl;', `listen 127.0.0.1:${ports.https} ssl;`);
  replace('listen [::]:443 ssl;', `listen [::1]:${ports.https} ssl;`);
  // port 443 is implied in production; here it is not
  replace('return 301 https://$server_name$request_uri;', `return 301 https://$server_name:${ports.https}$request_uri;`);
  return text;
}

/** A hub API token of the admin, logged in on the hub's own port (the public side is nginx's socket, over HTTPS). */
async function adminToken(): Promise<string> {
  const browser = new Browser(`http://127.0.0.1:${hub.ports.hubApi}`);
  await browser.hubLogin(hub.admin.name, hub.admin.password);
  return browser.hubToken(hub.admin.name);
}

/** Runs a node script as the attacker's account (no groups), and returns what it printed. */
function asAttacker(script: string): string {
  const run = spawnSync('setpriv', [`--reuid=${ATTACKER}`, `--regid=${ATTACKER}`, '--clear-groups', '--', process.execPath, '-e', script], { encoding: 'utf8', cwd: '/' });
  if (run.error || run.stderr) throw new Error(`the attacker's script failed: ${run.error?.message ?? run.stderr}`);
  return run.stdout;
}

beforeAll(async () => {
  if (!canRun) return;
  const [httpPort, httpsPort] = await freePorts(2);
  ports = { http: httpPort, https: httpsPort };
  base = `https://127.0.0.1:${ports.https}`;
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
    {
      stdio: 'ignore',
    },
  );
  ca = fs.readFileSync(cert);

  writeWorkshop(workshops, 'WKSHP-Proxy', { range: [1, 3], capacity: 3 });
  hub = await startHub({
    // no trustedProxies: the socket's peer is nginx, the only one that may connect
    env: { WOD_WORKSHOPS_DIR: workshops, WOD_PUBLIC_URL: base, WOD_BIND_SOCKET: socket, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' },
  });

  fs.writeFileSync(path.join(dir, 'wod.conf'), siteConfig(cert, key));
  // a main configuration of this test's own around the site file, as Debian's nginx.conf includes it
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      'daemon off;',
      `user ${NGINX_USER} ${NGINX_USER};`,
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`),
      `  include ${dir}/wod.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  fs.chmodSync(dir, 0o755); // nginx's workers reach their temp folders and the socket's; the key stays 0600
  let errors = '';
  nginx = spawn('nginx', ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`], { stdio: ['ignore', 'ignore', 'pipe'] });
  nginx.stderr!.on('data', (c: Buffer) => (errors += c.toString()));
  await until(
    () => send(`${base}/services/wod/health`).catch(() => null),
    (a) => a?.status === 200,
    `nginx to answer (${errors})`,
    20_000,
    100,
  );
}, 240_000);
afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    const gone = new Promise((r) => nginx!.once('exit', r));
    nginx.kill('SIGQUIT');
    await gone;
  }
  await hub?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(workshops, { recursive: true, force: true });
});

describeWithNginx('through nginx', () => {
  test('plain HTTP is sent to the same path over HTTPS, and the portal answers there with HSTS', async () => {
    const redirect = await send(`http://127.0.0.1:${ports.http}/services/wod/?x=1`);
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe(`${base}/services/wod/?x=1`);
    const portal = await send(`${base}/services/wod/`);
    expect(portal.status).toBe(200);
    expect(portal.body).toContain('Proxy workshop');
    expect(portal.headers['strict-transport-security']).toBe('max-age=63072000');
  });

  test('a registration over HTTPS: its client is the one nginx saw, not a forged X-Forwarded-For, and its mail links are HTTPS', async () => {
    // the client comes from 127.0.0.2 (a loopback address, not a listed proxy) and claims another address
    const res = await send(`${base}/services/wod/api/v1/registrations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '203.0.113.9' },
      body: JSON.stringify({ email: 'ada@example.com', name: 'Ada Lovelace', company: 'ACME', workshop: 'WKSHP-Proxy', acceptTerms: true }),
      localAddress: '127.0.0.2',
    });
    expect([res.status, res.body]).toEqual([201, expect.any(String)]);
    const id = (JSON.parse(res.body) as { registration: { id: number } }).registration.id;
    expect(query<{ client_ip: string }>(hub.dataDir, 'SELECT client_ip FROM registrations WHERE id = ?', id)).toEqual([{ client_ip: '127.0.0.2' }]);

    const welcome = await waitForMail(hub.dataDir, (m) => /being prepared/.test(m.subject ?? ''));
    const links = [...(welcome.html as string).matchAll(/href="([^"]+)"/g)].map((m) => m[1]).filter((l) => /^\w+:/.test(l) && !l.startsWith('mailto:'));
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(link.startsWith(`${base}/`)).toBe(true);
    const status = links.find((l) => l.includes('/services/wod/status/'))!;
    expect((await send(status)).status).toBe(200);
  });

  test("the socket is the group's alone: its folder root's, group www-data, 2750, and the socket 0770 in that group", () => {
    const www = Number(execFileSync('getent', ['group', NGINX_USER], { encoding: 'utf8' }).split(':')[2]);
    const folder = fs.statSync(socketDir);
    expect([folder.uid, folder.gid, folder.mode & 0o7777]).toEqual([0, www, 0o2750]);
    const file = fs.statSync(socket);
    expect([file.isSocket(), file.gid, file.mode & 0o777]).toEqual([true, www, 0o770]);
  });

  test('another local account cannot reach the hub: not through the socket, not through its folder, and no TCP public port is left', async () => {
    await attack('a local account connects to the public socket with a forged X-Forwarded-For', () => {
      const script = `require('http').get({ socketPath: ${JSON.stringify(socket)}, path: '/services/wod/health', headers: { 'X-Forwarded-For': '198.51.100.66' } }, (r) => process.stdout.write('HTTP ' + r.statusCode)).on('error', (e) => process.stdout.write(e.code))`;
      expect(asAttacker(script)).toBe('EACCES');
    });
    await attack("a local account lists the socket's folder or looks at the socket", () => {
      const script = `const fs = require('fs'); for (const f of [() => fs.readdirSync(${JSON.stringify(socketDir)}), () => fs.statSync(${JSON.stringify(socket)})]) { try { f(); process.stdout.write('read '); } catch (e) { process.stdout.write(e.code + ' '); } }`;
      expect(asAttacker(script)).toBe('EACCES EACCES ');
    });
    await attack('a local account calls the old TCP public port (bindIp:port) with a forged X-Forwarded-For', async () => {
      for (const host of ['127.0.0.1', '::1']) {
        const refused = await new Promise<string>((resolve) => {
          const c = net.connect({ host, port: hub.ports.public }, () => {
            c.destroy();
            resolve('connected');
          });
          c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)));
        });
        expect([host, refused]).toEqual([host, 'ECONNREFUSED']);
      }
    });
  });

  test('wod doctor reaches the proxy and the service through the socket', () => {
    const run = spawnSync(process.execPath, [WOD_CLI, 'doctor', '--json'], { env: hub.env, encoding: 'utf8' });
    const checks = (JSON.parse(run.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks;
    const through = (name: string) => checks.find((c) => c.name === name);
    expect(through('proxy')).toMatchObject({ status: 'OK', detail: expect.stringContaining(encodeURIComponent(socket)) });
    expect(through('service')).toMatchObject({ status: 'OK', detail: expect.stringContaining(encodeURIComponent(socket)) });
  });

  test("a kernel's WebSocket of a student's JupyterLab is upgraded through nginx and answers", async () => {
    const token = await adminToken();
    const auth = { Authorization: `token ${token}` };
    const student = await until(
      () => query<{ name: string }>(hub.dataDir, "SELECT s.name FROM registrations r JOIN students s ON s.id = r.student_id WHERE r.state = 'ready'"),
      (rows) => rows.length > 0,
      'a ready registration',
      120_000,
    ).then((rows) => rows[0].name);
    const started = await send(`${base}/hub/api/users/${student}/server`, { method: 'POST', headers: auth });
    expect([201, 202, 400]).toContain(started.status); // 400: already running
    await until(
      () => send(`${base}/hub/api/users/${student}`, { headers: auth }).then((a) => JSON.parse(a.body) as { servers?: Record<string, { ready: boolean }> }),
      (u) => !!u.servers?.['']?.ready,
      `${student}'s server`,
      90_000,
      500,
    );
    const kernel = await send(`${base}/user/${student}/api/kernels`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{"name":"python3"}' });
    expect(kernel.status).toBe(201);
    const kernelId = (JSON.parse(kernel.body) as { id: string }).id;

    const ws = new WebSocket(`wss://127.0.0.1:${ports.https}/user/${student}/api/kernels/${kernelId}/channels`, { headers: auth, ca });
    const msgId = crypto.randomUUID();
    const reply = await new Promise<{ msg_type: string; parent: string }>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('unexpected-response', (_req, res) => reject(new Error(`no upgrade: HTTP ${res.statusCode}`)));
      ws.on('open', () =>
        ws.send(
          JSON.stringify({
            header: { msg_id: msgId, msg_type: 'kernel_info_request', username: student, session: crypto.randomUUID(), date: new Date().toISOString(), version: '5.3' },
            parent_header: {},
            metadata: {},
            content: {},
            channel: 'shell',
          }),
        ),
      );
      ws.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString()) as { header: { msg_type: string }; parent_header: { msg_id?: string } };
        if (m.parent_header.msg_id === msgId && m.header.msg_type === 'kernel_info_reply') resolve({ msg_type: m.header.msg_type, parent: msgId });
      });
    }).finally(() => ws.close());
    expect(reply).toEqual({ msg_type: 'kernel_info_reply', parent: msgId });
  });
});
