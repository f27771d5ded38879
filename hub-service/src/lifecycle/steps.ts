/**
 * What the four verbs share: the job's subject (student, registration, workshop) read afresh by
 * every step, the hooks and their environment, and the steps more than one verb runs (server,
 * processes, lock, wipe, release, report). Every step is idempotent, so that a job resumed after a
 * crash, or retried after a passing failure, can run a step again safely.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generatePassword } from '../accounts/passwords.js';
import type { WorkshopSpec } from '../catalog/spec.js';
import type { WodConfig } from '../config/schema.js';
import { HubApiError, type HubClient } from '../hub/client.js';
import type { Plan, RetryPolicy, Step, StepContext } from '../jobs/engine.js';
import type { Job } from '../jobs/store.js';
import type { Variables } from '../content/templating.js';
import { audit } from '../audit/audit.js';
import { orderSize } from '../registrations/order-desk.js';
import { FINAL, moveRegistration, REGISTRATION_STATES } from '../registrations/states.js';
import type { Db } from '../store/db.js';
import type { ApiDb } from './api-db.js';
import { type Directory, DirectoryUnreachable } from './directory.js';
import { findHooks, type HookKind, runHook } from './hooks.js';
import { type WorkshopFolders, workshopFolders } from '../catalog/folders.js';
import { asEnvironment, challengeName, deploymentFiles, passDir, passFile, resolveVariables, siteBase, studentValues } from '../content/site-variables.js';
import { type Mode, modeOf } from '../registrations/registrations.js';
import type { DiskHost, StudentHost } from './host.js';
import { DiskHome, type StudentHome } from './home.js';
import { clearWarm } from './warm.js';
import type { StudentLimits } from '../isolation/limits.js';
import type { WodMetrics } from '../metrics/metrics.js';

export interface Credentials {
  /** the CREATE job: one credentials mail per job, however often its step runs */
  jobId: number;
  registrationId: number | null;
  student: string;
  password: string;
  deadlineAt: string;
  workshop: { folder: string; name: string };
}

/** What the lifecycle tells the participant: the credentials, the thanks with the seat's release, the apology when it gave up. */
export interface Messenger {
  credentials(c: Credentials): Promise<void>;
  /** called inside the transaction that marks the registration cleaned */
  thanks(registrationId: number): void;
  /** called inside the transaction that gives up on a registration's deployment */
  apology(registrationId: number): void;
}

export interface LifecycleDeps {
  db: Db;
  config: WodConfig;
  hub: HubClient;
  host: StudentHost;
  /** what the verbs do to the homes' files; default: the disk host's homes (lifecycle/home.ts) */
  files?: StudentHome;
  messenger: Messenger;
  /** told when a student's hub tokens were revoked, so that nothing remembers them */
  onTokensRevoked?: (student: string) => void;
  /** set in external api-db mode: orders that came by mail are reported back to it */
  apiDb?: ApiDb;
  /** the survey page of a registration (SURVEYURL when workshops.surveyUrl is not set) */
  surveyUrl?: (registrationId: number) => string;
  /** told when a verb that gave up queued a job (the engine looks at once) */
  onJob?: () => void;
  /** the site's LDAP directory, for workshops with `ldap: true` (none: their CREATE fails, saying so) */
  directory?: Directory;
  /** system-users mode: the students' cgroups (isolation/limits.ts); none in local and remote mode */
  limits?: StudentLimits;
  /** told how long each registration took from accepted to ready (wod_provision_duration_seconds) */
  metrics?: WodMetrics;
}

/** A verb: its steps, how often a passing failure is retried, and what happens when the engine gives up on it. */
export interface VerbPlan {
  steps: Plan;
  retry: RetryPolicy;
  gaveUp(job: Job, error: Error): void;
}

/** The hub answering 429/5xx or not at all, or the LDAP directory out of reach: worth another attempt. */
export function isTransient(e: unknown): boolean {
  return (e instanceof HubApiError && (e.status === 0 || e.status === 429 || e.status >= 500)) || e instanceof DirectoryUnreachable;
}

export type Workshop = WorkshopSpec & { path: string; source: string; durationMinutes: number };

export interface Subject {
  n: number;
  student: string;
  workshopId: number | null;
  registration: {
    id: number;
    state: string;
    email: string | null;
    deadlineAt: string | null;
    externalId: string | null;
    mode: Mode;
    /** the language they registered in; null: the site's defaultLanguage */
    language: string | null;
  } | null;
  workshop: Workshop | null;
}

const NOT_FINAL = REGISTRATION_STATES.filter((s) => !FINAL.includes(s));

/** The shared pieces, given to each verb's plan. */
export interface Kit {
  db: Db;
  config: WodConfig;
  hub: HubClient;
  host: StudentHost;
  files: StudentHome;
  deps: LifecycleDeps;
  /** a step that reads its subject afresh when it runs */
  step(name: string, run: (s: Subject, ctx: StepContext) => Promise<void>): Step;
  needWorkshop(s: Subject): Workshop;
  /** where the workshop's parts are, by the overlay rule (catalog/folders.ts) */
  folders(w: Workshop): WorkshopFolders;
  /** the template variables of this student's deployment (content/site-variables.ts) */
  variables(s: Subject, w: Workshop, password?: string, fromHooks?: Variables): Variables;
  hooks(kind: HookKind, s: Subject, ctx: StepContext, password?: string): Promise<Variables>;
  dropHandOver(s: Subject): void;
  stopServer: Step;
  kill: Step;
  lock: Step;
  wipe: Step;
  release(final: 'cleaned' | 'failed'): Step;
  report: Step;
  reportsToApiDb(job: Job): boolean;
  /** lifecycle.maxAttempts, the first retry after 2 s */
  retry: RetryPolicy;
  /** the failure path of CLEANUP, RESET and PURGE */
  stuck(job: Job, error: Error): void;
}

export function lifecycleKit(deps: LifecycleDeps): Kit {
  const { db, config, hub, host } = deps;
  if (!deps.files && host.mode === 'remote') throw new Error('remote mode needs its homes given (lifecycle/remote-home.ts): there is no disk to fall back on');
  const files = deps.files ?? new DiskHome(host as DiskHost, config.students);

  const subject = (job: Job): Subject => {
    const s = db.prepare('SELECT id, name FROM students WHERE id = ?').get(job.student_id) as { id: number; name: string };
    const r = job.registration_id
      ? (db
          .prepare(
            `SELECT r.id, r.state, p.email, r.deadline_at AS deadlineAt, r.external_id AS externalId, r.mode, r.language
                    FROM registrations r JOIN participants p ON p.id = r.participant_id WHERE r.id = ?`,
          )
          .get(job.registration_id) as Subject['registration'])
      : null;
    const w = job.workshop_id
      ? (db.prepare('SELECT spec, path, source, duration_minutes FROM workshops WHERE id = ?').get(job.workshop_id) as
          { spec: string; path: string; source: string; duration_minutes: number } | undefined)
      : undefined;
    return {
      n: s.id,
      student: s.name,
      workshopId: job.workshop_id,
      registration: r ?? null,
      workshop: w ? { ...(JSON.parse(w.spec) as WorkshopSpec), path: w.path, source: w.source, durationMinutes: w.duration_minutes } : null,
    };
  };

  const step = (name: string, run: (s: Subject, ctx: StepContext) => Promise<void>): Step => ({
    name,
    run: (ctx) => run(subject(ctx.job), ctx),
  });
  const needWorkshop = (s: Subject) => {
    if (!s.workshop) throw new Error(`job has no workshop (student ${s.student})`);
    return s.workshop;
  };

  const folders = (w: Workshop): WorkshopFolders => {
    const found = workshopFolders(config.workshops, w.folder);
    if (!found)
      throw new Error(`${w.folder}: no workshop folder with a wod.yml in ${config.workshops.dir}${config.workshops.overlayDir ? ` or ${config.workshops.overlayDir}` : ''}`);
    return found;
  };

  const variables = (s: Subject, w: Workshop, password?: string, fromHooks?: Variables): Variables => {
    const mode = s.registration?.mode ?? modeOf(w.folder);
    const survey = !config.workshops.surveyUrl && s.registration ? deps.surveyUrl?.(s.registration.id) : undefined;
    const student = studentValues({ stdid: s.n, student: s.student, spec: w, mode, password, surveyUrl: survey });
    return resolveVariables({
      ...siteBase(config),
      files: deploymentFiles(config, folders(w).vars, { workshop: w.folder, challenge: student.CHALLENGE }, s.n),
      fromHooks,
      student,
    });
  };

  /** The original's hook environment (stdid, stddir, w, ws, wid, randompw, WODRTARGET, the site's variables) and wod's names. */
  const hookEnv = (s: Subject, w: Workshop, vars: Variables, password?: string): Record<string, string> => {
    const ip = vars[`IP-${w.folder}`];
    const appliance = typeof ip === 'string' && ip && ip !== 'x.y.z.t' ? ip : undefined;
    const target = appliance && w.multiAppliance ? offsetIp(appliance, s.n - w.range[0]) : appliance;
    // remote mode: no home the hooks could reach
    const home = files.localPath(s.student);
    return {
      ...asEnvironment(vars),
      stdid: String(s.n),
      ...(home ? { stddir: home, STUDENT_HOME: home } : {}),
      w: String(vars.CHALLENGE),
      ws: w.folder,
      wid: String(s.workshopId ?? ''),
      STDID: String(s.n),
      STUDENT: s.student,
      WORKSHOP: w.folder,
      STUDENT_MODE: host.mode,
      HUB_URL: config.publicUrl,
      WOD_PASS_FILE: passFile(config, String(vars.CHALLENGE), s.n),
      ...(s.registration ? { REGISTRATION_ID: String(s.registration.id) } : {}),
      ...(password ? { PASSWORD: password, randompw: password } : {}),
      ...(target ? { WODRTARGET: target } : {}),
    };
  };

  const hooks = async (kind: HookKind, s: Subject, ctx: StepContext, password?: string): Promise<Variables> => {
    const w = needWorkshop(s);
    const found = findHooks(kind, folders(w).content, w.folder, config.workshops.overlayScriptsDir);
    if (!found.length) return {};
    fs.mkdirSync(passDir(config), { recursive: true, mode: 0o700 });
    const vars = variables(s, w, password);
    const out: Variables = {};
    for (const hook of found) {
      ctx.log(`$ ${hook.file}${hook.template ? ' (rendered first)' : ''}\n`);
      const result = await runHook(hook, vars, {
        env: hookEnv(s, w, vars, password),
        cwd: path.dirname(hook.file),
        timeoutMs: config.workshops.hookTimeout * 1000,
        // A hook given the password may print it: the step log never keeps it.
        onOutput: (text) => ctx.log(password ? text.split(password).join('[password]') : text),
      });
      Object.assign(out, result.vars);
    }
    return out;
  };

  const stopServer = step('server-stopped', async (s, ctx) => {
    await hub.stopServer(s.student);
    await hub.waitForStopped(s.student, 60_000);
    ctx.log(`server of ${s.student} stopped\n`);
  });
  const kill = step('processes-stopped', async (s, ctx) => {
    // remote mode: none on this machine to look for; they ended with the server the hub stopped
    if (host.mode === 'remote') return void ctx.log(`the processes of ${s.student} ended with their server\n`);
    ctx.log(`${await host.killProcesses(s.student)} process(es) stopped\n`);
  });
  const lock = step('locked', async (s, ctx) => {
    db.prepare('UPDATE students SET password_hash = NULL WHERE id = ?').run(s.n);
    // A page left open by this participant must not reach the next one's data with its old token.
    ctx.log(`${await hub.revokeAllTokens(s.student)} token(s) of ${s.student} revoked\n`);
    deps.onTokensRevoked?.(s.student);
  });
  /** The student's values a hook wrote (the original's pass file): handed over once, then gone. */
  const dropHandOver = (s: Subject) => {
    for (const mode of ['WKSHP', 'CHLG'] as const) if (s.workshop) fs.rmSync(passFile(config, challengeName(s.workshop.folder, mode), s.n), { force: true });
  };
  const wipe = step('home-wiped', async (s) => {
    await files.wipe(s.student);
    dropHandOver(s);
    clearWarm(db, s.n); // a warm seat's home is gone with it
  });
  const release = (final: 'cleaned' | 'failed') =>
    step('released', async (s, ctx) => {
      const keep = final === 'cleaned' && s.workshop?.reset && ctx.job.verb === 'CLEANUP';
      db.transaction(() => {
        if (s.registration) {
          const moved = moveRegistration(db, s.registration.id, {
            to: final,
            actor: 'system',
            onlyFrom: NOT_FINAL,
            details: { job: ctx.job.id, verb: ctx.job.verb },
          });
          // an ended registration keeps the time it ended; one purged while running ends now
          if (moved) db.prepare(`UPDATE registrations SET ended_at = COALESCE(ended_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) WHERE id = ?`).run(s.registration.id);
          // A finished workshop is thanked, with its badge, in the same transaction: once.
          if (moved && final === 'cleaned' && s.registration.externalId === null) deps.messenger.thanks(s.registration.id);
        }
        // A workshop with `reset: true` keeps the student until its RESET.
        db.prepare(
          `UPDATE students SET state = ?, registration_id = ?, problem = NULL, problem_job_id = NULL,
                      updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
        ).run(keep ? 'cleanup' : 'free', keep ? (s.registration?.id ?? null) : null, s.n);
      })();
      ctx.log(keep ? `${s.student} kept for RESET\n` : `${s.student} is free\n`);
    });

  const reportsToApiDb = (job: Job) => !!deps.apiDb && job.source === 'mail';
  /** The last step of CLEANUP, RESET and PURGE ordered by an api-db: tell it. */
  const report = step('reported', async (s, ctx) => {
    if (!reportsToApiDb(ctx.job)) return;
    const completion = s.registration ? (db.prepare('SELECT completion FROM registrations WHERE id = ?').get(s.registration.id) as { completion: number | null }).completion : null;
    const calls = await deps.apiDb!.report({
      verb: ctx.job.verb,
      stdid: s.n,
      participantId: s.registration?.externalId ?? null,
      workshop: s.workshop?.folder ?? '',
      completion,
      reset: !!s.workshop?.reset,
      // the original sends the purged student a new password; nobody can use it
      password: ctx.job.verb === 'PURGE' ? generatePassword(16) : undefined,
      // a RESET of a range (the original's OneView batches) gives the workshop back the range's seats
      rangeSize: ctx.job.verb === 'RESET' && orderSize(db, ctx.job.idempotency_key) > 1 ? orderSize(db, ctx.job.idempotency_key) : undefined,
    });
    ctx.log(`reported to the api-db: ${calls.join(', ')}\n`);
  });

  /**
   * The failure path of CLEANUP, RESET and PURGE: the student keeps its seat, marked stuck with the
   * error, so the pool and the dashboard show it and an admin can retry (pool/pool.ts retryStuck).
   */
  const stuck = (job: Job, error: Error) => {
    db.transaction(() => {
      // the job's stored error names the step that failed
      const stored = (db.prepare('SELECT error FROM jobs WHERE id = ?').get(job.id) as { error: string | null } | undefined)?.error;
      db.prepare(`UPDATE students SET problem = ?, problem_job_id = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`).run(
        `${job.verb} gave up: ${stored ?? error.message}`.slice(0, 500),
        job.id,
        job.student_id,
      );
      audit(db, 'system', 'student.stuck', { type: 'student', id: job.student_id }, { job: job.id, verb: job.verb, error: error.message.slice(0, 500) });
    })();
  };

  const retry = { maxAttempts: config.lifecycle.maxAttempts, backoffMs: 2_000 };

  return {
    db,
    config,
    hub,
    host,
    files,
    deps,
    retry,
    step,
    needWorkshop,
    folders,
    variables,
    hooks,
    dropHandOver,
    stopServer,
    kill,
    lock,
    wipe,
    release,
    report,
    reportsToApiDb,
    stuck,
  };
}

/** a.b.c.d + k, for one appliance per student (multiAppliance). */
export function offsetIp(ip: string, k: number): string {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p))) return ip;
  parts[3] += k;
  return parts.join('.');
}
