/**
 * What a participant keeps (work/): the archive rules on a temporary home (the workshop's notebooks
 * and their own files in; checkpoints, caches, a venv, dotfiles out; a link to /etc/passwd never
 * followed; the size cap with its note), the expiry selection and sweep, the download link's token
 * and what it opens, the thanks mail's link, and the erasure deleting the archive.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Sealer } from '../../hub-service/src/auth/seal';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { MailLinks, WORK_LINK } from '../../hub-service/src/journey/links';
import { shippedLanguages } from '../../hub-service/src/i18n/i18n';
import { mails } from '../../hub-service/src/mail-out/content';
import { eraseParticipant } from '../../hub-service/src/participants/erase';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { archiveWork, COLLECT_SCRIPT, collectWork, LEFT_OUT_NOTE, MAX_ENTRIES, withinCap } from '../../hub-service/src/work/archive';
import { openDownload, verifyWorkToken, workToken } from '../../hub-service/src/work/link';
import { expiredArchives, findArchive, saveArchive, sweepArchives, workFile } from '../../hub-service/src/work/records';
import type { Step, StepContext } from '../../hub-service/src/jobs/engine';
import type { Job } from '../../hub-service/src/jobs/store';
import type { WorkToArchive } from '../../hub-service/src/lifecycle/home';
import type { Kit, Subject } from '../../hub-service/src/lifecycle/steps';
import { workArchivedStep } from '../../hub-service/src/work/step';
import { tempWorkshops, writeWorkshop } from '../support/workshops';
import { readZip } from '../support/zip';

const temp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const put = (file: string, text: string | Buffer) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
};

/** A home as CLEANUP finds it: the workshop, the participant's own files, and what is not their work. */
function home(): string {
  const h = temp('wod-home-');
  put(path.join(h, 'WKSHP-A', '0-ReadMeFirst.ipynb'), '{"cells":[]}');
  put(path.join(h, 'WKSHP-A', '1-Lab.ipynb'), '{"cells":[1]}');
  put(path.join(h, 'WKSHP-A', '.ipynb_checkpoints', '1-Lab-checkpoint.ipynb'), 'old');
  put(path.join(h, 'WKSHP-A', '__pycache__', 'helper.cpython-312.pyc'), 'bytecode');
  put(path.join(h, 'my-notes.md'), 'what I learnt');
  put(path.join(h, 'projects', 'graphs', 'plot.py'), 'print(1)');
  put(path.join(h, '.bashrc'), 'alias x=y');
  put(path.join(h, '.cache', 'pip', 'wheel'), 'cached');
  put(path.join(h, '.local', 'lib', 'site.py'), 'installed');
  put(path.join(h, 'env', 'pyvenv.cfg'), 'home = /usr/bin');
  put(path.join(h, 'env', 'lib', 'numpy.py'), 'numpy');
  put(path.join(h, 'node_modules', 'left-pad', 'index.js'), 'pad');
  fs.symlinkSync('/etc/passwd', path.join(h, 'passwd'));
  fs.symlinkSync('/etc', path.join(h, 'WKSHP-A', 'etc'));
  put(path.join(h, 'evil\\..\\..\\x.sh'), 'escapes on unzip');
  put(path.join(h, 'C:x'), 'absolute on unzip');
  return h;
}

describe('the archive rules', () => {
  test('the workshop first and the own files in; checkpoints, caches, venv, dotfiles and links out', () => {
    const found = collectWork(home(), 'WKSHP-A');
    expect(found.files.map((f) => f.rel)).toEqual(['WKSHP-A/0-ReadMeFirst.ipynb', 'WKSHP-A/1-Lab.ipynb', 'my-notes.md', 'projects/graphs/plot.py']);
    expect(found.leftOut.map((l) => l.rel).sort()).toEqual(['C:x', 'WKSHP-A/etc', 'evil\\..\\..\\x.sh', 'passwd']);
    expect(found.leftOut[0].why).toMatch(/link/);
    expect(found.leftOut.find((l) => l.rel === 'C:x')?.why).toBe('a name unzip tools would read as a path');
  });

  test('the zip holds those files, a note of what was left out, nothing from outside the home; 0600 in a 0700 folder', async () => {
    const h = home();
    const dir = path.join(temp('wod-data-'), 'work');
    const file = workFile(dir, 42);
    const made = await archiveWork({ home: h, workshopFolder: 'WKSHP-A', maxBytes: 1_000_000, file });
    expect(path.basename(file)).toBe('42.zip');
    const zip = readZip(fs.readFileSync(file));
    expect([...zip.keys()].sort()).toEqual(['NOT-INCLUDED.txt', 'WKSHP-A/0-ReadMeFirst.ipynb', 'WKSHP-A/1-Lab.ipynb', 'my-notes.md', 'projects/graphs/plot.py']);
    expect(zip.get('my-notes.md')!.toString()).toBe('what I learnt');
    expect(zip.get(LEFT_OUT_NOTE)!.toString()).toMatch(/^passwd: a link/m);
    const passwd = fs.readFileSync('/etc/passwd');
    for (const [name, bytes] of zip) expect([name, bytes.includes(passwd.subarray(0, 20))]).toEqual([name, false]);
    expect(made).toEqual({ files: 4, bytes: fs.statSync(file).size, leftOut: 4 });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(dir)).toEqual(['42.zip']);
  });

  test('the size cap leaves out what would pass it, says so, and keeps a smaller file after it', async () => {
    const h = temp('wod-home-');
    put(path.join(h, 'WKSHP-A', 'lab.ipynb'), 'x'.repeat(100));
    put(path.join(h, 'big.bin'), Buffer.alloc(5_000));
    put(path.join(h, 'small.txt'), 'y'.repeat(50));
    const file = path.join(temp('wod-work-'), '7.zip');
    const made = await archiveWork({ home: h, workshopFolder: 'WKSHP-A', maxBytes: 1_000, file });
    const zip = readZip(fs.readFileSync(file));
    expect([...zip.keys()].sort()).toEqual(['NOT-INCLUDED.txt', 'WKSHP-A/lab.ipynb', 'small.txt']);
    expect(zip.get(LEFT_OUT_NOTE)!.toString()).toContain('big.bin: 5000 bytes: the archive keeps 1000 bytes at most');
    expect(made.leftOut).toBe(1);
    // pure: in order, each file that would pass the cap out
    const c = (rel: string, size: number) => ({ rel, abs: rel, size });
    expect(withinCap([c('a', 6), c('b', 5), c('c', 4)], 10)).toEqual({
      files: [c('a', 6), c('c', 4)],
      leftOut: [{ rel: 'b', why: '5 bytes: the archive keeps 10 bytes at most' }],
    });
  });

  test('a home with no work gives no archive', async () => {
    const h = temp('wod-home-');
    put(path.join(h, '.bashrc'), 'x');
    const file = path.join(temp('wod-work-'), '8.zip');
    expect(await archiveWork({ home: h, workshopFolder: 'WKSHP-A', maxBytes: 1_000, file })).toEqual({ files: 0, bytes: 0, leftOut: 0 });
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('the archive runs as the student', () => {
  const NOBODY = 65534;
  const asRoot = process.geteuid?.() === 0;
  if (!asRoot) console.log('skipped: the archive-as-the-student tests need root (to create files of another uid and run the child as it)');
  const rootTest = asRoot ? test : test.skip;

  rootTest("the child runs as the student's uid: a root-only file, a hard link to one, a root-owned file and links to outside stay out", async () => {
    const outside = temp('wod-outside-');
    const secret = path.join(outside, 'shadow');
    put(secret, 'root:$6$secret');
    fs.chmodSync(secret, 0o600);
    const h = temp('wod-home-');
    put(path.join(h, 'WKSHP-A', 'lab.ipynb'), '{"cells":[]}');
    put(path.join(h, 'mine.txt'), 'my own');
    // reached from the home, readable only by root
    fs.linkSync(secret, path.join(h, 'hardlinked-shadow'));
    put(path.join(h, 'root-only.txt'), 'root only');
    fs.chmodSync(path.join(h, 'root-only.txt'), 0o600);
    fs.symlinkSync(outside, path.join(h, 'swapped'));
    for (const f of [h, path.join(h, 'WKSHP-A'), path.join(h, 'WKSHP-A', 'lab.ipynb'), path.join(h, 'mine.txt')]) fs.chownSync(f, NOBODY, NOBODY);
    // root-owned and world-readable: the kernel would let the student read it, the owner check does not
    put(path.join(h, 'planted.txt'), 'not theirs');
    fs.chmodSync(path.join(h, 'planted.txt'), 0o644);
    const file = path.join(temp('wod-work-'), '9.zip');
    const made = await archiveWork({ home: h, workshopFolder: 'WKSHP-A', maxBytes: 1_000_000, file, ids: { uid: NOBODY, gid: NOBODY } });
    const zip = readZip(fs.readFileSync(file));
    expect([...zip.keys()].sort()).toEqual(['NOT-INCLUDED.txt', 'WKSHP-A/lab.ipynb', 'mine.txt']);
    for (const [name, bytes] of zip) expect([name, bytes.includes('secret'), bytes.includes('root only')]).toEqual([name, false, false]);
    expect(made.leftOut).toBe(4);
    expect(zip.get(LEFT_OUT_NOTE)!.toString()).toMatch(/^swapped: a link/m);
    // the child itself reports whom it ran as
    const runAs = { uid: NOBODY, gid: NOBODY };
    const child = spawnSync(process.execPath, [COLLECT_SCRIPT, JSON.stringify({ home: h, workshopFolder: 'WKSHP-A', maxBytes: 1_000_000, owner: NOBODY, runAs })], { cwd: '/' });
    expect(JSON.parse(child.stderr.toString().trim().split('\n').pop()!)).toMatchObject({ files: 2, uid: NOBODY });
  });
});

test('the walk stops after MAX_ENTRIES entries, with a note', () => {
  const h = temp('wod-home-');
  for (let i = 0; i < MAX_ENTRIES + 5; i++) fs.writeFileSync(path.join(h, `f${String(i).padStart(6, '0')}`), '');
  const found = collectWork(h, 'WKSHP-A');
  expect(found.files).toHaveLength(MAX_ENTRIES);
  expect(found.leftOut).toEqual([{ rel: `f${String(MAX_ENTRIES).padStart(6, '0')}`, why: `and everything after it: the archive looks at ${MAX_ENTRIES} entries at most` }]);
});

function setup() {
  const root = tempWorkshops();
  writeWorkshop(root, 'WKSHP-A', { range: [1, 3], capacity: 3 });
  const db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 5);
  importWorkshops(db, scanWorkshops({ dir: root }, 5), 'test');
  const registrations = new Registrations(db);
  const register = (email: string) => registrations.register({ email, name: 'Ann Lee', company: 'X', workshop: 'WKSHP-A', acceptTerms: true }, { source: 'portal' }).id;
  const workDir = path.join(root, 'work');
  /** an archive of the registration, its file on disk, expiring at that time */
  const archived = (id: number, expiresAt: string) => {
    const file = workFile(workDir, id);
    put(file, `zip of ${id}`);
    saveArchive(db, { registrationId: id, file, files: 1, bytes: 8, leftOut: 0, expiresAt });
    return file;
  };
  return { root, db, register, archived, sealer: new Sealer('k'.repeat(40)) };
}

const NOW = Date.parse('2026-12-02T10:00:00.000Z');

test('the sweep deletes the expired archives, file and row, and keeps the others', () => {
  const t = setup();
  const [a, b] = [t.register('a@example.org'), t.register('b@example.org')];
  const fileA = t.archived(a, '2026-12-02T09:59:59.000Z');
  const fileB = t.archived(b, '2026-12-09T10:00:00.000Z');
  expect(expiredArchives(t.db, NOW).map((x) => x.registrationId)).toEqual([a]);
  expect(sweepArchives(t.db, NOW)).toBe(1);
  expect([fs.existsSync(fileA), findArchive(t.db, a)]).toEqual([false, null]);
  expect([fs.existsSync(fileB), findArchive(t.db, b)?.registrationId]).toEqual([true, b]);
  expect(sweepArchives(t.db, NOW)).toBe(0);
});

test('the download token opens its own registration until its expiry; tampered, forged or other tokens do not', () => {
  const t = setup();
  const [a, b] = [t.register('a@example.org'), t.register('b@example.org')];
  const expiresAt = '2026-12-09T10:00:00.000Z';
  const file = t.archived(a, expiresAt);
  t.archived(b, expiresAt);
  const token = workToken(t.sealer, a, new Date(expiresAt));
  expect(verifyWorkToken(t.sealer, token)).toEqual({ registrationId: a, expiresAt: Date.parse(expiresAt) });
  expect(openDownload(t.db, t.sealer, token, NOW)).toEqual({ kind: 'file', file, name: 'WKSHP-A-my-work.zip', bytes: 8 });
  const [, exp, mac] = token.split('.');
  for (const bad of [
    `${b}.${exp}.${mac}`,
    `${a}.${Number(exp) + 86_400}.${mac}`,
    `${a}.${exp}.${mac.slice(0, -2)}AA`,
    workToken(new Sealer('o'.repeat(40)), a, new Date(expiresAt)),
    '../1.zip',
  ]) {
    expect([bad, openDownload(t.db, t.sealer, bad, NOW).kind]).toEqual([bad, 'invalid']);
  }
  // past its time, whatever the sweep has done yet
  expect(openDownload(t.db, t.sealer, token, Date.parse(expiresAt) + 1).kind).toBe('gone');
  // the link of the start link's purpose is not a download link
  expect(verifyWorkToken(t.sealer, `${a}.${exp}.${t.sealer.mac(`start:${a}:${exp}`)}`)).toBeNull();
});

test('the thanks mail carries the download link only when an archive exists; the link is made at sending', () => {
  const t = setup();
  const [a, b] = [t.register('a@example.org'), t.register('b@example.org')];
  t.archived(a, '2026-12-09T10:00:00.000Z');
  const en = shippedLanguages().get('en');
  const base = { name: 'Ann', workshop: 'A', statusUrl: 's', completion: null, badgeImage: null, badgePage: 'p', surveyUrl: '', portalUrl: 'u' };
  const withLink = mails.thanks({ ...base, work: { url: WORK_LINK, expiresAt: '2026-12-09T10:00:00.000Z' } }, en);
  expect(JSON.stringify(withLink.blocks)).toContain(WORK_LINK);
  expect(JSON.stringify(mails.thanks({ ...base, work: null }, en).blocks)).not.toContain('zip');
  const links = new MailLinks(t.db, t.sealer, 'https://wod.example.org');
  const filled = links.fill(`get it: ${WORK_LINK}`, a);
  const token = filled.match(/\/services\/wod\/work\/(\S+)$/)![1];
  expect(verifyWorkToken(t.sealer, token)?.registrationId).toBe(a);
  // no archive (any more): the status page instead of a dead link
  expect(links.fill(WORK_LINK, b)).toBe(links.statusUrl(b));
});

test('erasing the participant deletes their archive and counts it', () => {
  const t = setup();
  const a = t.register('a@example.org');
  const file = t.archived(a, '2026-12-09T10:00:00.000Z');
  const token = workToken(t.sealer, a, new Date('2026-12-09T10:00:00.000Z'));
  t.db.prepare(`UPDATE registrations SET state = 'cleaned' WHERE id = ?`).run(a);
  t.db.prepare(`UPDATE students SET state = 'free', registration_id = NULL WHERE registration_id = ?`).run(a);
  const participant = (t.db.prepare('SELECT participant_id AS p FROM registrations WHERE id = ?').get(a) as { p: number }).p;
  const erasure = eraseParticipant(t.db, participant, { actor: 'test', outboxDir: path.join(t.root, 'outbox') });
  expect(erasure.workArchives).toBe(1);
  expect([fs.existsSync(file), findArchive(t.db, a)]).toEqual([false, null]);
  expect(openDownload(t.db, t.sealer, token, NOW).kind).toBe('gone');
});

describe("CLEANUP's work-archived step", () => {
  const kitFor = (t: ReturnType<typeof setup>, home: string, workDays = 7) => {
    const step = (name: string, run: (s: Subject, ctx: StepContext) => Promise<void>): Step => ({ name, run: (ctx) => run(subjectOf(ctx.job), ctx) });
    const subjectOf = (job: Job) =>
      ({ n: 1, student: 'student1', registration: { id: job.registration_id, externalId: null }, workshop: { folder: 'WKSHP-A' } }) as unknown as Subject;
    return {
      db: t.db,
      config: { dataDir: t.root, projectRoot: t.root, participants: { workDays, workMaxBytes: 1_000_000 } },
      // the disk's archive as this process (a DiskHome as root would make it as the local account, which cannot read a temp folder)
      files: { archive: (_student: string, o: WorkToArchive) => archiveWork({ ...o, home, ids: null }) },
      step,
    } as unknown as Kit;
  };
  const run = async (kit: Kit, registrationId: number) => {
    const logged: string[] = [];
    await workArchivedStep(kit).run({ job: { id: 1, registration_id: registrationId } as Job, log: (text) => void logged.push(text) });
    return logged.join('');
  };

  test('records the archive with its expiry, once however often it runs', async () => {
    const t = setup();
    const id = t.register('a@example.org');
    const h = temp('wod-home-');
    put(path.join(h, 'WKSHP-A', 'lab.ipynb'), '{}');
    const before = Date.now();
    expect(await run(kitFor(t, h, 0.5), id)).toMatch(/^work archived: 1 file\(s\), \d+ bytes, 0 left out, kept until /);
    const a = findArchive(t.db, id)!;
    expect(a.file).toBe(path.join(t.root, 'work', `${id}.zip`));
    expect(Date.parse(a.expiresAt) - before).toBeGreaterThanOrEqual(43_200_000);
    expect(Date.parse(a.expiresAt) - Date.now()).toBeLessThanOrEqual(43_200_000);
    expect(await run(kitFor(t, h), id)).toBe('work archived already\n');
    expect(findArchive(t.db, id)).toEqual(a);
  });

  test('an archive that cannot be made is logged and does not fail CLEANUP; workDays 0 makes none', async () => {
    const t = setup();
    const id = t.register('a@example.org');
    expect(await run(kitFor(t, path.join(t.root, 'no-such-home')), id)).toMatch(/^work not archived: ENOENT/);
    const h = temp('wod-home-');
    put(path.join(h, 'notes.md'), 'x');
    expect(await run(kitFor(t, h, 0), id)).toBe('');
    expect(findArchive(t.db, id)).toBeNull();
  });
});
