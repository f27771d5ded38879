/**
 * CREATE: password, account, leftovers, home, content (create hook, templates, workspace),
 * post-copy, server, credentials (then ready: the clock starts when they are sent).
 *
 * The student's password exists in clear only in this process's memory, from the step that makes
 * it to the credentials step that hands it on; the database keeps its hash.
 *
 * Retried: a passing failure (the hub down or busy) up to lifecycle.maxAttempts, from 2 s doubling
 * to a minute; anything else fails at once. Gives up: the registration fails, a PURGE frees the seat and the
 * participant gets an apology.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { generatePassword, hashPassword } from '../accounts/passwords.js';
import { portalUrl } from '../config/urls.js';
import { copySkeleton, deployWorkshop, writeWorkspace } from '../content/deploy.js';
import type { Variables } from '../content/templating.js';
import { RestartFrom } from '../jobs/engine.js';
import { enqueueJob, type Job } from '../jobs/store.js';
import { modeOf } from '../registrations/registrations.js';
import { DEPLOYING, moveRegistration } from '../registrations/states.js';
import type { Kit, Subject, VerbPlan, Workshop } from './steps.js';

export function createPlan(kit: Kit): VerbPlan {
  const { db, config, hub, host, deps, step, needWorkshop, sources, hooks } = kit;
  /** clear passwords of running CREATE jobs, by job id: memory only */
  const passwords = new Map<number, string>();

  const newPassword = async (s: Subject, job: Job) => {
    const password = generatePassword(16);
    db.prepare('UPDATE students SET password_hash = ? WHERE id = ?').run(await hashPassword(password), s.n);
    passwords.set(job.id, password);
    return password;
  };

  const templateVars = (s: Subject, w: Workshop, password: string | undefined, fromHooks: Variables): Variables => {
    const b = config.branding;
    return {
      ...readVarsFiles(sources(w)),
      STDID: s.n,
      STUDENT: s.student,
      WORKSHOP: w.folder,
      // challenge mode, as ordered (CHLG-X) or offered (a CHLG- folder): stored on the registration
      MODEWS: s.registration?.mode ?? modeOf(w.folder),
      BRANDING: b.name,
      BRANDINGWOD: b.name,
      BRANDINGLOGO: b.logoUrl ?? '',
      BRANDINGURL: config.publicUrl,
      HUB_URL: config.publicUrl,
      PORTAL_URL: portalUrl(config),
      JPHUB: config.publicUrl,
      SURVEYURL: config.workshops.surveyUrl,
      ...(w.varpass && password ? { PASSSTU: password } : {}),
      ...fromHooks,
    };
  };

  const steps = () => [
    step('deploying', async (s, ctx) => {
      if (s.registration) moveRegistration(db, s.registration.id, { to: 'deploying', actor: 'system', onlyFrom: ['registered'], details: { job: ctx.job.id } });
    }),
    step('password', async (s, ctx) => void (await newPassword(s, ctx.job))),
    step('account', async (s, ctx) => {
      await host.ensureAccount(s.student, s.n);
      await hub.ensureUser(s.student);
      ctx.log(`hub user ${s.student} ready\n`);
    }),
    kit.stopServer,
    kit.kill,
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
      const vars = templateVars(s, w, password, fromHooks);
      const target = deployWorkshop({ sources: sources(w), home, folder: w.folder, vars });
      writeWorkspace(home, w.folder);
      await host.chown(s.student, home);
      ctx.log(`${w.folder} deployed to ${target} (MODEWS=${String(vars.MODEWS)})\n`);
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
      if (r && !(DEPLOYING as readonly string[]).includes(r.state)) return void ctx.log(`registration is ${r.state}: no credentials\n`);
      // The clock starts when the credentials go out.
      const deadlineAt = new Date(Date.now() + w.durationMinutes * 60_000).toISOString();
      if (kit.reportsToApiDb(ctx.job)) {
        // The api-db that ordered it mails the credentials itself, from what it is told here.
        const calls = await deps.apiDb!.report({ verb: 'CREATE', stdid: s.n, participantId: r?.externalId ?? null, workshop: w.folder, password });
        ctx.log(`reported to the api-db: ${calls.join(', ')}\n`);
      } else {
        await deps.messenger.credentials({
          jobId: ctx.job.id,
          registrationId: r?.id ?? null,
          student: s.student,
          password,
          deadlineAt,
          workshop: { folder: w.folder, name: w.name },
        });
        ctx.log(`credentials mailed${r?.email ? ` to ${r.email}` : ''}\n`);
      }
      passwords.delete(ctx.job.id);
      if (r) {
        moveRegistration(db, r.id, {
          to: 'ready',
          actor: 'system',
          onlyFrom: DEPLOYING,
          set: { ready_at: new Date().toISOString(), deadline_at: deadlineAt },
          details: { job: ctx.job.id, deadlineAt },
        });
      }
    }),
  ];

  /** The failure path: the seat is purged and freed, with an apology. */
  const gaveUp = (job: Job, error: Error) => {
    passwords.delete(job.id);
    db.transaction(() => {
      const moved =
        job.registration_id !== null &&
        moveRegistration(db, job.registration_id, {
          to: 'failed',
          actor: 'system',
          onlyFrom: DEPLOYING,
          set: { end_reason: 'create-failed', ended_at: new Date().toISOString() },
          details: { job: job.id, error: error.message.slice(0, 500) },
        });
      enqueueJob(db, {
        verb: 'PURGE',
        studentId: job.student_id,
        registrationId: job.registration_id,
        workshopId: job.workshop_id,
        source: job.source,
        key: `PURGE:after-job:${job.id}`,
      });
      if (moved) deps.messenger.apology(job.registration_id!);
    })();
    deps.onJob?.();
  };

  return { steps, retry: kit.retry, gaveUp };
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
