/**
 * The process watchdog: its rules with fake /proc readings and a fixed clock; /proc parsed as the
 * kernel writes it; and the watchdog over a real SQLite file and real child processes marked as a
 * hub's students (no hub needed): a miner is stopped at the first scan, a CPU burner once the
 * threshold has passed, an idle process and a same-named process of no student are left alone;
 * each stop is audited, on the dashboard, and mailed to the operator and the participant.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { loadConfig } from '../../hub-service/src/config/load';
import { createLogger } from '../../hub-service/src/log';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { bootTimeMs, parseStat, readProcess, studentProcesses } from '../../hub-service/src/watchdog/proc';
import { displayName, isKernel, judge, minerNamed, type ProcReading, type Tracked, type WatchdogRules } from '../../hub-service/src/watchdog/rules';
import { recentStops, Watchdog, type WatchdogDeps } from '../../hub-service/src/watchdog/watchdog';
import type { QueuedMail } from '../../hub-service/src/mail-out/mailer';
import { until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const NOW = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;
const RULES: WatchdogRules = {
  miners: ['xmrig', 'ethminer', 'packetcrypt', 'minerd', 'cpuminer', 't-rex'],
  allowed: ['jupyterhub-singleuser', 'jupyter-lab'],
  cpuPercent: 98,
  cpuMinutes: 5,
};
const KERNEL = ['/srv/.venv/bin/python', '-m', 'ipykernel_launcher', '-f', '/student/student1/.local/share/jupyter/runtime/kernel-8f1c-42.json'];
const reading = (over: Partial<ProcReading> = {}): ProcReading => ({
  pid: 4242,
  student: 'student1',
  name: 'python3',
  argv: ['python3', 'work.py'],
  cpuSeconds: 0,
  startedAt: NOW - 60 * MIN,
  ...over,
});
const seen = (over: Partial<Tracked> = {}): Tracked => ({ startedAt: NOW - 60 * MIN, cpuSeconds: 0, seenAt: NOW - 30_000, busySince: null, interruptedAt: null, ...over });
const workshop = { createdAt: NOW - 30 * MIN, closesAt: NOW + 90 * MIN };

describe('rules', () => {
  test.each<[string, Partial<ProcReading>, string | null]>([
    ['xmrig by its program', { name: 'xmrig', argv: ['./xmrig', '-o', 'pool:3333'] }, 'xmrig'],
    ['a renamed argv[0] with a version', { name: 'sleep', argv: ['xmrig-6.21'] }, 'xmrig'],
    ['cpuminer-opt', { name: 'cpuminer-opt', argv: ['/tmp/cpuminer-opt'] }, 'cpuminer'],
    ['t-rex', { name: 't-rex', argv: ['t-rex', '-a', 'ethash'] }, 't-rex'],
    ['a python miner script', { name: 'python3', argv: ['python3', '/tmp/packetcrypt.py'] }, 'packetcrypt'],
    ['upper case', { name: 'XMRig', argv: ['XMRig'] }, 'xmrig'],
    ['cat of a file named like a miner is no miner', { name: 'cat', argv: ['cat', 'xmrig.conf'] }, null],
    ['a name that merely starts like one', { name: 'minerdance', argv: ['minerdance'] }, null],
    ['python running work.py', {}, null],
  ])('miner: %s', (_, r, expected) => {
    expect(minerNamed(reading(r), RULES.miners)).toBe(expected);
  });

  test('a kernel is recognised by its connection file, of any language', () => {
    expect(isKernel(KERNEL)).toBe(true);
    expect(isKernel(['/usr/bin/evcxr_jupyter', '--control_file', '/run/jupyter/kernel-abc.json'])).toBe(true);
    expect(isKernel(['python3', 'work.py'])).toBe(false);
    expect(displayName(reading({ argv: KERNEL }))).toBe('ipykernel_launcher');
    expect(displayName(reading({ name: 'python3', argv: ['/usr/bin/python3', '-c', 'while True: pass'] }))).toBe('python3');
    expect(displayName(reading({ name: 'sleep', argv: ['xmrig-6.21', '60'] }))).toBe('xmrig-6.21');
  });

  type Case = [string, Partial<ProcReading>, Tracked | undefined, ReturnType<typeof judge>['verdict']];
  test.each<Case>([
    [
      'a miner is stopped at first sight, idle or not',
      { name: 'xmrig', argv: ['xmrig'] },
      undefined,
      { action: 'stop', rule: 'miner', why: 'a known miner (xmrig)', reason: { key: 'miner', vars: { miner: 'xmrig' } }, cpuPercent: 0 },
    ],
    ['an idle process is left alone', {}, seen(), null],
    ['busy for 4.5 minutes: not yet', { cpuSeconds: 30 }, seen({ busySince: NOW - 4 * MIN }), null],
    [
      'busy 5 minutes without a pause: stopped',
      { cpuSeconds: 30 },
      seen({ busySince: NOW - 5 * MIN }),
      { action: 'stop', rule: 'cpu', why: '100 % of a CPU core for 5 min without a pause', reason: { key: 'cpu', vars: { percent: 100, span: '5 min' } }, cpuPercent: 100 },
    ],
    ['busy long ago, idle in the last interval: left alone', { cpuSeconds: 3 }, seen({ busySince: NOW - 20 * MIN }), null],
    ['97 % is under a 98 % threshold', { cpuSeconds: 29.1 }, seen({ busySince: NOW - 20 * MIN }), null],
    [
      'first seen after burning since it started (a restart of wod): stopped',
      { cpuSeconds: 6 * 60, startedAt: NOW - 6 * MIN },
      undefined,
      { action: 'stop', rule: 'cpu', why: '100 % of a CPU core for 6 min without a pause', reason: { key: 'cpu', vars: { percent: 100, span: '6 min' } }, cpuPercent: 100 },
    ],
    ['first seen, an hour old, with 6 minutes of CPU: its average is low', { cpuSeconds: 6 * 60 }, undefined, null],
    [
      'the student server is allowed to burn',
      { name: 'jupyterhub-sing', argv: ['/srv/.venv/bin/python3', '/srv/.venv/bin/jupyterhub-singleuser'], cpuSeconds: 30 },
      seen({ busySince: NOW - 10 * MIN }),
      null,
    ],
    [
      'a pid reused by another process starts anew',
      { cpuSeconds: 30, startedAt: NOW - 40_000 },
      seen({ busySince: NOW - 10 * MIN }),
      null, // its own 40 s of life, not the old process's 10 minutes
    ],
    [
      'a busy kernel is interrupted first',
      { argv: KERNEL, cpuSeconds: 30, startedAt: NOW - 20 * MIN },
      seen({ startedAt: NOW - 20 * MIN, busySince: NOW - 5 * MIN }),
      { action: 'interrupt', rule: 'cpu', why: '100 % of a CPU core for 5 min without a pause', reason: { key: 'cpu', vars: { percent: 100, span: '5 min' } }, cpuPercent: 100 },
    ],
    [
      'a kernel still busy 5 minutes after its interrupt is stopped',
      { argv: KERNEL, cpuSeconds: 30, startedAt: NOW - 20 * MIN },
      seen({ startedAt: NOW - 20 * MIN, busySince: NOW - 5 * MIN, interruptedAt: NOW - 5 * MIN }),
      { action: 'stop', rule: 'cpu', why: '100 % of a CPU core for 5 min without a pause', reason: { key: 'cpu', vars: { percent: 100, span: '5 min' } }, cpuPercent: 100 },
    ],
    [
      'a kernel interrupted in an earlier run of busy scans is interrupted again',
      { argv: KERNEL, cpuSeconds: 30, startedAt: NOW - 20 * MIN },
      seen({ startedAt: NOW - 20 * MIN, busySince: NOW - 5 * MIN, interruptedAt: NOW - 15 * MIN }),
      { action: 'interrupt', rule: 'cpu', why: '100 % of a CPU core for 5 min without a pause', reason: { key: 'cpu', vars: { percent: 100, span: '5 min' } }, cpuPercent: 100 },
    ],
    [
      'a kernel started before the registration is stopped',
      { argv: KERNEL, startedAt: NOW - 40 * MIN },
      seen({ startedAt: NOW - 40 * MIN }),
      { action: 'stop', rule: 'stale-kernel', why: 'a kernel started before this workshop began', reason: { key: 'kernelBefore', vars: {} }, cpuPercent: 0 },
    ],
    ['a kernel started during the workshop is left alone', { argv: KERNEL, startedAt: NOW - 20 * MIN }, seen({ startedAt: NOW - 20 * MIN }), null],
  ])('%s', (_, r, previous, expected) => {
    expect(judge(reading(r), previous, NOW, RULES, workshop).verdict).toEqual(expected);
  });

  test('a kernel still running after the deadline and its grace is stopped; without a registration, kernels are no business of this rule', () => {
    const r = reading({ argv: KERNEL, startedAt: NOW - 20 * MIN });
    expect(judge(r, undefined, NOW, RULES, { createdAt: NOW - 30 * MIN, closesAt: NOW - 1_000 }).verdict).toMatchObject({
      rule: 'stale-kernel',
      why: 'a kernel still running after the workshop ended',
    });
    expect(judge(r, undefined, NOW, RULES, null).verdict).toBeNull();
  });

  test('the busy run is remembered from scan to scan, and forgotten at the first quiet scan', () => {
    let track: Tracked | undefined;
    let cpu = 0;
    const scan = (at: number, used: number) => {
      cpu += used;
      const out = judge(reading({ cpuSeconds: cpu, startedAt: NOW - MIN }), track, at, { ...RULES, cpuMinutes: 1.5 }, null);
      track = out.track;
      return out.verdict?.rule ?? null;
    };
    expect(scan(NOW, 1)).toBeNull(); // first sight: 1 s of CPU in 60 s of life
    expect(track!.busySince).toBeNull();
    expect(scan(NOW + 30_000, 30)).toBeNull();
    expect(track!.busySince).toBe(NOW);
    expect(scan(NOW + 60_000, 30)).toBeNull();
    expect(scan(NOW + 90_000, 30)).toBe('cpu');
    expect(scan(NOW + 120_000, 1)).toBeNull();
    expect(track!.busySince).toBeNull();
  });
});

describe('/proc', () => {
  test('stat is parsed after the last parenthesis, whatever the name holds', () => {
    const fields = ['S', '1', '2', '3', '0', '-1', '4194560', '100', '0', '0', '0', '250', '50', '0', '0', '20', '0', '1', '0', '12345', '999'];
    expect(parseStat(`77 (a) b (c) ${fields.join(' ')}`, 1_000_000)).toEqual({ state: 'S', cpuSeconds: 3, startedAt: 1_000_000 + 123_450 });
    expect(parseStat(`77 (zombie) Z ${fields.slice(1).join(' ')}`, 0)).toBeNull();
  });

  test('a real process is read with its name, command line, CPU time and start time', async () => {
    const child = spawn('/bin/sleep', ['30'], { argv0: 'xmrig-6.21', stdio: 'ignore' });
    try {
      await until(
        () => fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'),
        (c) => c.startsWith('xmrig'),
        'the child to exec',
      );
      const r = readProcess({ pid: child.pid!, student: 'student1', uid: process.getuid!() }, bootTimeMs())!;
      expect(r).toMatchObject({ pid: child.pid, name: 'sleep', argv: ['xmrig-6.21', '30'] });
      expect(Math.abs(r.startedAt - Date.now())).toBeLessThan(5_000);
      expect(minerNamed(r, RULES.miners)).toBe('xmrig');
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('the watchdog on real processes', () => {
  const roots: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true }));
  });
  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

  function setup(watchdog: Record<string, string> = {}) {
    const root = tempWorkshops();
    roots.push(root);
    writeWorkshop(root, 'WKSHP-A', { range: [1, 5], capacity: 5 });
    const db = openDatabase(path.join(root, 'wod.sqlite'));
    syncPool(db, 5);
    importWorkshops(db, scanWorkshops({ dir: root }, 5), 'test');
    const registrations = new Registrations(db);
    const r = registrations.register({ email: 'ada@example.com', name: 'Ada', company: 'ACME', workshop: 'WKSHP-A', acceptTerms: true }, { source: 'portal' });
    db.prepare(`UPDATE registrations SET state = 'ready', ready_at = ?, deadline_at = ? WHERE id = ?`).run(
      new Date().toISOString(),
      new Date(Date.now() + 3600_000).toISOString(),
      r.id,
    );
    const config = loadConfig({ env: { WOD_DATA_DIR: root, WOD_STUDENTS_COUNT: '5', WOD_WATCHDOG_GRACE_SECONDS: '1', ...watchdog }, projectRoot: root });
    // a hub of this test's own: its students' processes carry its API URL
    const hubApiUrl = `http://127.0.0.1:1/wod-watchdog-${crypto.randomBytes(4).toString('hex')}/hub/api`;
    const mails: QueuedMail[] = [];
    const lines: string[] = [];
    const deps: WatchdogDeps = { db, config, hubApiUrl, mailer: { queue: (m) => void mails.push(m) }, log: createLogger('info', 't', (l) => lines.push(l)) };
    const dog = new Watchdog(deps);
    /** a process as the hub's spawner would start it for `student` (or for nobody) */
    const run = (argv0: string, file: string, args: string[], student: string | null) => {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, JUPYTERHUB_API_URL: hubApiUrl, ...(student ? { JUPYTERHUB_USER: student } : {}) };
      // never root's (the watchdog leaves root alone): as root, students run as nobody here
      const c = spawn(file, args, { argv0, env, stdio: 'ignore', ...(process.getuid!() === 0 ? { uid: 65534, gid: 65534 } : {}) });
      children.push(c);
      return c;
    };
    return { db, dog, deps, mails, lines, student: r.student!, registrationId: r.id, run, hubApiUrl };
  }

  test('a miner is stopped at the first scan; an idle process and a same-named process of no student are left alone', async () => {
    const { db, dog, mails, student, registrationId, run, hubApiUrl } = setup();
    const miner = run('xmrig-6.21', '/bin/sleep', ['60'], student);
    const idle = run('sleep', '/bin/sleep', ['60'], student);
    // the test's own process of the same name, and one of this hub that is no student's
    const mine = spawn('/bin/sleep', ['60'], { argv0: 'xmrig-6.21', stdio: 'ignore' });
    children.push(mine);
    const service = run('xmrig-6.21', '/bin/sleep', ['60'], null);
    await until(
      () => studentProcesses({ mode: 'local', hubApiUrl, count: 5 }).length,
      (n) => n === 2,
      'the children to start',
    );
    const stops = await dog.scan();
    expect(stops).toEqual([expect.objectContaining({ student, registrationId, pid: miner.pid, name: 'xmrig-6.21', rule: 'miner', action: 'stopped' })]);
    await until(() => exited(miner), Boolean, 'the miner to be gone');
    expect(miner.signalCode).toBe('SIGTERM');
    for (const c of [idle, mine, service]) expect(exited(c)).toBe(false);

    const trail = db.prepare(`SELECT actor, action, subject_type, subject_id FROM audit WHERE action = 'watchdog-stop'`).all();
    expect(trail).toEqual([{ actor: 'system', action: 'watchdog-stop', subject_type: 'registration', subject_id: String(registrationId) }]);
    expect(recentStops(db)).toEqual([expect.objectContaining({ pid: miner.pid, why: 'a known miner (xmrig)' })]);
    expect(mails.map((m) => m.to).sort()).toEqual(['ada@example.com', 'wod-operator@localhost']);
    expect(
      mails
        .find((m) => m.to === 'ada@example.com')!
        .content.blocks.map((b) => ('p' in b ? b.p : ''))
        .join(' '),
    ).toContain('a process of yours was stopped: xmrig-6.21 (pid');
    // a second miner within the hour: audited and on the dashboard, mailed under the same keys (once)
    const again = run('minerd', '/bin/sleep', ['60'], student);
    await until(() => studentProcesses({ mode: 'local', hubApiUrl, count: 5 }).some((p) => p.pid === again.pid), Boolean, 'the second miner');
    expect((await dog.scan()).map((s) => s.pid)).toEqual([again.pid]);
    expect(new Set(mails.map((m) => m.key)).size).toBe(2);
    expect(recentStops(db).map((s) => s.name)).toEqual(['minerd', 'xmrig-6.21']);
  });

  test("never root's processes, pid 1, the service itself nor the hub that started it, whatever their names", async () => {
    const { deps, student } = setup();
    const signals: number[] = [];
    const fake = new Watchdog({
      ...deps,
      list: () => [
        { pid: 1, student, uid: 2001 },
        { pid: process.pid, student, uid: 2001 },
        { pid: process.ppid, student, uid: 2001 },
        { pid: 99_999, student, uid: 0 },
        { pid: 99_998, student, uid: 2001 },
      ],
      read: (p) => reading({ pid: p.pid, student, name: 'xmrig', argv: ['xmrig'], startedAt: Date.now() - 60_000 }),
      signal: (pid) => {
        signals.push(pid);
        return false;
      },
    });
    expect(await fake.scan()).toEqual([]);
    expect(signals).toEqual([99_998]); // the one student process, gone before the signal: nothing recorded
  });

  test('a CPU burner is stopped once it has burnt for cpuMinutes; a process that ignores SIGTERM gets SIGKILL', async () => {
    // a quarter of a core: a busy loop gets that much even on a loaded 2-core machine, an idle process nothing
    const { dog, student, run } = setup({ WOD_WATCHDOG_CPU_MINUTES: '0.04', WOD_WATCHDOG_CPU_PERCENT: '25' });
    // ignores SIGTERM, as a stubborn miner would
    const burner = run('burner', process.execPath, ['-e', "process.on('SIGTERM', () => {}); for (;;) {}"], student);
    const idle = run('sleep', '/bin/sleep', ['60'], student);
    const started = Date.now();
    let stopped: Awaited<ReturnType<Watchdog['scan']>> = [];
    while (!stopped.length && Date.now() - started < 40_000) {
      await new Promise((r) => setTimeout(r, 500));
      stopped = await dog.scan();
    }
    expect(stopped).toEqual([expect.objectContaining({ pid: burner.pid, rule: 'cpu', action: 'stopped' })]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_400);
    await until(() => exited(burner), Boolean, 'the burner to be gone');
    expect(burner.signalCode).toBe('SIGKILL');
    expect(exited(idle)).toBe(false);
  });
});
