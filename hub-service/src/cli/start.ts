/**
 * `wod start`: prepares the data folder, runs JupyterHub (which runs the proxy and the wod service),
 * waits until the service answers through the proxy, prints where to go, and on Ctrl-C or SIGTERM
 * stops the hub and makes sure no process it started is left behind.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dataPaths } from '../config/paths.js';
import type { WodConfig } from '../config/schema.js';
import { hubApiUrl, localProxyUrl, portalUrl, SERVICE_PREFIX } from '../config/urls.js';
import { studentsRunAs } from '../isolation/student-side.js';
import { pruneGroups, studentLimits } from '../isolation/limits.js';
import { prepare } from '../prepare.js';
import { findProcesses, killAll } from '../lifecycle/processes.js';

const say = (line = '') => process.stdout.write(line + '\n');

export async function start(config: WodConfig, opts: { waitSeconds: number }): Promise<number> {
  const paths = dataPaths(config);
  const jupyterhub = path.join(paths.venv, 'bin', 'jupyterhub');
  if (!fs.existsSync(jupyterhub)) {
    process.stderr.write(`wod: ${jupyterhub} is missing: run 'bash scripts/setup' (npm start does it)\n`);
    return 1;
  }
  const created = await prepare(config);
  if (config.students.mode === 'local') {
    const own = studentsRunAs(config.students).kind === 'self';
    say(
      `wod: local mode: participants run as ${own ? "your own account and can read wod's data" : `the one account ${config.students.localAccount}`} and are not isolated from each other; use students.mode: system-users to face the public`,
    );
  }
  say(`wod: starting JupyterHub on ${config.bindIp}:${config.port} (data in ${config.dataDir})`);

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
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok && ((await res.json()) as { status?: string }).status === 'ok') return 'healthy';
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return gone ? 'exited' : 'timeout';
}
