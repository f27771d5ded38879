/**
 * Participants keep their work, against a real hub: two participants register, one writes a file of
 * their own into their home (on disk, local mode) beside a link to /etc/passwd; both workshops end and
 * are cleaned. The thanks mail links to a zip holding the workshop's notebook and the participant's
 * file, never the linked /etc/passwd; a tampered, forged or other registration's link opens nothing.
 * Past its time (moved in the database) the link answers 410 and the service's sweep deletes the file;
 * erasing the other participant deletes theirs, counted in the erasure.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ParsedMail } from 'mailparser';
import { Sealer } from '../../hub-service/src/auth/seal';
import { loadConfig } from '../../hub-service/src/config/load';
import { workToken } from '../../hub-service/src/work/link';
import { attack } from '../support/attacks';
import { Browser } from '../support/browser';
import { adminToken, restApi, type RunningHub, startHub } from '../support/hub';
import { credentialsIn, waitForMail } from '../support/outbox';
import { query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';
import { readZip } from '../support/zip';

const FOLDER = 'WKSHP-Keep';
const MINE = 'my-own-findings.txt';
const MY_TEXT = 'the participant wrote this during the workshop';
let hub: RunningHub;
let token: string;
const workshops = tempWorkshops();

beforeAll(async () => {
  writeWorkshop(workshops, FOLDER, { range: [1, 3], capacity: 3, priority: 1 });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  token = await adminToken(hub);
}, 240_000);
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const api = (p: string, init: RequestInit = {}) => restApi(hub, token, p, init);
const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;
const to = (email: string) => (m: ParsedMail) => (m.to as { text: string }).text === email;
const workLink = (m: ParsedMail) => m.text?.match(/(http\S+\/services\/wod\/work\/(\S+))/);

/** Registers; returns the registration and its student once the credentials are out. */
async function register(email: string): Promise<{ id: number; student: string }> {
  const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, name: 'Kim Keeper', company: 'Keepers', workshop: FOLDER, acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  const id = (await json<{ registration: { id: number } }>(res)).registration.id;
  const mail = await waitForMail(hub.dataDir, (m) => to(email)(m) && !!m.subject?.includes('is ready'), 120_000);
  return { id, student: credentialsIn(mail).student };
}

async function endAndClean(id: number): Promise<void> {
  expect((await api(`/admin/registrations/${id}/end`, { method: 'POST' })).status).toBe(200);
  await until(
    async () => (await json<{ state: string }>(api(`/admin/registrations/${id}`))).state,
    (s) => s === 'cleaned',
    `registration ${id} to be cleaned`,
    120_000,
  );
}

const A = 'kim.keeper@example.org';
const B = 'bo.other@example.org';
let a: { id: number; student: string };
let b: { id: number; student: string };
let linkA: string;
let tokenA: string;
const archiveOf = (id: number) => query<{ file: string; expires_at: string }>(hub.dataDir, 'SELECT file, expires_at FROM work_archives WHERE registration_id = ?', id)[0];

test("the thanks mail links to a zip of the workshop's notebooks and the participant's own file", async () => {
  [a, b] = await Promise.all([register(A), register(B)]);
  const home = path.join(loadConfig({ env: hub.env }).students.homeRoot, a.student);
  fs.writeFileSync(path.join(home, MINE), MY_TEXT);
  // the participant's own file is theirs (the archive keeps only files the student owns): as the home, written as the student would
  const owner = fs.statSync(home);
  fs.chownSync(path.join(home, MINE), owner.uid, owner.gid);
  fs.symlinkSync('/etc/passwd', path.join(home, 'passwd'));
  fs.mkdirSync(path.join(home, FOLDER, '.ipynb_checkpoints'), { recursive: true });
  fs.writeFileSync(path.join(home, FOLDER, '.ipynb_checkpoints', '0-ReadMeFirst-checkpoint.ipynb'), '{}');
  await Promise.all([endAndClean(a.id), endAndClean(b.id)]);
  // made before the wipe: the home is empty now
  expect(fs.readdirSync(home)).toEqual([]);

  const thanks = await waitForMail(hub.dataDir, (m) => to(A)(m) && !!m.subject?.startsWith('Thank you for taking'), 60_000);
  const link = workLink(thanks);
  expect(link).not.toBeNull();
  [, linkA, tokenA] = link!;
  const res = await fetch(linkA);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/zip');
  expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${FOLDER}-my-work.zip"`);
  const zip = readZip(Buffer.from(await res.arrayBuffer()));
  expect([...zip.keys()].sort()).toEqual(['NOT-INCLUDED.txt', `${FOLDER}/0-ReadMeFirst.ipynb`, MINE]);
  expect(zip.get(MINE)!.toString()).toBe(MY_TEXT);
  expect(JSON.parse(zip.get(`${FOLDER}/0-ReadMeFirst.ipynb`)!.toString())).toHaveProperty('cells');

  // on disk: named by registration id, 0600 in a 0700 folder of the data folder
  const file = archiveOf(a.id).file;
  expect(file).toBe(path.join(hub.dataDir, 'work', `${a.id}.zip`));
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  expect(archiveOf(b.id)).toBeDefined();
  // the admin panel's registration page says so
  const admin = new Browser(hub.url);
  await admin.hubLogin(hub.admin.name, hub.admin.password);
  const page = await admin.request(`/services/wod/admin/registrations/${a.id}`);
  expect(page.text).toMatch(/data-testid="work-archive">archived \(2 files, [\d.]+ KiB, 1 left out\), expires \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
}, 360_000);

test("a tampered, forged or other registration's link, and a link to outside the home, give nothing", async () => {
  const [id, exp, mac] = tokenA.split('.');
  const prefix = linkA.slice(0, -tokenA.length);
  const refused = async (t: string) => {
    const res = await fetch(`${prefix}${t}`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).not.toBe('application/zip');
  };
  await attack('work archive: a tampered download token', () => refused(`${id}.${exp}.${mac.slice(0, -3)}xyz`));
  await attack('work archive: a token forged with another key', () =>
    refused(workToken(new Sealer('an attacker key of forty characters long'), a.id, new Date(Number(exp) * 1000))),
  );
  await attack("work archive: another registration's id in a genuine token", () => refused(`${b.id}.${exp}.${mac}`));
  await attack('work archive: a longer expiry in a genuine token', () => refused(`${id}.${Number(exp) + 86_400}.${mac}`));
  await attack('work archive: a link in the home to /etc/passwd', async () => {
    const zip = readZip(Buffer.from(await (await fetch(linkA)).arrayBuffer()));
    const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n')[0];
    expect([...zip.keys()]).not.toContain('passwd');
    for (const [name, bytes] of zip) expect([name, bytes.toString().includes(passwd)]).toEqual([name, false]);
    expect(zip.get('NOT-INCLUDED.txt')!.toString()).toContain('passwd: a link: links are not followed');
  });
});

test('past its time the link answers 410 and the sweep deletes the file', async () => {
  const file = archiveOf(a.id).file;
  const db = new Database(path.join(hub.dataDir, 'wod.sqlite'));
  db.prepare('UPDATE work_archives SET expires_at = ? WHERE registration_id = ?').run(new Date(Date.now() - 1000).toISOString(), a.id);
  db.close();
  // the service's 5-second sweep
  await until(
    () => fs.existsSync(file) || !!archiveOf(a.id),
    (kept) => !kept,
    'the expired archive to be deleted',
    20_000,
  );
  const res = await fetch(linkA);
  expect(res.status).toBe(410);
  expect(await res.text()).toContain('no longer kept');
  expect(fs.existsSync(archiveOf(b.id).file)).toBe(true);
});

test('erasing the participant deletes their archive, counted in the erasure', async () => {
  const thanks = await waitForMail(hub.dataDir, (m) => to(B)(m) && !!m.subject?.startsWith('Thank you for taking'), 60_000);
  const link = workLink(thanks)![1];
  expect((await fetch(link)).status).toBe(200);
  const file = archiveOf(b.id).file;
  const participant = (await json<{ participant: { id: number } }>(api(`/admin/registrations/${b.id}`))).participant.id;
  const res = await api(`/admin/participants/${participant}`, { method: 'DELETE' });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ participant, workArchives: 1 });
  expect([fs.existsSync(file), archiveOf(b.id)]).toEqual([false, undefined]);
  expect((await fetch(link)).status).toBe(410);
});
