/** The wod command line on workshop folders, run as a person would (the compiled CLI, a real shell). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const CLI = path.resolve(__dirname, '..', '..', 'hub-service', 'dist', 'cli', 'main.js');
const root = tempWorkshops();
const wodWith = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, WOD_CONFIG: '', WOD_WORKSHOPS_DIR: root, WOD_DATA_DIR: path.join(root, 'var'), ...env }, encoding: 'utf8' });
const wod = (...args: string[]) => wodWith({}, ...args);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

test('workshops lint: problems with file, line and fix, and a failing exit code', () => {
  writeWorkshop(root, 'WKSHP-Good', { range: [1, 5], capacity: 5 });
  const good = wod('workshops', 'lint');
  expect(good.status).toBe(0);
  expect(good.stdout).toContain('1 of 1 workshop(s) valid; 0 error(s)');
  writeWorkshop(root, 'WKSHP-Bad', { range: [3, 7], capacity: 9 });
  const bad = wod('workshops', 'lint');
  expect(bad.status).toBe(1);
  // capacity above the range is normal in the original's files: a warning; the overlap is the error
  expect(bad.stderr).toMatch(/WKSHP-Bad\/wod\.yml:\d+: warning: capacity: capacity 9 is more than the 5 students .*: at most 5 seats at once \(fix: lower capacity to 5/);
  expect(bad.stderr).toMatch(/overlaps WKSHP-Good/);
  fs.rmSync(path.join(root, 'WKSHP-Bad'), { recursive: true });
});

test('workshops setup runs the setup hook with its environment and shows its output', () => {
  const dir = writeWorkshop(root, 'WKSHP-Appliance', { range: [10, 12], capacity: 3 });
  fs.writeFileSync(path.join(dir, 'setup'), '#!/bin/sh\necho "building the appliance of $WORKSHOP"\n', { mode: 0o755 });
  const out = wod('workshops', 'setup', 'WKSHP-Appliance');
  expect(out.status).toBe(0);
  expect(out.stdout).toContain('building the appliance of WKSHP-Appliance');
  expect(out.stdout).toContain('WKSHP-Appliance: setup done');
  fs.writeFileSync(path.join(dir, 'setup'), '#!/bin/sh\necho broken; exit 4\n', { mode: 0o755 });
  const failed = wod('workshops', 'setup', 'WKSHP-Appliance');
  expect(failed.status).toBe(2);
  expect(failed.stderr).toMatch(/setup exited with 4/);
  expect(wod('workshops', 'setup', 'WKSHP-Nope').stderr).toMatch(/no workshop folder WKSHP-Nope/);
});

test('--help lists the commands; a bad verb is refused', () => {
  const help = wod('--help');
  for (const c of ['start', 'prepare', 'config', 'workshops', 'action', 'accounts', 'mail-api']) expect(help.stdout).toContain(c);
  expect(wod('mail-api', '--help').stdout).toMatch(/credentials \[options\] +print the host, port, user and password/);
  expect(wod('action', 'DESTROY', 'WKSHP-Good', '1').stderr).toMatch(/'DESTROY' is not a verb/);
});

test("mail-api credentials: the password prepare generated, for an api-db's operator; WOD_MAIL_API_PASSWORD overrides it", () => {
  const env = { WOD_DATA_DIR: path.join(root, 'var-mail-api'), WOD_MAIL_API_PORT: '10125' };
  expect(wodWith(env, 'mail-api', 'credentials')).toMatchObject({ status: 2, stderr: expect.stringMatching(/mail-api-password is missing: run 'npx wod prepare'/) });
  expect(wodWith(env, 'prepare').status).toBe(0);
  const file = path.join(env.WOD_DATA_DIR, 'secrets', 'mail-api-password');
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  const secret = fs.readFileSync(file, 'utf8').trim();
  expect(secret).toMatch(/^[0-9a-f]{64}$/);
  const out = wodWith(env, 'mail-api', 'credentials');
  expect(out.status).toBe(0);
  expect(out.stdout).toMatch(/host +127\.0\.0\.1 .*this host only/);
  expect(out.stdout).toMatch(/port +10125\n/);
  expect(out.stdout).toMatch(/user +wod\n/);
  expect(out.stdout).toContain(`password  ${secret}\n`);
  expect(out.stdout).toMatch(/without AUTH: no network/);
  expect(JSON.parse(wodWith({ ...env, WOD_MAIL_API_AUTH_USER: 'api-db' }, 'mail-api', 'credentials', '--json').stdout)).toEqual({
    host: '127.0.0.1',
    port: 10125,
    user: 'api-db',
    password: secret,
    source: file,
    trustedNetworks: [],
    enabled: true,
  });
  const given = JSON.parse(wodWith({ ...env, WOD_MAIL_API_PASSWORD: 'given-in-the-environment' }, 'mail-api', 'credentials', '--json').stdout);
  expect(given).toMatchObject({ password: 'given-in-the-environment', source: 'WOD_MAIL_API_PASSWORD' });
  expect(wodWith({ ...env, WOD_MAIL_API_PASSWORD: 'short' }, 'mail-api', 'credentials').stderr).toMatch(/WOD_MAIL_API_PASSWORD must be at least 16 characters/);
});
