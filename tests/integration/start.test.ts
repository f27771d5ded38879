/**
 * `npm start`'s launcher: prints the URLs and the admin credentials once, and Ctrl-C stops the
 * hub, the proxy, the service and the students' servers, leaving no process behind.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findProcesses } from '../../hub-service/src/lifecycle/processes';
import { HubClient } from '../../hub-service/src/hub/client';
import { Browser } from '../support/browser';
import { startHub } from '../support/hub';

const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.createServer().once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-start-'));
let firstPassword = '';
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

test('first start prints URLs and working credentials; Ctrl-C leaves nothing running', async () => {
  const hub = await startHub({ generatedPassword: true, dataDir });
  try {
    const out = hub.output();
    expect(out).toContain(`Portal:  http://127.0.0.1:${hub.ports.public}/services/wod/`);
    expect(out).toContain(`Admin:   http://127.0.0.1:${hub.ports.public}/services/wod/admin/`);
    expect(hub.printed?.password).toMatch(/^[a-zA-Z2-9]{16}$/);
    firstPassword = hub.admin.password;

    // The printed credentials open the admin page; a student's server runs as well.
    const browser = new Browser(hub.url);
    await browser.hubLogin(hub.admin.name, hub.admin.password);
    expect((await browser.request('/services/wod/admin/')).status).toBe(200);
    const client = new HubClient({ apiUrl: hub.hubApiUrl, token: await browser.hubToken('admin') });
    await client.ensureUser('student7');
    await client.startServer('student7');
    await client.waitForServer('student7', 90_000);
    expect(findProcesses(hub.hubApiUrl).length).toBeGreaterThanOrEqual(2); // service + server

    hub.process.kill('SIGINT');
    const code = await new Promise<number | null>((r) => hub.process.on('exit', r));
    expect(code).toBe(0);
    expect(hub.output()).toContain('wod: stopped');
    expect(findProcesses(hub.hubApiUrl)).toEqual([]);
    for (const port of Object.values(hub.ports)) expect(await portIsFree(port)).toBe(true);
  } finally {
    await hub.stop();
  }
});

test('a second start on the same data folder prints no password and keeps the first', async () => {
  // Also a start with the quietest hub log level, which jupyterhub_config.py must translate.
  const hub = await startHub({ generatedPassword: true, dataDir, env: { WOD_LOG_LEVEL: 'warn' } });
  try {
    expect(hub.printed).toBeNull();
    expect(hub.output()).not.toContain('Admin login');
    const browser = new Browser(hub.url);
    await browser.hubLogin('admin', firstPassword);
    expect((await browser.request('/services/wod/admin/')).status).toBe(200);
  } finally {
    await hub.stop();
  }
});
