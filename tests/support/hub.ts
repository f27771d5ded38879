/**
 * Test harness: runs the real product (`wod start`: JupyterHub from .venv, its proxy, the wod
 * service) on free ports with a temporary data folder, and tears it all down afterwards, even when
 * a test failed. Needs `bash scripts/setup` to have run (npm test does it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Sealer } from '../../hub-service/src/auth/seal';
import { dataPaths } from '../../hub-service/src/config/paths';
import { findProcesses } from '../../hub-service/src/lifecycle/processes';
import { readSecretFile } from '../../hub-service/src/secrets';
import { Browser } from './browser';
import { freePorts } from './ports';

export const ROOT = path.resolve(__dirname, '..', '..');
export const WOD_CLI = path.join(ROOT, 'hub-service', 'dist', 'cli', 'main.js');

export interface RunningHub {
  url: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  ports: { public: number; hubApi: number; proxyApi: number; service: number; mailApi: number };
  /** the hub's internal API URL (what services and servers see) */
  hubApiUrl: string;
  /** the service reached directly, as the authenticator shim reaches it */
  serviceUrl: string;
  admin: { name: string; password: string };
  /** the credentials `wod start` printed, if it printed any */
  printed: { name: string; password: string } | null;
  process: ChildProcess;
  output: () => string;
  /**
   * Runs `wod <args>` against this hub's configuration, without blocking the test's event loop: a
   * blocked loop misses the hub closing idle kept-alive sockets (the next request on one then gets
   * "socket hang up") and stops draining the hub's output pipe.
   */
  cli: (...args: string[]) => Promise<string>;
  stop: () => Promise<number | null>;
}

export interface HubOptions {
  env?: Record<string, string>;
  /** leave WOD_ADMIN_PASSWORD unset so that one is generated and printed */
  generatedPassword?: boolean;
  /** reuse this data folder (kept at stop: the caller owns it) */
  dataDir?: string;
}

export async function startHub(options: HubOptions = {}): Promise<RunningHub> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'wod-test-'));
  const emptyConfig = path.join(dataDir, 'wod.test.yaml');
  fs.writeFileSync(emptyConfig, '# tests configure wod through the environment\n');
  const [pub, hubApi, proxyApi, service, mailApi] = await freePorts(5);
  const password = crypto.randomBytes(12).toString('base64url');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WOD_CONFIG: emptyConfig,
    WOD_DATA_DIR: dataDir,
    WOD_PORT: String(pub),
    WOD_HUB_API_PORT: String(hubApi),
    WOD_HUB_PROXY_API_PORT: String(proxyApi),
    WOD_SERVICE_PORT: String(service),
    WOD_MAIL_API_PORT: String(mailApi),
    // Tests of the end follow it at the deadline; the lab test sets its own grace.
    WOD_TIMERS_END_GRACE_SECONDS: '0',
    ...(options.generatedPassword ? {} : { WOD_ADMIN_PASSWORD: password }),
    ...options.env,
  };
  if (options.generatedPassword) delete env.WOD_ADMIN_PASSWORD;
  // a caller that must know the address before the start (another hub's configuration names it) gives the port
  const publicPort = Number(env.WOD_PORT);

  const child = spawn(process.execPath, [WOD_CLI, 'start', '--wait', '150'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const logFile = fs.createWriteStream(path.join(dataDir, 'test-run.log'), { flags: 'a', mode: 0o600 });
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    logFile.write(chunk);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const hubApiUrl = `http://127.0.0.1:${hubApi}/hub/api`;
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<null>((r) => (timer = setTimeout(() => r(null), 45_000)))]);
    clearTimeout(timer);
    // Whatever survived a failed stop must not leak into the next test.
    for (const pid of findProcesses(hubApiUrl)) process.kill(pid, 'SIGKILL');
    if (child.exitCode === null) child.kill('SIGKILL');
    logFile.end();
    if (!options.dataDir && !process.env.WOD_KEEP_TEST_DATA) fs.rmSync(dataDir, { recursive: true, force: true });
    return code;
  };

  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = () => (output.includes('wod is running.') ? resolve(true) : setTimeout(check, 100));
      check();
    }),
    exited.then(() => false),
  ]);
  if (!ready) {
    await stop();
    throw new Error(`wod did not start:\n${output.slice(-4000)}`);
  }
  const printed = parseCredentials(output);
  return {
    url: `http://127.0.0.1:${publicPort}`,
    dataDir,
    env,
    ports: { public: publicPort, hubApi, proxyApi, service, mailApi },
    hubApiUrl,
    serviceUrl: `http://127.0.0.1:${service}/services/wod`,
    admin: printed ?? { name: 'admin', password },
    printed,
    process: child,
    output: () => output,
    cli: (...args: string[]) =>
      new Promise<string>((resolve, reject) => {
        const run = spawn(process.execPath, [WOD_CLI, ...args], { env });
        let stdout = '';
        let stderr = '';
        run.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
        run.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
        run.on('error', reject);
        run.on('close', (status) => (status === 0 ? resolve(stdout) : reject(new Error(`wod ${args.join(' ')} failed (${status}): ${stderr}`))));
      }),
    stop,
  };
}

function parseCredentials(output: string): { name: string; password: string } | null {
  const m = output.match(/Admin login \(shown once\): user (\S+)\s+password (\S+)/);
  return m ? { name: m[1], password: m[2] } : null;
}

/** A request to the hub's REST API v1 (`/services/wod/api/v1`) with a token, JSON in and out. */
export function restApi(hub: RunningHub, token: string, p: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${hub.url}/services/wod/api/v1${p}`, { ...init, headers: { Authorization: `token ${token}`, 'Content-Type': 'application/json', ...init.headers } });
}

/** A hub API token of the hub's admin, made through the real login form. */
export async function adminToken(hub: RunningHub): Promise<string> {
  const browser = new Browser(hub.url);
  await browser.hubLogin(hub.admin.name, hub.admin.password);
  return browser.hubToken(hub.admin.name);
}

/** The service's sealer, from this hub's session key (as main.ts reads it): it signs the status links its mails carry. */
export function sealerOf(hub: Pick<RunningHub, 'dataDir'>): Sealer {
  return new Sealer(readSecretFile(dataPaths({ dataDir: hub.dataDir, projectRoot: ROOT }).sessionKey));
}
