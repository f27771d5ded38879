/**
 * `wod start`: prepares the data folder, runs JupyterHub (which runs the proxy and the wod service),
 * waits until the service answers through the proxy, prints where to go, and on Ctrl-C or SIGTERM
 * stops the hub and makes sure no process it started is left behind.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { dataPaths } from '../config/paths.js';
import type { WodConfig } from '../config/schema.js';
import { hubApiUrl, localProxyUrl, portalUrl, SERVICE_PREFIX } from '../config/urls.js';
import { studentsRunAs } from '../isolation/student-side.js';
import { pruneGroups, studentLimits } from '../isolation/limits.js';
import { prepare } from '../prepare.js';
import { findProcesses, killAll } from '../lifecycle/processes.js';
import { localGet } from '../network/local-get.js';

const say = (line = '') => process.stdout.write(line + '\n');

export async function start(config: WodConfig, opts: { waitSeconds: number }): Promise<number> {
  const paths = dataPaths(config);
  const jupyterhub = path.join(paths.venv, 'bin', 'jupyterhub');
  if (!fs.existsSync(jupyterhub)) {
    process.stderr.write(`wod: ${jupyterhub} is missing: run 'bash scripts/setup' (npm start does it)\n`);
    return 1;
  }
  const created = await prepare(config);
  if (config.bindSocket) {
    const problem = await socketFolder(config.bindSocket, config.bindSocketGroup);
    if (problem) {
      process.stderr.write(`wod: bindSocket: ${problem}\n`);
      return 1;
    }
  }
  if (config.students.mode === 'local') {
    const own = studentsRunAs(config.students).kind === 'self';
    say(
      `wod: local mode: participants run as ${own ? "your own account and can read wod's data" : `the one account ${config.students.localAccount}`} and are not isolated from each other; use students.mode: system-users to face the public`,
    );
  }
  if (config.students.mode === 'remote')
    say(
      "wod: remote mode: wod reaches the students only through the hub and their servers' APIs; per-student limits, the process watchdog and compile: true workshops are not wod's here (the spawner's limits apply), and hooks get no STUDENT_HOME. With this host's spawner every student runs as one account, not isolated from the others (as in local mode): for testing, or with a spawner elsewhere",
    );
  const listening = config.bindSocket ? `${config.bindSocket} (group ${config.bindSocketGroup})` : `${config.bindIp}:${config.port}`;
  say(`wod: starting JupyterHub on ${listening} (data in ${config.dataDir})`);

  // Its own process group, so that a terminal's Ctrl-C reaches only us and we stop it in order.
  const hub = spawn(jupyterhub, ['-f', paths.hubConfig], {
    cwd: config.dataDir,
    env: { ...process.env, WOD_NODE: process.execPath, PATH: `${path.join(paths.venv, 'bin')}:${process.env.PATH}` },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  const exited = new Promise<number>((resolve) => hub.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));

  let stopping: Promise<number> | null = null;
  const stop = (why: string): Promise<number> => {
    stopping ??= (async () => {
      say(`\nwod: ${why}: stopping JupyterHub…`);
      try {
        process.kill(hub.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => void killAll([-hub.pid!], 'SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      const left = findProcesses(hubApiUrl(config));
      if (left.length) say(`wod: stopping ${left.length} process(es) the hub left behind`);
      // The hub's process group (proxy) and anything started for it in a session of its own.
      await killAll([-hub.pid!, ...left]);
      // the students' cgroups, now empty (isolation/limits.ts); the service makes them again at start
      if (config.students.mode === 'system-users') pruneGroups(studentLimits(config));
      say('wod: stopped');
      return code;
    })();
    return stopping;
  };
  process.on('SIGINT', () => void stop('interrupted'));
  process.on('SIGTERM', () => void stop('terminated'));

  const base = localProxyUrl(config);
  const ready = await waitForHealth(`${base}${SERVICE_PREFIX}health`, opts.waitSeconds * 1000, exited);
  if (ready !== 'healthy') {
    process.stderr.write(
      ready === 'exited'
        ? 'wod: JupyterHub exited before the service answered (its messages are above)\n'
        : `wod: the service did not answer at ${base}${SERVICE_PREFIX}health within ${opts.waitSeconds} s\n`,
    );
    return stop('not healthy');
  }
  say('');
  say('  wod is running.');
  say(`  Portal:  ${portalUrl(config)}`);
  say(`  Admin:   ${portalUrl(config)}admin/`);
  for (const c of created) say(`  Admin login (shown once): user ${c.name}  password ${c.password}`);
  if (created.length) say(`  Lost it? 'npx wod accounts password <user>' sets a new one.`);
  say('  Stop with Ctrl-C.');
  say('');
  const code = await exited;
  return stopping ?? stop(`JupyterHub exited (${code})`);
}

async function waitForHealth(url: string, timeoutMs: number, exited: Promise<number>): Promise<'healthy' | 'exited' | 'timeout'> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (!gone && Date.now() < deadline) {
    try {
      const res = await localGet(url, 2_000);
      if (res.status === 200 && (JSON.parse(res.body) as { status?: string }).status === 'ok') return 'healthy';
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return gone ? 'exited' : 'timeout';
}

/** The gid of a group, by the system's own lookup (NSS: /etc/group, LDAP…); null when there is none. */
function groupId(name: string): number | null {
  try {
    const line = execFileSync('getent', ['group', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const gid = Number(line.split(':')[2]);
    return Number.isInteger(gid) ? gid : null;
  } catch {
    return null;
  }
}

/** True when something accepts connections on the Unix socket `socket`. */
function listening(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(socket, () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

/**
 * The socket's folder, for it alone: owned by wod's user, group `group`, mode 2750. Only that group
 * (the reverse proxy) can reach the socket, which the proxy makes 0770 and which inherits the group
 * (setgid). A stale socket of a stopped hub is removed, since the proxy cannot listen over it.
 * Returns what is wrong, or null.
 */
async function socketFolder(socket: string, group: string): Promise<string | null> {
  const gid = groupId(group);
  if (gid === null) return `the group ${group} (bindSocketGroup) does not exist: set bindSocketGroup to the group your reverse proxy's workers run as`;
  const dir = path.dirname(socket);
  fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
  // chown and chmod of a shared folder (/run, /tmp) would break the system, or open it.
  const uid = process.getuid?.() ?? -1;
  if (fs.statSync(dir).uid !== uid) return `${dir} is not owned by wod's user: give the socket a folder of its own, like /run/wod/public.sock`;
  const others = fs.readdirSync(dir).filter((f) => f !== path.basename(socket));
  if (others.length) return `${dir} holds other files (${others.slice(0, 3).join(', ')}): give the socket a folder of its own, like /run/wod/public.sock`;
  try {
    fs.chownSync(dir, uid, gid);
  } catch (e) {
    return `cannot give ${dir} to the group ${group} (${(e as NodeJS.ErrnoException).code}): run wod as root or as a member of ${group}`;
  }
  fs.chmodSync(dir, 0o2750);
  if (fs.existsSync(socket)) {
    if (await listening(socket)) return `something already listens on ${socket}: is wod running already?`;
    fs.rmSync(socket);
  }
  return null;
}
