/**
 * Servers reconciled. CREATE starts each participant's server ahead of time; a server killed or
 * crashed afterwards would leave the registration `ready` with nothing behind it. Every
 * `timers.reconcileSeconds` (and once at start) the servers of running registrations are compared
 * with the hub's: one that died is started again through the hub, with the participant's files as
 * they are; one that cannot be started after `timers.serverRestartAttempts`, each after a longer wait,
 * is recorded as the registration's server problem (admin dashboard and registration page) until it
 * is back. Each restart, failed attempt and give-up is audited and logged.
 *
 * Left alone: a server past its registration's deadline (CLEANUP stops it), one a job is working on
 * (a CLEANUP, RESET or PURGE stops it on purpose), one the hub is starting or stopping, and all of
 * them while `lifecycle.paused`. `judge` decides, from what it is given; `ServerReconciler` looks and acts.
 */
import { audit } from '../audit/audit.js';
import { HubApiError, type HubClient, type HubServer } from '../hub/client.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { CLOCK_RUNNING, sqlList } from '../registrations/states.js';

/** A running registration whose CREATE finished, as the reconciler needs it. */
export interface Watched {
  registrationId: number;
  student: string;
  deadlineAt: string | null;
  /** restarts that failed in a row */
  failures: number;
  /** no restart before this */
  retryAt: string | null;
  problem: string | null;
  /** a job on this student is queued or running */
  busy: boolean;
}

/** What the hub says of the student's default server; null when it has none. */
export type Seen = Pick<HubServer, 'ready' | 'pending'> | null;

export interface Rules {
  now: number;
  paused: boolean;
  attempts: number;
}

export type Verdict =
  | { kind: 'up'; wasDown: boolean }
  | { kind: 'restart'; attempt: number; reason: 'no server' | 'not ready' }
  | { kind: 'leave'; why: 'past deadline' | 'job on the student' | 'starting' | 'stopping' | 'paused' | 'given up' | 'waiting to retry' };

/** What to do with one registration's server. */
export function judge(w: Watched, seen: Seen, rules: Rules): Verdict {
  if (seen?.ready) return { kind: 'up', wasDown: w.failures > 0 || w.problem !== null };
  if (w.deadlineAt && Date.parse(w.deadlineAt) <= rules.now) return { kind: 'leave', why: 'past deadline' };
  if (w.busy) return { kind: 'leave', why: 'job on the student' };
  if (seen?.pending === 'spawn') return { kind: 'leave', why: 'starting' };
  if (seen?.pending === 'stop') return { kind: 'leave', why: 'stopping' };
  if (rules.paused) return { kind: 'leave', why: 'paused' };
  if (w.failures >= rules.attempts) return { kind: 'leave', why: 'given up' };
  if (w.retryAt && Date.parse(w.retryAt) > rules.now) return { kind: 'leave', why: 'waiting to retry' };
  return { kind: 'restart', attempt: w.failures + 1, reason: seen ? 'not ready' : 'no server' };
}

/** The wait after the n-th failed restart: one interval, then twice that, four times…, at most 15 minutes. */
export function retryDelayMs(failures: number, intervalMs: number): number {
  return Math.min(15 * 60_000, intervalMs * 2 ** Math.max(0, failures - 1));
}

export interface ReconcilerOptions {
  db: Db;
  hub: Pick<HubClient, 'listUsers' | 'startServer' | 'waitForServer'>;
  log: Logger;
  intervalSeconds: number;
  attempts: number;
  paused: boolean;
  /** how long one restart may take (lifecycle.serverTimeout) */
  serverTimeoutSeconds: number;
  /** restarts run at once (lifecycle.concurrency) */
  concurrency: number;
  now?: () => number;
}

export interface ReconcileReport {
  watched: number;
  restarted: string[];
  failed: string[];
  gaveUp: string[];
  recovered: string[];
}

const WATCHED_SQL = `
  SELECT r.id AS registrationId, s.name AS student, r.deadline_at AS deadlineAt, r.server_failures AS failures,
         r.server_retry_at AS retryAt, r.server_problem AS problem,
         EXISTS (SELECT 1 FROM jobs j WHERE j.student_id = r.student_id AND j.state IN ('queued', 'running')) AS busy
  FROM registrations r JOIN students s ON s.id = r.student_id
  WHERE r.state IN (${sqlList(CLOCK_RUNNING)}) AND r.ready_at IS NOT NULL`;

export class ServerReconciler {
  private sweeping = false;
  private readonly now: () => number;

  constructor(private readonly o: ReconcilerOptions) {
    this.now = o.now ?? Date.now;
  }

  /** One comparison; null when the previous one is still running (restarts can take a while). */
  async sweep(): Promise<ReconcileReport | null> {
    if (this.sweeping) return null;
    this.sweeping = true;
    try {
      return await this.compare();
    } finally {
      this.sweeping = false;
    }
  }

  private async compare(): Promise<ReconcileReport> {
    const { db } = this.o;
    const report: ReconcileReport = { watched: 0, restarted: [], failed: [], gaveUp: [], recovered: [] };
    const watched = this.watched();
    report.watched = watched.length;
    if (!watched.length) return report;
    // Users with a server that is ready or on its way; anyone else has none.
    const servers = new Map((await this.o.hub.listUsers({ state: 'active' })).map((u) => [u.name, u.servers?.[''] ?? null]));
    const now = this.now();
    const rules: Rules = { now, paused: this.o.paused, attempts: this.o.attempts };
    const restarts: { w: Watched; attempt: number; reason: string }[] = [];
    db.transaction(() => {
      for (const w of watched) {
        const verdict = judge(w, servers.get(w.student) ?? null, rules);
        db.prepare('UPDATE registrations SET server_checked_at = ? WHERE id = ?').run(new Date(now).toISOString(), w.registrationId);
        if (verdict.kind === 'up' && verdict.wasDown) {
          this.record(w.registrationId, 0, null, null);
          if (w.problem) {
            audit(db, 'system', 'server.recovered', { type: 'registration', id: w.registrationId }, { student: w.student, problem: w.problem });
            this.o.log.info('server back', { student: w.student, registration: w.registrationId });
            report.recovered.push(w.student);
          }
        }
        if (verdict.kind === 'restart') restarts.push({ w, attempt: verdict.attempt, reason: verdict.reason });
      }
    })();
    await eachAtMost(this.o.concurrency, restarts, (r) => this.restart(r.w, r.attempt, r.reason, report));
    return report;
  }

  private watched(): Watched[] {
    return (this.o.db.prepare(WATCHED_SQL).all() as (Omit<Watched, 'busy'> & { busy: number })[]).map((w) => ({ ...w, busy: !!w.busy }));
  }

  private async restart(w: Watched, attempt: number, reason: string, report: ReconcileReport): Promise<void> {
    const { db, log } = this.o;
    const subject = { type: 'registration', id: w.registrationId };
    // Looked at again just before acting: the deadline or a job may have come meanwhile.
    const still = this.watched().find((x) => x.registrationId === w.registrationId);
    if (!still || judge(still, null, { now: this.now(), paused: this.o.paused, attempts: this.o.attempts }).kind !== 'restart') return;
    log.warn('server down: starting it again', { student: w.student, registration: w.registrationId, reason, attempt });
    try {
      await this.o.hub.startServer(w.student);
      await this.o.hub.waitForServer(w.student, this.o.serverTimeoutSeconds * 1000);
    } catch (e) {
      // Started or being stopped by someone else meanwhile (the participant, an admin): not a failure.
      if (e instanceof HubApiError && e.status === 400 && /already running|is pending/.test(e.hubMessage)) {
        return void log.info('server already handled by the hub', { student: w.student, message: e.hubMessage });
      }
      const error = (e as Error).message;
      if (attempt >= this.o.attempts) {
        const problem = `the server is down and did not start again after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${error}`;
        this.record(w.registrationId, attempt, null, problem);
        audit(db, 'system', 'server.gave-up', subject, { student: w.student, attempts: attempt, error });
        log.error('server down: gave up starting it again', { student: w.student, registration: w.registrationId, attempts: attempt, error });
        report.gaveUp.push(w.student);
      } else {
        const retryAt = new Date(this.now() + retryDelayMs(attempt, this.o.intervalSeconds * 1000)).toISOString();
        this.record(w.registrationId, attempt, retryAt, w.problem);
        audit(db, 'system', 'server.restart-failed', subject, { student: w.student, attempt, error, retryAt });
        log.warn('server down: restart failed, will try again', { student: w.student, registration: w.registrationId, attempt, retryAt, error });
        report.failed.push(w.student);
      }
      return;
    }
    this.record(w.registrationId, 0, null, null);
    audit(db, 'system', 'server.restarted', subject, { student: w.student, reason, attempt });
    log.info('server started again', { student: w.student, registration: w.registrationId, reason, attempt });
    report.restarted.push(w.student);
  }

  private record(id: number, failures: number, retryAt: string | null, problem: string | null): void {
    this.o.db
      .prepare('UPDATE registrations SET server_failures = ?, server_retry_at = ?, server_problem = ?, server_checked_at = ? WHERE id = ?')
      .run(failures, retryAt, problem, new Date(this.now()).toISOString(), id);
  }
}

async function eachAtMost<T>(limit: number, items: T[], run: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await run(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A running registration's server as the admin panel shows it. */
export interface ServerHealth {
  checkedAt: string | null;
  failures: number;
  problem: string | null;
}

export function serverHealth(db: Db, registrationId: number): ServerHealth | null {
  return (
    (db.prepare('SELECT server_checked_at AS checkedAt, server_failures AS failures, server_problem AS problem FROM registrations WHERE id = ?').get(registrationId) as
      ServerHealth | undefined) ?? null
  );
}

/** Running registrations whose server the reconciler gave up on, oldest first. */
export function serversDown(db: Db): { id: number; student: string; workshop: string; email: string; problem: string; checkedAt: string | null }[] {
  return db
    .prepare(
      `SELECT r.id, s.name AS student, w.folder AS workshop, p.email, r.server_problem AS problem, r.server_checked_at AS checkedAt
              FROM registrations r JOIN students s ON s.id = r.student_id JOIN workshops w ON w.id = r.workshop_id JOIN participants p ON p.id = r.participant_id
              WHERE r.state IN (${sqlList(CLOCK_RUNNING)}) AND r.server_problem IS NOT NULL ORDER BY r.id`,
    )
    .all() as { id: number; student: string; workshop: string; email: string; problem: string; checkedAt: string | null }[];
}
