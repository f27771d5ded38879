/**
 * `wod doctor`'s judgements, apart from the probes: thresholds of free space and inodes, clock
 * skews, stuck and failed jobs, servers gone, database facts, file modes, the replies of the hub,
 * the proxy, the service and SMTP servers, and the report's lines and exit code. Then the SMTP
 * greeting probe against real sockets, and the modes read from a real folder without changing it.
 */
import fs from 'node:fs';
import net from 'node:net';
import Database from 'better-sqlite3';
import os from 'node:os';
import path from 'node:path';
import { evaluateGreeting, evaluateHub, evaluateOutbox, evaluateProxy, evaluateService, TIMEOUT } from '../../hub-service/src/doctor/answers';
import { type Check, exitCode, overall, reportLines } from '../../hub-service/src/doctor/check';
import { inspectHubDatabase, inspectWodDatabase } from '../../hub-service/src/doctor/databases';
import {
  databaseErrorKind,
  DISK,
  evaluateClock,
  evaluateDatabase,
  evaluateDisk,
  evaluateJobs,
  evaluateModes,
  evaluateServers,
  stuckAfterMs,
} from '../../hub-service/src/doctor/figures';
import { smtpGreeting } from '../../hub-service/src/doctor/probes';
import { loadConfig } from '../../hub-service/src/config/load';
import { dataFolderFindings, secureDataFolder } from '../../hub-service/src/isolation/data-folder';
import { VERSION } from '../../hub-service/src/version';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const NOW = Date.parse('2026-12-02T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('report', () => {
  const checks: Check[] = [
    { name: 'hub', status: 'OK', detail: 'JupyterHub 6.1.1 answers' },
    { name: 'disk-homes', status: 'WARN', detail: 'getting full', fix: 'free space' },
  ];

  test('one aligned line per check with its fix, then the summary', () => {
    expect(reportLines(checks)).toEqual(['OK   hub        JupyterHub 6.1.1 answers', 'WARN disk-homes getting full: fix: free space', 'WARN: 2 checks, 1 OK, 1 WARN, 0 FAIL']);
  });

  test('exits 1 only when a check fails: a warning is not an alarm', () => {
    expect([overall(checks), exitCode(checks)]).toEqual(['WARN', 0]);
    const failed = [...checks, { name: 'relay', status: 'FAIL' as const, detail: 'down', fix: 'start it' }];
    expect([overall(failed), exitCode(failed)]).toEqual(['FAIL', 1]);
    expect(exitCode([checks[0]])).toBe(0);
  });
});

describe('disk', () => {
  const disk = (bytesFree: number, bytesTotal: number, inodesFree = 900, inodesTotal = 1000) =>
    evaluateDisk('disk-data', 'data folder', { dir: '/srv/wod', bytesTotal, bytesFree, inodesTotal, inodesFree }, 'free space');

  test.each([
    ['plenty', 'OK', 50 * GiB, 100 * GiB],
    ['under 10 % free', 'WARN', 9 * GiB, 100 * GiB],
    ['under 1 GiB free on a small disk', 'WARN', 900 * MiB, 4 * GiB],
    ['under 2 % free', 'FAIL', 1.5 * GiB, 100 * GiB],
    ['under 200 MiB free', 'FAIL', 150 * MiB, 1 * GiB],
    ['a full 1 MiB filesystem', 'FAIL', 0, MiB],
  ])('%s: %s', (_what, status, free, total) => {
    const c = disk(free, total);
    expect(c.status).toBe(status);
    expect(c.detail).toContain('/srv/wod');
    if (status !== 'OK') expect(c.fix).toBe('free space');
  });

  test('inodes run out before bytes do, unless the filesystem has no fixed number', () => {
    expect(disk(50 * GiB, 100 * GiB, 10, 1000)).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('10 inodes free (1 %)') });
    expect(disk(50 * GiB, 100 * GiB, 50, 1000).status).toBe('WARN');
    expect(disk(50 * GiB, 100 * GiB, 0, 0)).toMatchObject({ status: 'OK', detail: expect.not.stringContaining('inodes') });
  });

  test('the thresholds are the documented ones', () => {
    expect(DISK).toEqual({ failBytes: 200 * MiB, failPercent: 2, warnBytes: GiB, warnPercent: 10, failInodesPercent: 2, warnInodesPercent: 10 });
  });
});

describe('clock', () => {
  test('agrees with what wod wrote and with the hub', () => {
    expect(evaluateClock({ nowMs: NOW, newestWriteMs: NOW - 3000, hubDateMs: NOW - 900 }).status).toBe('OK');
  });

  test('a clock set back behind what wod wrote: WARN past 5 s, FAIL past a minute', () => {
    expect(evaluateClock({ nowMs: NOW, newestWriteMs: NOW + 30_000, hubDateMs: null })).toMatchObject({ status: 'WARN', detail: expect.stringContaining('30 s behind') });
    const back = evaluateClock({ nowMs: NOW, newestWriteMs: NOW + 3600_000, hubDateMs: null });
    expect(back).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('60 min behind the newest time wod wrote (2026-12-02T11:00:00.000Z)') });
    expect(back.fix).toMatch(/timedatectl set-ntp true/);
  });

  test("disagreeing with the hub's Date either way", () => {
    expect(evaluateClock({ nowMs: NOW, newestWriteMs: null, hubDateMs: NOW + 10_000 }).status).toBe('WARN');
    expect(evaluateClock({ nowMs: NOW, newestWriteMs: NOW - 1000, hubDateMs: NOW - 90_000 })).toMatchObject({
      status: 'FAIL',
      detail: expect.stringContaining("90 s away from the hub's"),
    });
  });

  test('nothing to compare with is said, not failed', () => {
    expect(evaluateClock({ nowMs: NOW, newestWriteMs: null, hubDateMs: null })).toMatchObject({ status: 'OK', detail: expect.stringContaining('nothing to compare with') });
  });
});

describe('jobs', () => {
  const limit = stuckAfterMs(loadConfig({ env: {} }));
  const jobsUrl = 'http://wod.example/services/wod/admin/jobs';

  test('stuck means longer than the watchdog plus one server start and one hook (22 min by default)', () => {
    expect(limit).toBe((10 * 60 + 120 + 600) * 1000);
  });

  test('a running job past the limit fails, naming it and its page', () => {
    const running = [
      { id: 7, verb: 'CREATE', student: 'student3', since: iso(NOW - limit - 60_000) },
      { id: 8, verb: 'CLEANUP', student: 'student4', since: iso(NOW - 60_000) },
    ];
    const c = evaluateJobs({ nowMs: NOW, stuckAfterMs: limit, running, failed: [], jobsUrl });
    expect(c).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('1 stuck: job 7 (CREATE student3) running for 23 min (more than 22 min)') });
    expect(c.fix).toContain(`${jobsUrl}/7`);
    expect(evaluateJobs({ nowMs: NOW, stuckAfterMs: limit, running: running.slice(1), failed: [], jobsUrl }).status).toBe('OK');
  });

  test('failed jobs of the last day warn, with the first line of the latest error', () => {
    const failed = [
      { id: 12, verb: 'CLEANUP', student: 'student2', finishedAt: iso(NOW - 3600_000), error: 'hub said 500\nTraceback …' },
      { id: 9, verb: 'CREATE', student: 'student1', finishedAt: iso(NOW - 7200_000), error: null },
    ];
    const c = evaluateJobs({ nowMs: NOW, stuckAfterMs: limit, running: [], failed, jobsUrl });
    expect(c).toEqual({
      name: 'jobs',
      status: 'WARN',
      detail: '2 failed in the last 24 h (latest job 12 (CLEANUP student2): hub said 500)',
      fix: `see them at ${jobsUrl}?state=failed`,
    });
  });
});

describe('servers', () => {
  const registrationsUrl = 'http://wod.example/services/wod/admin/registrations';
  const seated = [
    { id: 1, student: 'student1', problem: null },
    { id: 2, student: 'student2', problem: null },
  ];

  test('every running registration has its server', () => {
    expect(evaluateServers({ seated, running: new Set(['student1', 'student2', 'student9']), reconcileSeconds: 30, registrationsUrl }).status).toBe('OK');
  });

  test('a server gone warns (the reconciler restarts it); one given up on fails', () => {
    const gone = evaluateServers({ seated, running: new Set(['student1']), reconcileSeconds: 30, registrationsUrl });
    expect(gone).toMatchObject({ status: 'WARN', detail: '1 running registration(s) without a server: student2 (registration 2)', fix: expect.stringContaining('30 s') });
    const given = evaluateServers({
      seated: [{ id: 2, student: 'student2', problem: 'the server did not start after 3 attempts' }],
      running: new Set(),
      reconcileSeconds: 30,
      registrationsUrl,
    });
    expect(given).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('the server did not start after 3 attempts') });
  });
});

describe('databases', () => {
  const file = '/srv/wod/wod.sqlite';

  test('sound, at the schema this build knows', () => {
    expect(evaluateDatabase('wod-db', file, { integrity: ['ok'] }, { version: 9, known: 9 })).toMatchObject({ status: 'OK', detail: `${file}: integrity ok, schema 9` });
    expect(evaluateDatabase('hub-db', file, { integrity: ['ok'] }).status).toBe('OK');
  });

  test('missing, unreadable or damaged fails, naming the cause', () => {
    expect(evaluateDatabase('wod-db', file, { missing: true })).toMatchObject({ status: 'FAIL', detail: `${file} does not exist` });
    expect(evaluateDatabase('wod-db', file, { error: 'SQLITE_NOTADB: file is not a database', code: 'SQLITE_NOTADB' })).toMatchObject({
      status: 'FAIL',
      detail: `${file}: damaged (SQLITE_NOTADB: file is not a database)`,
      fix: expect.stringContaining('restore the latest backup'),
    });
    const damaged = evaluateDatabase('wod-db', file, { integrity: ['*** in database main ***\nTree 9 page 9: btreeInitPage() returns error code 11'] });
    expect(damaged).toMatchObject({ status: 'FAIL', detail: `${file}: integrity_check: *** in database main ***` });
    expect(damaged.fix).toMatch(/restore the latest backup/);
  });

  test.each([
    ['SQLITE_CORRUPT', 'damaged'],
    ['SQLITE_CORRUPT_INDEX', 'damaged'],
    ['SQLITE_NOTADB', 'damaged'],
    ['SQLITE_BUSY', 'busy'],
    ['SQLITE_BUSY_SNAPSHOT', 'busy'],
    ['SQLITE_CANTOPEN', 'access'],
    ['SQLITE_CANTOPEN_ISDIR', 'access'],
    ['SQLITE_READONLY', 'access'],
    ['SQLITE_READONLY_DIRECTORY', 'access'],
    ['SQLITE_PERM', 'access'],
    ['EACCES', 'access'],
    ['SQLITE_IOERR_SHORT_READ', 'other'],
    ['SQLITE_ERROR', 'other'],
    [undefined, 'other'],
  ])('the error code %s is %s', (code, kind) => {
    expect(databaseErrorKind(code)).toBe(kind);
  });

  test('only damage is told to restore a backup: a lock, a permission or another error is not', () => {
    const busy = evaluateDatabase('wod-db', file, { error: 'SQLITE_BUSY: database is locked', code: 'SQLITE_BUSY' });
    expect(busy).toMatchObject({ status: 'WARN', detail: `${file}: busy, try again (SQLITE_BUSY: database is locked)`, fix: expect.stringContaining('again') });
    const access = [
      { error: 'SQLITE_CANTOPEN: unable to open database file', code: 'SQLITE_CANTOPEN' },
      { error: 'SQLITE_READONLY_CANTINIT: attempt to write a readonly database', code: 'SQLITE_READONLY_CANTINIT' },
      { error: 'SQLITE_PERM: access permission denied', code: 'SQLITE_PERM' },
      { error: "EACCES: permission denied, open '/srv/wod/wod.sqlite'", code: 'EACCES' },
    ].map((facts) => evaluateDatabase('wod-db', file, facts));
    for (const c of access) {
      expect(c).toMatchObject({ status: 'FAIL', detail: expect.stringContaining(`${file}: cannot open it (`) });
      expect(c.fix).toContain("run wod doctor as wod's user (or root)");
      expect(c.fix).toContain("check the file's owner and mode");
    }
    const other = evaluateDatabase('wod-db', file, { error: 'SQLITE_IOERR_READ: disk I/O error', code: 'SQLITE_IOERR_READ' });
    expect(other).toMatchObject({ status: 'FAIL', detail: `${file}: cannot read it (SQLITE_IOERR_READ: disk I/O error)` });
    for (const c of [busy, ...access, other]) expect(c.fix).not.toMatch(/restore/);
  });

  test('read from real files: not a database is damage, a folder is not, a lock held past the timeout is busy', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-doctor-db-'));
    const judge = (f: string) => evaluateDatabase('hub-db', f, inspectHubDatabase(f, 50).db);
    try {
      const junk = path.join(dir, 'junk.sqlite');
      fs.writeFileSync(junk, 'x'.repeat(4096));
      expect(judge(junk)).toMatchObject({ status: 'FAIL', fix: expect.stringContaining('restore the latest backup') });
      const folder = path.join(dir, 'folder.sqlite');
      fs.mkdirSync(folder);
      // SQLite reads a folder as an I/O error: not damage either
      expect(judge(folder)).toMatchObject({ status: 'FAIL', fix: expect.not.stringContaining('restore') });

      // a writer in the middle of a transaction on a database in rollback mode: readers wait, then give up
      const locked = path.join(dir, 'locked.sqlite');
      const writer = new Database(locked);
      try {
        writer.exec('CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)');
        const busy = inspectWodDatabase(locked, NOW, 50).db;
        expect(busy.code).toMatch(/^SQLITE_BUSY/);
        expect(judge(locked)).toMatchObject({ status: 'WARN', detail: expect.stringContaining('busy, try again') });
      } finally {
        writer.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a newer schema fails (another wod wrote it), an older one warns (the next start migrates)', () => {
    expect(evaluateDatabase('wod-db', file, { integrity: ['ok'] }, { version: 10, known: 9 }).status).toBe('FAIL');
    expect(evaluateDatabase('wod-db', file, { integrity: ['ok'] }, { version: 8, known: 9 })).toMatchObject({ status: 'WARN', fix: expect.stringContaining('migrates') });
  });
});

describe('modes', () => {
  const finding = (file: string, mode: number, want: number, exposedSecret = false) => ({ file, mode, want, open: !!(mode & 0o077 & ~want), exposedSecret });

  test('private is OK; open to others fails with the chmod; only tighter than wanted warns', () => {
    expect(evaluateModes('/srv/wod', [], []).status).toBe('OK');
    expect(evaluateModes('/srv/wod', [finding('/srv/wod/wod.sqlite', 0o644, 0o600)], [])).toMatchObject({
      status: 'FAIL',
      detail: '/srv/wod/wod.sqlite is 0644, open to others',
      fix: expect.stringContaining('chmod 0600 /srv/wod/wod.sqlite'),
    });
    expect(evaluateModes('/srv/wod', [finding('/srv/wod', 0o700, 0o711)], [])).toMatchObject({ status: 'WARN', detail: '/srv/wod is 0700, wod wants 0711' });
  });

  test('a secret readable by others fails first: it may have been read', () => {
    const c = evaluateModes('/srv/wod', [finding('/srv/wod/wod.sqlite', 0o644, 0o600), finding('/srv/wod/secrets/auth-secret', 0o644, 0o600, true)], []);
    expect(c).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('/srv/wod/secrets/auth-secret (0644): a secret readable by others') });
    expect(c.fix).toMatch(/remove it/);
  });

  test('a database owned by someone else fails', () => {
    expect(evaluateModes('/srv/wod', [], ['/srv/wod/wod.sqlite is owned by uid 2001, not by uid 0']).status).toBe('FAIL');
  });

  test('read from a real folder: what a start would close, and nothing changed by reading', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-doctor-modes-'));
    try {
      fs.chmodSync(dir, 0o700);
      fs.writeFileSync(path.join(dir, 'wod.sqlite'), 'x', { mode: 0o600 });
      fs.chmodSync(path.join(dir, 'wod.sqlite'), 0o644);
      fs.mkdirSync(path.join(dir, 'secrets'), { mode: 0o700 });
      const rules = { secrets: path.join(dir, 'secrets'), homeRoot: path.join(dir, 'homes'), traversable: false };
      const found = dataFolderFindings(dir, rules);
      expect(found).toEqual([{ file: path.join(dir, 'wod.sqlite'), mode: 0o644, want: 0o600, open: true, exposedSecret: false }]);
      expect(fs.statSync(path.join(dir, 'wod.sqlite')).mode & 0o777).toBe(0o644);
      expect(secureDataFolder(dir, rules)).toEqual(['wod.sqlite was open to others (0644): now 0600']);
      expect(dataFolderFindings(dir, rules)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('replies', () => {
  const api = 'http://127.0.0.1:8081/hub/api';

  test('the hub: its version, or why it does not answer', () => {
    expect(evaluateHub(api, { status: 200, body: '{"version":"6.1.1"}', dateMs: NOW }, 3000)).toEqual({ name: 'hub', status: 'OK', detail: `JupyterHub 6.1.1 answers at ${api}` });
    expect(evaluateHub(api, { error: 'ECONNREFUSED' }, 3000)).toMatchObject({ status: 'FAIL', detail: 'cannot connect to 127.0.0.1:8081 (ECONNREFUSED)' });
    expect(evaluateHub(api, { error: TIMEOUT }, 3000)).toMatchObject({ status: 'FAIL', detail: 'no answer from 127.0.0.1:8081 within 3 s' });
    expect(evaluateHub(api, { status: 404, body: 'nope', dateMs: null }, 3000).status).toBe('FAIL');
  });

  test('the proxy must route to the hub', () => {
    expect(evaluateProxy('http://127.0.0.1:8000', { status: 200, body: '', dateMs: null }, 3000).status).toBe('OK');
    expect(evaluateProxy('http://127.0.0.1:8000', { status: 503, body: '', dateMs: null }, 3000)).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('HTTP 503') });
  });

  test('the service: ok, its database error, or another version than this command', () => {
    const url = 'http://127.0.0.1:8000/services/wod/health';
    expect(evaluateService(url, { status: 200, body: JSON.stringify({ status: 'ok', version: VERSION }), dateMs: null }, 3000).status).toBe('OK');
    expect(evaluateService(url, { status: 503, body: JSON.stringify({ status: 'error', database: { ok: false, error: 'disk I/O error' } }), dateMs: null }, 3000)).toMatchObject({
      status: 'FAIL',
      detail: `${url} answered HTTP 503: database: disk I/O error`,
    });
    expect(evaluateService(url, { status: 200, body: JSON.stringify({ status: 'ok', version: '0.0.1' }), dateMs: null }, 3000).status).toBe('WARN');
  });

  test('an SMTP server greets with 220', () => {
    expect(evaluateGreeting('relay', '127.0.0.1:2525', { line: '220 relay ESMTP' }, 3000, 'start it').status).toBe('OK');
    expect(evaluateGreeting('relay', '127.0.0.1:2525', { line: '554 go away' }, 3000, 'start it')).toMatchObject({
      status: 'FAIL',
      detail: '127.0.0.1:2525 greets with "554 go away", not 220',
    });
  });

  test('the outbox: written, or why not', () => {
    expect(evaluateOutbox('/srv/wod/outbox', { at: '/srv/wod', error: null })).toMatchObject({ status: 'OK', detail: expect.stringContaining('made at the first mail') });
    expect(evaluateOutbox('/srv/wod/outbox', { at: '/srv/wod/outbox', error: 'ENOSPC' })).toMatchObject({ status: 'FAIL', detail: 'cannot write in /srv/wod/outbox (ENOSPC)' });
  });
});

describe('the SMTP greeting probe', () => {
  const serve = (onConnect: (s: net.Socket) => void) =>
    new Promise<net.Server>((resolve) => {
      const server = net.createServer(onConnect);
      server.listen(0, '127.0.0.1', () => resolve(server));
    });
  const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

  test('reads the first line and says QUIT', async () => {
    let heard: Promise<string> = Promise.resolve('');
    const server = await serve((s) => {
      heard = new Promise((resolve) => {
        let text = '';
        s.on('data', (d) => (text += d.toString()));
        s.on('end', () => resolve(text));
      });
      s.write('220 fake.relay ESMTP ready\r\n');
    });
    try {
      expect(await smtpGreeting('127.0.0.1', portOf(server), { secure: false, timeoutMs: 2000 })).toEqual({ line: '220 fake.relay ESMTP ready' });
      expect(await heard).toBe('QUIT\r\n');
    } finally {
      server.close();
    }
  });

  test('a closed port and a silent server, within the timeout', async () => {
    const silent = await serve(() => undefined);
    const closed = await serve(() => undefined);
    const closedPort = portOf(closed);
    await new Promise((r) => closed.close(r));
    try {
      expect(await smtpGreeting('127.0.0.1', closedPort, { secure: false, timeoutMs: 2000 })).toEqual({ error: 'ECONNREFUSED' });
      const started = Date.now();
      expect(await smtpGreeting('127.0.0.1', portOf(silent), { secure: false, timeoutMs: 300 })).toEqual({ error: TIMEOUT });
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      silent.close();
    }
  });
});
