/**
 * For `wod workshops test` without --url: a wod of its own, started as `wod start` starts one
 * (this very CLI, so the same code) on free loopback ports with a temporary data folder and the
 * configured workshops, and an admin token from the hub's own login form. Stopped and its data
 * folder removed afterwards, whatever happened.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface OwnWod {
  url: string;
  adminToken: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => s.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

export async function startOwnWod(opts: { cli: string; workshopsDir: string; waitSeconds: number; log: (line: string) => void }): Promise<OwnWod> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-workshops-test-'));
  const config = path.join(dataDir, 'wod.yaml');
  fs.writeFileSync(config, '# wod workshops test: configured through the environment\n');
  const ports = [];
  for (let i = 0; i < 5; i++) ports.push(await freePort());
  const [pub, hubApi, proxyApi, service, mailApi] = ports;
  const password = crypto.randomBytes(18).toString('base64url');
  const child: ChildProcess = spawn(process.execPath, [opts.cli, 'start', '--wait', String(opts.waitSeconds)], {
    env: {
      ...process.env,
      WOD_CONFIG: config,
      WOD_DATA_DIR: dataDir,
      WOD_PORT: String(pub),
      WOD_HUB_API_PORT: String(hubApi),
      WOD_HUB_PROXY_API_PORT: String(proxyApi),
      WOD_SERVICE_PORT: String(service),
      WOD_MAIL_API_PORT: String(mailApi),
      WOD_WORKSHOPS_DIR: opts.workshopsDir,
      WOD_ADMIN_PASSWORD: password,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 45_000)))]);
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  opts.log(`starting a wod of its own on 127.0.0.1:${pub} (data in ${dataDir})…`);
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = () => (output.includes('wod is running.') ? resolve(true) : setTimeout(check, 200));
      check();
    }),
    exited.then(() => false),
  ]);
  if (!ready) {
    await stop();
    throw new Error(`the wod of its own did not start:\n${output.slice(-3000)}`);
  }
  try {
    const url = `http://127.0.0.1:${pub}`;
    return { url, adminToken: await loginToken(url, 'admin', password), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A hub API token through the hub's login form (its XSRF token and cookies), as a person gets one. */
async function loginToken(url: string, user: string, password: string): Promise<string> {
  const cookies = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  };
  const cookie = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const form = await fetch(`${url}/hub/login`, { redirect: 'manual' });
  keep(form);
  const xsrf = (await form.text()).match(/name="_xsrf" value="([^"]+)"/)?.[1];
  if (!xsrf) throw new Error(`no login form at ${url}/hub/login (HTTP ${form.status})`);
  const login = await fetch(`${url}/hub/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie() },
    body: new URLSearchParams({ _xsrf: xsrf, username: user, password }).toString(),
  });
  keep(login);
  if (login.status !== 302) throw new Error(`the hub refused the admin login (HTTP ${login.status})`);
  const res = await fetch(`${url}/hub/api/users/${user}/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: cookie(), 'X-XSRFToken': cookies.get('_xsrf') ?? xsrf },
    body: JSON.stringify({ note: 'wod workshops test', expires_in: 3600 }),
  });
  if (res.status !== 201) throw new Error(`the hub gave no admin token (HTTP ${res.status})`);
  return ((await res.json()) as { token: string }).token;
}
