/**
 * The four verbs as step plans for the job engine. Every step is idempotent, so that a job resumed
 * after a crash, or retried after a passing failure, can run a step again safely.
 *
 * CREATE:  password, account, leftovers, home, content (create hook, templates, workspace),
 *          post-copy, server, credentials (then ready: the clock starts when they are sent)
 * CLEANUP: completion, cleanup hook, server, processes, lock, home, release
 * RESET:   reset hook, server, processes, lock, home, release
 * PURGE:   server, processes, lock, home, release   (the failure path: no hooks)
 *
 * The student's password exists in clear only in this process's memory, from the step that makes
 * it to the credentials step that hands it on; the database keeps its hash.
 */
import fs from 'node:fs';
import path from 'node:path';
import { hashPassword, generatePassword } from '../accounts/passwords.js';
import type { WorkshopSpec } from '../catalog/spec.js';
import type { WodConfig } from '../config/schema.js';
import { completion } from '../content/completion.js';
import { copySkeleton, deployWorkshop, writeWorkspace } from '../content/deploy.js';
import type { Variables } from '../content/templating.js';
import YAML from 'yaml';
import { HubApiError, type HubClient } from '../hub/client.js';
import { type Plan, RestartFrom, type Step, type StepContext } from '../jobs/engine.js';
import type { Job, Verb } from '../jobs/store.js';
import type { Db } from '../store/db.js';
import type { ApiDb } from './api-db.js';
import { findHooks, type HookKind, runHook } from './hooks.js';
import type { StudentHost } from './host.js';

export interface Credentials {
  /** the CREATE job: one credentials mail per job, however often its step runs */
  jobId: number;
  registrationId: number | null;
  student: string;
  password: string;
  deadlineAt: string;
  workshop: { folder: string; name: string };
}

/** What the lifecycle tells the participant: the credentials at once, the thanks with the seat's release. */
export interface Messenger {
  credentials(c: Credentials): Promise<void>;
  /** called inside the transaction that marks the registration cleaned */
  thanks(registrationId: number): void;
}

export interface LifecycleDeps {
  db: Db;
  config: WodConfig;
  hub: HubClient;
  host: StudentHost;
  messenger: Messenger;
  /** told when a student's hub tokens were revoked, so that nothing remembers them */
  onTokensRevoked?: (student: string) => void;
  /** set in external api-db mode: orders that came by mail are reported back to it */
  apiDb?: ApiDb;
}

/** The hub answering 429/5xx or not at all: worth another attempt. */
export function isTransient(e: unknown): boolean {
  return e instanceof HubApiError && (e.status === 0 || e.status === 429 || e.status >= 500);
}

interface Subject {
  n: number;
  student: string;
  registration: { id: number; state: string; email: string | null; deadlineAt: string | null; externalId: string | null } | null;
  workshop: (WorkshopSpec & { path: string; source: string; durationMinutes: number }) | null;
}

export function lifecyclePlans(deps: LifecycleDeps): Record<Verb, Plan> {
  const { db, config, hub, host } = deps;
  /** clear passwords of running CREATE jobs, by job id: memory only */
  const passwords = new Map<number, string>();

  const subject = (job: Job): Subject => {
    const s = db.prepare('SELECT id, name FROM students WHERE id = ?').get(job.student_id) as { id: number; name: string };
    const r = job.registration_id
      ? (db
          .prepare(`SELECT r.id, r.state, p.email, r.deadline_at AS deadlineAt, r.external_id AS externalId
                    FROM registrations r JOIN participants p ON p.id = r.participant_id WHERE r.id = ?`)
          .get(job.registration_id) as Subject['registration'])
      : null;
    const w = job.workshop_id
      ? (db.prepare('SELECT spec, path, source, duration_minutes FROM workshops WHERE id = ?').get(job.workshop_id) as
          | { spec: string; path: string; source: string; duration_minutes: number }
          | undefined)
      : undefined;
    return {
      n: s.id,
      student: s.name,
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

  /** The workshop's folders: public first, then the overlay's when the overlay has it. */
  const sources = (w: NonNullable<Subject['workshop']>) => {
    const dirs = [path.join(config.workshops.dir, w.folder), ...(config.workshops.overlayDir ? [path.join(config.workshops.overlayDir, w.folder)] : [])];
    return [...new Set([...dirs.filter((d) => fs.existsSync(d)), w.path])];
  };

  const hookEnv = (s: Subject, w: NonNullable<Subject['workshop']>, password?: string): Record<string, string> => {
    const appliance = config.workshops.appliances[w.folder];
    const target = appliance && w.multiAppliance ? offsetIp(appliance, s.n - w.range[0]) : appliance;
    return {
      STDID: String(s.n),
      STUDENT: s.student,
      WORKSHOP: w.folder,
      STUDENT_HOME: host.home(s.student),
      STUDENT_MODE: host.mode,
      HUB_URL: config.publicUrl,
      ...(s.registration ? { REGISTRATION_ID: String(s.registration.id) } : {}),
      ...(w.varpass && password ? { PASSWORD: password } : {}),
      ...(target ? { WODRTARGET: target } : {}),
    };
  };

  const hooks = async (kind: HookKind, s: Subject, ctx: StepContext, password?: string): Promise<Variables> => {
    const w = needWorkshop(s);
    const vars: Variables = {};
    for (const file of findHooks(kind, w.path, w.folder, config.workshops.overlayScriptsDir)) {
      ctx.log(`$ ${file}\n`);
      const result = await runHook(file, {
        env: hookEnv(s, w, password),
        cwd: path.dirname(file),
        timeoutMs: config.workshops.hookTimeout * 1000,
        // A hook given the password (varpass) may print it: the step log never keeps it.
        onOutput: (text) => ctx.log(password ? text.split(password).join('[password]') : text),
      });
      Object.assign(vars, result.vars);
    }
    return vars;
  };

  const templateVars = (s: Subject, w: NonNullable<Subject['workshop']>, password: string | undefined, fromHooks: Variables): Variables => {
    const b = config.branding;
    return {
      ...readVarsFiles(sources(w)),
      STDID: s.n,
      STUDENT: s.student,
      WORKSHOP: w.folder,
      MODEWS: w.folder.startsWith('CHLG-') ? 'CHLG' : 'WKSHP',
      BRANDING: b.name,
      BRANDINGWOD: b.name,
      BRANDINGLOGO: b.logoUrl ?? '',
      BRANDINGURL: config.publicUrl,
      HUB_URL: config.publicUrl,
      PORTAL_URL: `${config.publicUrl}/services/wod/`,
      JPHUB: config.publicUrl,
      SURVEYURL: config.workshops.surveyUrl,
      ...(w.varpass && password ? { PASSSTU: password } : {}),
      ...fromHooks,
    };
  };

  const stopServer = step('server-stopped', async (s, ctx) => {
    await hub.stopServer(s.student);
    await hub.waitForStopped(s.student, 60_000);
    ctx.log(`server of ${s.student} stopped\n`);
  });
  const kill = step('processes-stopped', async (s, ctx) => {
    ctx.log(`${await host.killProcesses(s.student)} process(es) stopped\n`);
  });
  const lock = step('locked', async (s, ctx) => {
    db.prepare('UPDATE students SET password_hash = NULL WHERE id = ?').run(s.n);
    // A page left open by this participant must not reach the next one's data with its old token.
    ctx.log(`${await hub.revokeAllTokens(s.student)} token(s) of ${s.student} revoked\n`);
    deps.onTokensRevoked?.(s.student);
  });
  const wipe = step('home-wiped', async (s) => {
    await host.resetHome(s.student);
  });
  const release = (final: 'cleaned' | 'failed') =>
    step('released', async (s, ctx) => {
      const keep = final === 'cleaned' && s.workshop?.reset && ctx.job.verb === 'CLEANUP';
      db.transaction(() => {
        if (s.registration) {
          const changed = db
            .prepare(`UPDATE registrations SET state = ?, ended_at = COALESCE(ended_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                      WHERE id = ? AND state NOT IN ('cleaned', 'failed')`)
            .run(final, s.registration.id).changes;
          // A finished workshop is thanked, with its badge, in the same transaction: once.
          if (changed && final === 'cleaned' && s.registration.externalId === null) deps.messenger.thanks(s.registration.id);
        }
        // A workshop with `reset: true` keeps the student until its RESET.
        db.prepare(`UPDATE students SET state = ?, registration_id = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`).run(
          keep ? 'cleanup' : 'free',
          keep ? (s.registration?.id ?? null) : null,
          s.n,
        );
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
    });
    ctx.log(`reported to the api-db: ${calls.join(', ')}\n`);
  });

  const newPassword = async (s: Subject, job: Job) => {
    const password = generatePassword(16);
    db.prepare('UPDATE students SET password_hash = ? WHERE id = ?').run(await hashPassword(password), s.n);
    passwords.set(job.id, password);
    return password;
  };

  const create: Plan = () => [
    step('deploying', async (s) => {
      if (s.registration) db.prepare(`UPDATE registrations SET state = 'deploying' WHERE id = ? AND state = 'registered'`).run(s.registration.id);
    }),
    step('password', async (s, ctx) => void (await newPassword(s, ctx.job))),
    step('account', async (s, ctx) => {
      await host.ensureAccount(s.student, s.n);
      await hub.ensureUser(s.student);
      ctx.log(`hub user ${s.student} ready\n`);
    }),
    stopServer,
    kill,
    step('home', async (s) => {
      await host.resetHome(s.student);
      copySkeleton(path.join(config.projectRoot, 'spawner-config', 'skel'), host.home(s.student));
    }),
    step('content', async (s, ctx) => {
      const w = needWorkshop(s);
      const password = passwords.get(ctx.job.id);
      // With varpass the content holds the password: after a restart it must be made anew.
      if (w.varpass && !password) throw new RestartFrom('password');
      const fromHooks = await hooks('create', s, ctx, password);
      const home = host.home(s.student);
      const target = deployWorkshop({ sources: sources(w), home, folder: w.folder, vars: templateVars(s, w, password, fromHooks) });
      writeWorkspace(home, w.folder);
      await host.chown(s.student, home);
      ctx.log(`${w.folder} deployed to ${target}\n`);
    }),
    step('post-copy', async (s, ctx) => void (await hooks('post-copy', s, ctx, passwords.get(ctx.job.id)))),
    step('server', async (s, ctx) => {
      const server = await hub.getServer(s.student);
      if (!server?.ready) {
        await hub.startServer(s.student);
        await hub.waitForServer(s.student, config.lifecycle.serverTimeout * 1000);
      }
      ctx.log(`server of ${s.student} ready\n`);
    }),
    step('credentials', async (s, ctx) => {
      const w = needWorkshop(s);
      let password = passwords.get(ctx.job.id);
      if (!password) {
        if (w.varpass) throw new RestartFrom('password');
        password = await newPassword(s, ctx.job); // the first one died with the process that made it
      }
      const r = s.registration;
      // The watchdog may have given up on this registration meanwhile: its PURGE follows.
      if (r && !['registered', 'deploying'].includes(r.state)) return void ctx.log(`registration is ${r.state}: no credentials\n`);
      // The clock starts when the credentials go out.
      const deadlineAt = new Date(Date.now() + w.durationMinutes * 60_000).toISOString();
      if (reportsToApiDb(ctx.job)) {
        // The api-db that ordered it mails the credentials itself, from what it is told here.
        const calls = await deps.apiDb!.report({ verb: 'CREATE', stdid: s.n, participantId: r?.externalId ?? null, workshop: w.folder, password });
        ctx.log(`reported to the api-db: ${calls.join(', ')}\n`);
      } else {
        await deps.messenger.credentials({ jobId: ctx.job.id, registrationId: r?.id ?? null, student: s.student, password, deadlineAt, workshop: { folder: w.folder, name: w.name } });
        ctx.log(`credentials mailed${r?.email ? ` to ${r.email}` : ''}\n`);
      }
      passwords.delete(ctx.job.id);
      if (r) {
        db.prepare(`UPDATE registrations SET state = 'ready', ready_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), deadline_at = ?
                    WHERE id = ? AND state IN ('registered', 'deploying')`).run(deadlineAt, r.id);
      }
    }),
  ];

  const cleanup: Plan = () => [
    step('completion', async (s, ctx) => {
      if (!s.registration || !s.workshop) return;
      const dir = path.join(host.home(s.student), s.workshop.folder);
      const notebooks = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')) : [];
      const c = completion(notebooks);
      db.prepare('UPDATE registrations SET completion = COALESCE(?, completion) WHERE id = ?').run(c.ratio, s.registration.id);
      ctx.log(`completion ${c.executed}/${c.total} code cells\n`);
    }),
    step('cleanup-hook', async (s, ctx) => void (s.workshop && (await hooks('cleanup', s, ctx)))),
    stopServer,
    kill,
    lock,
    step('home-wiped', async (s, ctx) => {
      if (s.workshop?.reset) return void ctx.log('home kept until RESET (reset: true)\n');
      await host.resetHome(s.student);
    }),
    release('cleaned'),
    report,
  ];

  const reset: Plan = () => [
    step('reset-hook', async (s, ctx) => void (s.workshop && (await hooks('reset', s, ctx)))),
    stopServer,
    kill,
    lock,
    wipe,
    release('cleaned'),
    report,
  ];

  const purge: Plan = () => [stopServer, kill, lock, wipe, release('failed'), report];

  return { CREATE: create, CLEANUP: cleanup, RESET: reset, PURGE: purge };
}

/** The workshop's `vars.yml` files (public, then overlay): a mapping of names to plain values. */
function readVarsFiles(dirs: string[]): Variables {
  const vars: Variables = {};
  for (const file of dirs.map((d) => path.join(d, 'vars.yml')).filter((f) => fs.existsSync(f))) {
    const data = YAML.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> | null;
    for (const [k, v] of Object.entries(data ?? {})) {
      if (['string', 'number', 'boolean'].includes(typeof v)) vars[k] = v as string | number | boolean;
      else throw new Error(`${file}: ${k} must be a plain value (text, number, true/false)`);
    }
  }
  return vars;
}

/** a.b.c.d + k, for one appliance per student (multiAppliance). */
export function offsetIp(ip: string, k: number): string {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p))) return ip;
  parts[3] += k;
  return parts.join('.');
}
