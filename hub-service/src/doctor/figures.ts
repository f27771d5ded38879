/**
 * The doctor's judgements on figures: free space, clocks, job ages, servers, schema versions, file
 * modes. Pure functions of what the probes read (probes.ts, databases.ts) and of `now`, so each
 * threshold is tested on its own.
 */
import type { WodConfig } from '../config/schema.js';
import { formatSize } from '../isolation/limit-rules.js';
import { modeText, type ModeFinding } from '../isolation/data-folder.js';
import { type Check, fail, MADE_AT_START, ok, warn } from './check.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/**
 * Free space and inodes below which a filesystem is a problem: SQLite needs room to write its
 * journal, and every CREATE copies a workshop into a home. FAIL below 200 MiB or 2 % free, WARN below
 * 1 GiB or 10 %; inodes: FAIL below 2 %, WARN below 10 %.
 */
export const DISK = { failBytes: 200 * MiB, failPercent: 2, warnBytes: GiB, warnPercent: 10, failInodesPercent: 2, warnInodesPercent: 10 } as const;

export interface DiskFigures {
  /** the folder measured: the one asked for, or its nearest existing parent */
  dir: string;
  bytesTotal: number;
  /** available to unprivileged accounts (the students write their homes as such) */
  bytesFree: number;
  /** 0 where the filesystem has no fixed number of inodes (btrfs) */
  inodesTotal: number;
  inodesFree: number;
}

const percent = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : 100);
const roundPercent = (p: number) => (p < 10 ? Number(p.toFixed(1)) : Math.round(p));

export function evaluateDisk(name: string, what: string, d: DiskFigures, fix: string): Check {
  const freePct = percent(d.bytesFree, d.bytesTotal);
  const inodesPct = percent(d.inodesFree, d.inodesTotal);
  const inodes = d.inodesTotal ? `, ${d.inodesFree} inodes free (${roundPercent(inodesPct)} %)` : '';
  const detail = `${what} ${d.dir}: ${formatSize(d.bytesFree)} free of ${formatSize(d.bytesTotal)} (${roundPercent(freePct)} %)${inodes}`;
  const inodesLow = (limit: number) => d.inodesTotal > 0 && inodesPct < limit;
  if (d.bytesFree < DISK.failBytes || freePct < DISK.failPercent || inodesLow(DISK.failInodesPercent)) return fail(name, `${detail}: nearly full`, fix);
  if (d.bytesFree < DISK.warnBytes || freePct < DISK.warnPercent || inodesLow(DISK.warnInodesPercent)) return warn(name, `${detail}: getting full`, fix);
  return ok(name, detail);
}

/**
 * How far clocks may disagree. The HTTP Date header has whole seconds, hence a few seconds of
 * tolerance; a minute behind what wod already wrote moves deadlines and reminders.
 */
export const CLOCK = { warnMs: 5_000, failMs: 60_000 } as const;

export function evaluateClock(f: { nowMs: number; newestWriteMs: number | null; hubDateMs: number | null }): Check {
  const name = 'clock';
  const fix = 'set the system clock right and keep it so (timedatectl set-ntp true)';
  const seen: string[] = [];
  let worst = 0;
  if (f.newestWriteMs !== null) {
    const behind = f.newestWriteMs - f.nowMs;
    worst = Math.max(worst, behind);
    seen.push(
      behind > CLOCK.warnMs
        ? `${seconds(behind)} behind the newest time wod wrote (${new Date(f.newestWriteMs).toISOString()}): deadlines and timers are off`
        : 'not behind what wod wrote',
    );
  }
  if (f.hubDateMs !== null) {
    const apart = Math.abs(f.nowMs - f.hubDateMs);
    worst = Math.max(worst, apart);
    seen.push(apart > CLOCK.warnMs ? `${seconds(apart)} away from the hub's (HTTP Date ${new Date(f.hubDateMs).toUTCString()})` : "agrees with the hub's");
  }
  const detail = `${new Date(f.nowMs).toISOString()}: ${seen.length ? seen.join(', ') : 'nothing to compare with (no database, no hub)'}`;
  if (worst > CLOCK.failMs) return fail(name, detail, fix);
  if (worst > CLOCK.warnMs) return warn(name, detail, fix);
  return ok(name, detail);
}

const seconds = (ms: number) => (ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`);

/**
 * A job attempt that has run longer than a CREATE is given (timers.watchdogMinutes) plus the
 * longest single wait a step may be in when the watchdog strikes (one hook, one server start) is
 * stuck: nothing in wod waits that long.
 */
export function stuckAfterMs(config: Pick<WodConfig, 'timers' | 'lifecycle' | 'workshops'>): number {
  return config.timers.watchdogMinutes * 60_000 + (config.lifecycle.serverTimeout + config.workshops.hookTimeout) * 1000;
}

export interface RunningJob {
  id: number;
  verb: string;
  student: string;
  /** when its current attempt began */
  since: string;
}

export interface FailedJob {
  id: number;
  verb: string;
  student: string;
  finishedAt: string;
  error: string | null;
}

export function evaluateJobs(f: { nowMs: number; stuckAfterMs: number; running: RunningJob[]; failed: FailedJob[]; jobsUrl: string }): Check {
  const name = 'jobs';
  const stuck = f.running.filter((j) => f.nowMs - Date.parse(j.since) > f.stuckAfterMs);
  const job = (j: { id: number; verb: string; student: string }) => `job ${j.id} (${j.verb} ${j.student})`;
  const failedText = f.failed.length ? `${f.failed.length} failed in the last 24 h (latest ${job(f.failed[0])}${f.failed[0].error ? `: ${oneLine(f.failed[0].error)}` : ''})` : '';
  if (stuck.length) {
    const s = stuck[0];
    const detail = `${stuck.length} stuck: ${job(s)} running for ${seconds(f.nowMs - Date.parse(s.since))} (more than ${seconds(f.stuckAfterMs)})${failedText ? `; ${failedText}` : ''}`;
    return fail(name, detail, `see its steps at ${f.jobsUrl}/${s.id}; a restart of wod resumes interrupted jobs`);
  }
  if (f.failed.length) return warn(name, failedText, `see them at ${f.jobsUrl}?state=failed`);
  return ok(name, `${f.running.length} running, none stuck, none failed in the last 24 h`);
}

const oneLine = (text: string, max = 120) => {
  const line = text.split('\n')[0].trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

export interface SeatedRegistration {
  id: number;
  student: string;
  /** why the reconciler gave up restarting its server (NULL: it has not) */
  problem: string | null;
}

/** Registrations whose clock runs but whose student has no server in the hub's database. */
export function evaluateServers(f: { seated: SeatedRegistration[]; running: ReadonlySet<string>; reconcileSeconds: number; registrationsUrl: string }): Check {
  const name = 'servers';
  const gone = f.seated.filter((r) => !f.running.has(r.student));
  const list = (rs: SeatedRegistration[]) => rs.map((r) => `${r.student} (registration ${r.id})`).join(', ');
  const given = gone.filter((r) => r.problem);
  if (given.length) {
    return fail(
      name,
      `${given.length} running registration(s) without a server, given up on: ${list(given)}: ${oneLine(given[0].problem!)}`,
      `see each at ${f.registrationsUrl}/<id>: end or extend it, or read the hub's log for why the server does not start`,
    );
  }
  if (gone.length) {
    return warn(
      name,
      `${gone.length} running registration(s) without a server: ${list(gone)}`,
      `wod starts them again within timers.reconcileSeconds (${f.reconcileSeconds} s); if it does not, see ${f.registrationsUrl}`,
    );
  }
  return ok(name, `all ${f.seated.length} running registration(s) have their server`);
}

export interface DatabaseFacts {
  /** no such file: never made, or the data folder is not the one the service uses */
  missing?: boolean;
  /** why it could not be opened or read */
  error?: string;
  /** that error's code, when it has one: SQLite's (SQLITE_BUSY, SQLITE_CORRUPT_VTAB…) or Node's (EACCES) */
  code?: string;
  /** PRAGMA integrity_check's lines: ['ok'] when sound */
  integrity?: string[];
}

const RESTORE = 'stop wod, keep a copy of the damaged file, and restore the latest backup';
const ACCESS = "run wod doctor as wod's user (or root); if it is, check the file's owner and mode, and those of its folder and of the -wal and -shm beside it";

/**
 * What an error opening or reading a database says of it. Only SQLite's own verdict on the bytes is
 * damage: a doctor run as the wrong user (a read-only open still needs the -shm), a lock held past
 * the timeout or a file that cannot be opened says nothing of the data, and a restore over a sound
 * database would lose what was written since the backup.
 */
export type DatabaseErrorKind = 'damaged' | 'busy' | 'access' | 'other';

export function databaseErrorKind(code: string | undefined): DatabaseErrorKind {
  // SQLite's extended codes (SQLITE_CANTOPEN_ISDIR, SQLITE_READONLY_DBMOVED…) share their primary code's meaning
  const primary = code?.match(/^SQLITE_[A-Z]+/)?.[0] ?? code;
  switch (primary) {
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
      return 'damaged';
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return 'busy';
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
    case 'EACCES':
    case 'EPERM':
      return 'access';
    default:
      return 'other';
  }
}

function evaluateDatabaseError(name: string, file: string, error: string, code: string | undefined): Check {
  const why = oneLine(error);
  switch (databaseErrorKind(code)) {
    case 'damaged':
      return fail(name, `${file}: damaged (${why})`, RESTORE);
    case 'busy':
      return warn(name, `${file}: busy, try again (${why})`, 'another process held it locked past the timeout (a long write, a backup): run wod doctor again in a moment');
    case 'access':
      return fail(name, `${file}: cannot open it (${why})`, ACCESS);
    default:
      // neither damage nor access: say what SQLite said, and leave the data alone
      return fail(name, `${file}: cannot read it (${why})`, 'read the error: check the disk that holds it (dmesg, df) and run wod doctor again');
  }
}

/**
 * `schema`: for wod's own database, the version it has and the newest this build knows
 * (store/migrations.ts).
 */
export function evaluateDatabase(name: string, file: string, f: DatabaseFacts, schema?: { version: number; known: number }): Check {
  if (f.missing) return fail(name, `${file} does not exist`, MADE_AT_START);
  if (f.error) return evaluateDatabaseError(name, file, f.error, f.code);
  const integrity = f.integrity ?? [];
  if (integrity.join() !== 'ok') return fail(name, `${file}: integrity_check: ${oneLine(integrity.join('; '))}`, RESTORE);
  if (!schema) return ok(name, `${file}: integrity ok`);
  const { version: v, known } = schema;
  if (v > known) return fail(name, `${file}: schema ${v} is newer than this wod knows (${known})`, 'run the wod that wrote it (or restore a backup made for this one)');
  if (v < known) return warn(name, `${file}: schema ${v}, this wod has ${known}`, 'restart wod: it migrates the database at start');
  return ok(name, `${file}: integrity ok, schema ${v}`);
}

/** The data folder's modes against the rules of isolation/data-folder.ts, and who owns what. */
export function evaluateModes(dataDir: string, findings: ModeFinding[], ownerProblems: string[]): Check {
  const name = 'modes';
  const exposed = findings.filter((f) => f.exposedSecret);
  if (exposed.length) {
    return fail(
      name,
      `${exposed.map((f) => `${f.file} (${modeText(f.mode)})`).join(', ')}: a secret readable by others, it may have been read`,
      `remove it (wod makes a new one at its next start) or, if nobody read it, chmod 600 it`,
    );
  }
  const open = findings.filter((f) => f.open);
  if (open.length || ownerProblems.length) {
    const opened = open.map((f) => `${f.file} is ${modeText(f.mode)}, open to others`);
    return fail(
      name,
      [...opened, ...ownerProblems].join('; '),
      open.length ? `chmod ${modeText(open[0].want)} ${open[0].file} (wod closes these at its next start)` : `chown them to the owner of ${dataDir}`,
    );
  }
  if (findings.length) {
    const f = findings[0];
    return warn(name, `${f.file} is ${modeText(f.mode)}, wod wants ${modeText(f.want)}`, `chmod ${modeText(f.want)} ${f.file} (wod sets it at its next start)`);
  }
  return ok(name, `${dataDir}: private, as wod wants it`);
}
