/**
 * `wod backup` of a running hub with live registrations (one ready, its JupyterLab started; one
 * ended and cleaned), restored with `wod restore` into a fresh folder and started there: the
 * registrations, the admin's password, the participants' status links and the hub's own users and
 * tokens all came back. A restore into a folder that is not empty, or from a damaged archive, is
 * refused and changes nothing; one into an empty volume's mount point (its lost+found aside) moves in.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ParsedMail } from 'mailparser';
import { Browser } from '../support/browser';
import { adminToken, restApi, type RunningHub, startHub, WOD_CLI } from '../support/hub';
import { credentialsIn, waitForMail } from '../support/outbox';
import { until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const workshops = tempWorkshops();
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-backup-test-'));
const archive = path.join(root, 'wod-backup.tar.gz');
const restored = path.join(root, 'restored');
let first: RunningHub;
let second: RunningHub | undefined;
let token: string;
const ids: Record<string, number> = {};
let statusPath: string;
let backupOutput: string;
/** a tmpfs mounted by the last test, as root */
let volume: string | undefined;

/** `wod <args>` with the first hub's configuration and another data folder. */
function wod(dataDir: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const run = spawn(process.execPath, [WOD_CLI, ...args], { env: { ...first.env, WOD_DATA_DIR: dataDir } });
    let stdout = '';
    let stderr = '';
    run.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    run.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    run.on('error', reject);
    run.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function stateOf(hub: RunningHub, id: number): Promise<string | null> {
  const res = await restApi(hub, token, `/admin/registrations/${id}`).catch(() => null);
  return res?.ok ? ((await res.json()) as { state: string }).state : null;
}

const mailTo = (email: string, subject: RegExp) => (m: ParsedMail) => (m.to as { text: string }).text === email && subject.test(m.subject ?? '');

/** Every file under a folder with its content, to show a refused restore left it as it was. */
const snapshot = (dir: string): Record<string, string> =>
  Object.fromEntries(
    (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
      .filter((e) => e.isFile())
      .map((e) => {
        const file = path.join(e.parentPath, e.name);
        return [path.relative(dir, file), fs.readFileSync(file).toString('base64')];
      }),
  );

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-Keep', { range: [1, 2], capacity: 2 });
  fs.mkdirSync(path.join(root, 'first'), { mode: 0o700 });
  first = await startHub({ dataDir: path.join(root, 'first'), env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  token = await adminToken(first);
  for (const email of ['ada@example.com', 'bob@example.com']) {
    const res = await restApi(first, token, '/registrations', {
      method: 'POST',
      body: JSON.stringify({ email, name: 'Test Person', company: 'ACME', workshop: 'WKSHP-Keep', acceptTerms: true }),
    });
    expect(res.status).toBe(201);
    ids[email] = ((await res.json()) as { registration: { id: number } }).registration.id;
  }
  for (const email of Object.keys(ids))
    await until(
      () => stateOf(first, ids[email]),
      (s) => s === 'ready',
      `${email} ready`,
      120_000,
      250,
    );

  // Ada works in her JupyterLab; Bob ends his workshop from his status page and is cleaned up
  const ada = credentialsIn(await waitForMail(first.dataDir, mailTo('ada@example.com', /is ready/)));
  expect((await new Browser(first.url).hubLogin(ada.student, ada.password)).url).toMatch(/\/user\/student\d\/lab/);
  const welcome = await waitForMail(first.dataDir, mailTo('ada@example.com', /being prepared/));
  statusPath = welcome.text!.match(/\/services\/wod\/status\/[^\s#"]+/)![0];
  const bobStatus = (await waitForMail(first.dataDir, mailTo('bob@example.com', /being prepared/))).text!.match(/\/services\/wod\/status\/([^\s#"/]+)/)![1];
  expect((await fetch(`${first.url}/services/wod/api/v1/status/${bobStatus}/end`, { method: 'POST' })).status).toBe(200);
  await until(
    () => stateOf(first, ids['bob@example.com']),
    (s) => s === 'cleaned',
    'bob cleaned',
    90_000,
    250,
  );

  backupOutput = await first.cli('backup', archive);
  await first.stop();
  const done = await wod(restored, 'restore', archive);
  expect([done.status, done.stderr]).toEqual([0, '']);
  second = await startHub({ dataDir: restored, env: { WOD_WORKSHOPS_DIR: workshops } });
}, 400_000);
afterAll(async () => {
  await first?.stop();
  await second?.stop();
  if (volume) execFileSync('umount', [volume]);
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(workshops, { recursive: true, force: true });
});

test('the backup of the running hub is one private archive and says what it took', () => {
  expect(fs.statSync(archive).mode & 0o777).toBe(0o600);
  const secrets = fs.readdirSync(path.join(root, 'first', 'secrets')).length;
  for (const step of [
    /wod\.sqlite: copied online/,
    /jupyterhub\.sqlite: copied online/,
    `secrets/: ${secrets} file(s)`,
    /outbox\/: [1-9]\d* file\(s\)/,
    /mode 0600\): it holds the secrets/,
  ])
    expect(backupOutput).toMatch(step);
  expect(fs.readdirSync(root).sort()).toEqual(['first', 'restored', 'wod-backup.tar.gz']); // no staging or partial file left
});

test('the restored hub has the registrations in their states, the same admin password and the hub its users and tokens', async () => {
  // the token was made on the first hub: it lives in jupyterhub.sqlite
  expect(await stateOf(second!, ids['ada@example.com'])).toBe('ready');
  expect(await stateOf(second!, ids['bob@example.com'])).toBe('cleaned');
  const users = await fetch(`${second!.url}/hub/api/users/student1`, { headers: { Authorization: `token ${token}` } });
  expect(users.status).toBe(200);
  expect(((await users.json()) as { name: string }).name).toBe('student1');

  // startHub gave the restored hub a new WOD_ADMIN_PASSWORD: an existing account keeps its own
  expect((await new Browser(second!.url).hubLogin('admin', first.admin.password)).status).toBe(200);
  expect((await new Browser(second!.url).hubLogin('admin', second!.admin.password)).status).toBe(403);

  // the status link of Ada's mail opens: the session key that sealed it came back
  const status = await fetch(`${second!.url}${statusPath}`);
  expect(status.status).toBe(200);
  expect(await status.text()).toContain('<title>Keep workshop');
  expect(fs.statSync(restored).mode & 0o777).toBe(0o700);
  expect(fs.statSync(path.join(restored, 'secrets', 'session-key')).mode & 0o777).toBe(0o600);
});

test('a restore into a folder that is not empty is refused and changes nothing', async () => {
  const before = snapshot(path.join(root, 'first'));
  const refused = await wod(path.join(root, 'first'), 'restore', archive);
  expect(refused.status).toBe(2);
  expect(refused.stderr).toMatch(/first is not empty \(.*wod\.sqlite.*\): restore into an empty or absent data folder/);
  expect(snapshot(path.join(root, 'first'))).toEqual(before);
});

test('a truncated or corrupted archive is refused before anything is written', async () => {
  const whole = fs.readFileSync(archive);
  const truncated = path.join(root, 'truncated.tar.gz');
  fs.writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
  const corrupted = path.join(root, 'corrupted.tar.gz');
  const flipped = Buffer.from(whole);
  flipped[Math.floor(flipped.length / 2)] ^= 0xff;
  fs.writeFileSync(corrupted, flipped);
  for (const bad of [truncated, corrupted]) {
    const target = path.join(root, 'never');
    const refused = await wod(target, 'restore', bad);
    expect([bad, refused.status]).toEqual([bad, 2]);
    expect(refused.stderr).toMatch(/damaged|cannot be read/);
    expect(refused.stderr).toMatch(/nothing was changed/);
    expect(fs.existsSync(target)).toBe(false);
    expect(fs.readdirSync(root).filter((f) => f.startsWith('.wod-restore-'))).toEqual([]);
  }
});

test("a restore into an empty volume's mount point keeps its empty lost+found and leaves no stage", async () => {
  const target = path.join(root, 'volume');
  fs.mkdirSync(target);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0755', 'wod-volume-test', target], { stdio: 'pipe' });
    volume = target;
  } catch (e) {
    console.log(`${target} is a plain folder, not a mount point: cannot mount a tmpfs (${(e as Error).message.split('\n')[0]}), which needs root`);
  }
  fs.mkdirSync(path.join(target, 'lost+found'), { mode: 0o700 });
  const done = await wod(target, 'restore', archive);
  expect([done.status, done.stderr]).toEqual([0, '']);
  const entries = fs.readdirSync(target);
  expect(entries).toEqual(expect.arrayContaining(['lost+found', 'wod.sqlite', 'jupyterhub.sqlite', 'secrets', 'outbox']));
  expect(entries.filter((f) => f.startsWith('.'))).toEqual([]);
  expect(fs.readdirSync(path.join(target, 'lost+found'))).toEqual([]);
  expect(fs.readFileSync(path.join(target, 'secrets', 'session-key'))).toEqual(fs.readFileSync(path.join(root, 'first', 'secrets', 'session-key')));
  expect(fs.statSync(target).mode & 0o777).toBe(0o700);
  expect(fs.readdirSync(root).filter((f) => f.startsWith('.wod-restore-'))).toEqual([]);
});
