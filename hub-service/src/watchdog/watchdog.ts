/**
 * The process watchdog: the original's wod-kill-processes (inventory 6.10) made safe. Every
 * `watchdog.intervalSeconds` it reads the students' processes from /proc (proc.ts), judges each
 * (rules.ts), and stops what breaks a rule: SIGTERM, then SIGKILL after `graceSeconds`; a kernel
 * over the CPU limit is interrupted first. Only that process: never the student's other
 * processes, never a whole account (the original killed every process of the student and purged
 * them, B7). Never the hub, its proxy, this service, pid 1, root's processes, nor any process
 * that is not a student's.
 *
 * Each stop is told: an audit entry (on the registration, or the student when none), a line in
 * the admin dashboard (recentStops), a mail to mail.operatorAddress, and a mail to the participant
 * (registrations made on this portal; an api-db tells its own participants), at most one of each
 * per student and hour, the others being on the dashboard.
 */
import { audit } from '../audit/audit.js';
import type { WodConfig } from '../config/schema.js';
import { STATUS_LINK } from '../journey/links.js';
import type { Logger } from '../log.js';
import { type MailContent, mails } from '../mail-out/content.js';
import { shippedLanguages } from '../i18n/i18n.js';
import type { Mailer } from '../mail-out/mailer.js';
import type { Db } from '../store/db.js';
import { bootTimeMs, readProcess, startedAtOf, type StudentProcess, type StudentSource, studentProcesses } from './proc.js';
import { displayName, judge, processKey, type ProcReading, type StudentWorkshop, type Tracked, type Verdict } from './rules.js';

export const WATCHDOG_ACTION = 'watchdog-stop';

export interface WatchdogDeps {
  db: Db;
  config: Pick<WodConfig, 'watchdog' | 'students' | 'mail' | 'timers' | 'defaultLanguage'>;
  /** the hub's API URL: local mode finds its students' processes by it */
  hubApiUrl: string;
  mailer: Pick<Mailer, 'queue'>;
  log: Logger;
  now?: () => number;
  /** the students' processes (tests give fakes); default: from /proc */
  list?: () => StudentProcess[];
  read?: (p: StudentProcess) => ProcReading | null;
  /** sends a signal, if `pid` is still the process judged; false when it is gone */
  signal?: (pid: number, startedAt: number, signal: NodeJS.Signals | 0) => boolean;
}

/** One watchdog action, as the audit keeps it and the dashboard shows it. */
export interface WatchdogStop {
  at: string;
  student: string;
  registrationId: number | null;
  pid: number;
  name: string;
  rule: string;
  why: string;
  action: 'stopped' | 'interrupted';
}

interface Holder extends StudentWorkshop {
  registrationId: number;
  email: string;
  external: boolean;
  workshop: string;
  /** the language of their mails */
  language: string | null;
}

const never = new Set([1, process.pid, process.ppid]);

export class Watchdog {
  private readonly tracked = new Map<string, Tracked>();
  private readonly bootMs = bootTimeMs();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private readonly now: () => number;
  private readonly list: () => StudentProcess[];
  private readonly read: (p: StudentProcess) => ProcReading | null;
  private readonly signal: (pid: number, startedAt: number, signal: NodeJS.Signals | 0) => boolean;

  constructor(private readonly deps: WatchdogDeps) {
    const { students } = deps.config;
    const source: StudentSource =
      students.mode === 'system-users'
        ? { mode: 'system-users', uidBase: students.uidBase, count: students.count }
        : { mode: 'local', hubApiUrl: deps.hubApiUrl, count: students.count };
    this.now = deps.now ?? Date.now;
    this.list = deps.list ?? (() => studentProcesses(source));
    this.read = deps.read ?? ((p) => readProcess(p, this.bootMs));
    this.signal =
      deps.signal ??
      ((pid, startedAt, sig) => {
        if (startedAtOf(pid, this.bootMs) !== startedAt) return false;
        try {
          process.kill(pid, sig);
          return true;
        } catch {
          return false;
        }
      });
  }

  /** One scan: judges every student process, acts on the verdicts; returns what was done. */
  async scan(): Promise<WatchdogStop[]> {
    if (this.busy) return [];
    this.busy = true;
    try {
      const { watchdog, timers } = this.deps.config;
      const now = this.now();
      const seen = new Set<string>();
      const holders = this.holders();
      const verdicts: { r: ProcReading; v: Verdict }[] = [];
      for (const p of this.list()) {
        // root's processes, pid 1, this service and the hub that started it are never students'
        if (never.has(p.pid) || p.pid <= 1 || p.uid === 0) continue;
        const r = this.read(p);
        if (!r) continue;
        const key = processKey(r);
        seen.add(key);
        const holder = holders.get(p.student) ?? null;
        const closes = holder?.closesAt ?? null;
        const { verdict, track } = judge(
          r,
          this.tracked.get(key),
          now,
          watchdog,
          holder && { createdAt: holder.createdAt, closesAt: closes === null ? null : closes + timers.endGraceSeconds * 1000 },
        );
        this.tracked.set(key, track);
        if (verdict) verdicts.push({ r, v: verdict });
      }
      for (const key of this.tracked.keys()) if (!seen.has(key)) this.tracked.delete(key);
      // at once: each waits its own grace between SIGTERM and SIGKILL
      const done = await Promise.all(verdicts.map(({ r, v }) => this.act(r, v, holders.get(r.student) ?? null)));
      return done.filter((s) => s !== null);
    } finally {
      this.busy = false;
    }
  }

  start(): void {
    const every = this.deps.config.watchdog.intervalSeconds * 1000;
    const tick = () => {
      void this.scan()
        .catch((e: Error) => this.deps.log.error('watchdog scan failed', { error: e.message }))
        .finally(() => {
          this.timer = setTimeout(tick, every);
          this.timer.unref();
        });
    };
    this.timer = setTimeout(tick, every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The running registrations, by student. */
  private holders(): Map<string, Holder> {
    const rows = this.deps.db
      .prepare(
        `SELECT s.name AS student, r.id, r.created_at AS createdAt, r.deadline_at AS deadlineAt, r.external_id AS externalId, r.language, p.email, w.name AS workshop
         FROM students s JOIN registrations r ON r.id = s.registration_id JOIN participants p ON p.id = r.participant_id JOIN workshops w ON w.id = r.workshop_id
         WHERE r.state IN ('registered', 'deploying', 'ready', 'reminded', 'ended')`,
      )
      .all() as {
      student: string;
      id: number;
      createdAt: string;
      deadlineAt: string | null;
      externalId: string | null;
      language: string | null;
      email: string;
      workshop: string;
    }[];
    return new Map(
      rows.map((x) => [
        x.student,
        {
          registrationId: x.id,
          createdAt: Date.parse(x.createdAt),
          closesAt: x.deadlineAt ? Date.parse(x.deadlineAt) : null,
          email: x.email,
          external: x.externalId !== null,
          workshop: x.workshop,
          language: x.language,
        },
      ]),
    );
  }

  private async act(r: ProcReading, v: Verdict, holder: Holder | null): Promise<WatchdogStop | null> {
    const name = displayName(r);
    if (!this.signal(r.pid, r.startedAt, v.action === 'interrupt' ? 'SIGINT' : 'SIGTERM')) return null;
    const stop: WatchdogStop = {
      at: new Date(this.now()).toISOString(),
      student: r.student,
      registrationId: holder?.registrationId ?? null,
      pid: r.pid,
      name,
      rule: v.rule,
      why: v.why,
      action: v.action === 'interrupt' ? 'interrupted' : 'stopped',
    };
    const { db } = this.deps;
    db.transaction(() => {
      audit(db, 'system', WATCHDOG_ACTION, holder ? { type: 'registration', id: holder.registrationId } : { type: 'student', id: r.student }, stop);
      this.tell(stop, v.reason, holder);
    })();
    this.deps.log.warn(`watchdog ${stop.action} a process of ${r.student}`, { pid: r.pid, name, rule: v.rule, why: v.why });
    if (v.action === 'stop') {
      const deadline = this.now() + this.deps.config.watchdog.graceSeconds * 1000;
      while (this.now() < deadline && this.signal(r.pid, r.startedAt, 0)) await new Promise((res) => setTimeout(res, 100));
      this.signal(r.pid, r.startedAt, 'SIGKILL');
    }
    return stop;
  }

  /** The operator's and the participant's mails: one of each per student and hour. */
  private tell(stop: WatchdogStop, reason: Verdict['reason'], holder: Holder | null): void {
    const hour = stop.at.slice(0, 13);
    const what = `${stop.name} (pid ${stop.pid}), ${stop.why}`;
    const verb = stop.action === 'interrupted' ? 'interrupted' : 'stopped';
    const operator: MailContent = {
      subject: `Watchdog: a process of ${stop.student} was ${verb}`,
      preheader: what,
      blocks: [
        { p: `The process watchdog ${verb} a process of ${stop.student}${holder ? ` (registration ${holder.registrationId}, ${holder.email}, ${holder.workshop})` : ''}.` },
        {
          fields: [
            ['Process', `${stop.name} (pid ${stop.pid})`],
            ['Why', stop.why],
            ['When', stop.at],
          ],
        },
        { p: 'Further actions on this student within the hour are listed on the admin dashboard, not mailed.' },
      ],
    };
    this.deps.mailer.queue({ kind: 'watchdog', key: `watchdog-${stop.student}-${hour}`, registrationId: null, to: this.deps.config.mail.operatorAddress, content: operator });
    if (!holder || holder.external) return;
    const tr = shippedLanguages().get(holder.language ?? this.deps.config.defaultLanguage);
    const participant = mails.watchdog(
      {
        workshop: holder.workshop,
        statusUrl: STATUS_LINK,
        interrupted: stop.action === 'interrupted',
        what: `${stop.name} (pid ${stop.pid}), ${tr.t(`mail.watchdog.why.${reason.key}`, reason.vars)}`,
      },
      tr,
    );
    this.deps.mailer.queue({ kind: 'watchdog', key: `watchdog-${holder.registrationId}-${hour}`, registrationId: holder.registrationId, to: holder.email, content: participant });
  }
}

/** The latest watchdog actions, newest first. */
export function recentStops(db: Db, limit = 20): WatchdogStop[] {
  return (db.prepare(`SELECT details FROM audit WHERE action = ? ORDER BY id DESC LIMIT ?`).all(WATCHDOG_ACTION, limit) as { details: string }[]).map(
    (row) => JSON.parse(row.details) as WatchdogStop,
  );
}
