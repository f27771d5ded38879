/**
 * CREATE: password, directory (`ldap: true`: the password set in the site's LDAP), account,
 * leftovers, home, content (create hook, templates, workspace), compiled (`compile`: shc binaries),
 * post-copy, limits (the student's cgroup), server, credentials (then ready: the clock starts when they are sent).
 *
 * The student's password exists in clear only in this process's memory, from the step that makes
 * it to the credentials step that hands it on; the database keeps its hash.
 *
 * Retried: a passing failure (the hub down or busy) up to lifecycle.maxAttempts, from 2 s doubling
 * to a minute; anything else fails at once. Gives up: the registration fails, a PURGE frees the seat and the
 * participant gets an apology.
 */
import path from 'node:path';
import { generatePassword, hashPassword } from '../accounts/passwords.js';
import { passwordInContent } from '../catalog/spec.js';
import { compileDirs, compileScripts, findShc } from '../content/compile.js';
import type { Variables } from '../content/templating.js';
import { shippedLanguages } from '../i18n/i18n.js';
import { RestartFrom } from '../jobs/engine.js';
import { enqueueJob, type Job } from '../jobs/store.js';
import { DEPLOYING, moveRegistration } from '../registrations/states.js';
import { setDirectoryPassword } from './directory.js';
import { limitsStep } from './limits.js';
import type { Kit, Subject, VerbPlan } from './steps.js';
import { isMaintenance } from './remote-home.js';
import { isWarmFor, isWarmJob, markWarm } from './warm.js';

/** What a warm seat's preparation runs of CREATE (then marks the seat). */
const WARM_PREPARATION = new Set(['account', 'server-stopped', 'processes-stopped', 'home', 'limits', 'server']);
/** What a registration on a warm seat finds done. */
const DONE_WHEN_WARM = new Set(['account', 'server-stopped', 'processes-stopped', 'home']);

export function createPlan(kit: Kit): VerbPlan {
  const { db, config, hub, host, files, deps, step, needWorkshop, folders, variables, hooks } = kit;
  /** clear passwords of running CREATE jobs, by job id: memory only */
  const passwords = new Map<number, string>();
  /** the variables each running CREATE's content was rendered with, for its compiled scripts: memory only */
  const contentVars = new Map<number, Variables>();

  const acceptedAt = (registrationId: number) =>
    Date.parse((db.prepare('SELECT created_at FROM registrations WHERE id = ?').get(registrationId) as { created_at: string }).created_at);

  const newPassword = async (s: Subject, job: Job) => {
    const password = generatePassword(16);
    db.prepare('UPDATE students SET password_hash = ? WHERE id = ?').run(await hashPassword(password), s.n);
    passwords.set(job.id, password);
    return password;
  };

  const all = () => [
    step('deploying', async (s, ctx) => {
      if (s.registration) moveRegistration(db, s.registration.id, { to: 'deploying', actor: 'system', onlyFrom: ['registered'], details: { job: ctx.job.id } });
    }),
    step('password', async (s, ctx) => void (await newPassword(s, ctx.job))),
    step('directory', async (s, ctx) => {
      const w = needWorkshop(s);
      if (!w.ldap) return;
      const password = passwords.get(ctx.job.id);
      if (!password) throw new RestartFrom('password');
      ctx.log(`${await setDirectoryPassword(deps.directory, s.n, password)}: password set\n`);
    }),
    step('account', async (s, ctx) => {
      await host.ensureAccount(s.student, s.n);
      await hub.ensureUser(s.student);
      ctx.log(`hub user ${s.student} ready\n`);
    }),
    kit.stopServer,
    kit.kill,
    step('home', async (s) => {
      await files.prepare(s.student, path.join(config.projectRoot, 'spawner-config', 'skel'));
    }),
    step('content', async (s, ctx) => {
      const w = needWorkshop(s);
      const password = passwords.get(ctx.job.id);
      // With varpass or ldap the content holds the password (PASSSTU): after a restart it must be made anew.
      if (passwordInContent(w) && !password) throw new RestartFrom('password');
      const fromHooks = await hooks('create', s, ctx, password);
      const vars = variables(s, w, password, fromHooks);
      // the language the participant registered in (none, and a seat without a registration: the site's)
      const locale = shippedLanguages().get(s.registration?.language ?? config.defaultLanguage).info.jupyterlab;
      const target = await files.deploy(s.student, { folders: folders(w), folder: w.folder, vars, exclude: w.compile, locale });
      contentVars.set(ctx.job.id, vars);
      ctx.log(`${w.folder} deployed to ${target} (MODEWS=${String(vars.MODEWS)})\n`);
    }),
    step('compiled', async (s, ctx) => {
      const w = needWorkshop(s);
      if (!w.compile.length) return;
      // the scripts get the variables the content got, hooks' values included: after a restart, made anew
      const vars = contentVars.get(ctx.job.id);
      if (!vars) throw new RestartFrom('content');
      const home = files.localPath(s.student);
      if (!home) throw new Error(`${w.folder}: compile needs the home on this machine, and remote mode has none (wod lint says so)`);
      const dirs = compileDirs(folders(w).content, config);
      const installed = await compileScripts({ names: w.compile, dirs, vars, home, shc: findShc() });
      ctx.log(`compiled with shc (obfuscated, not encrypted): ${installed.map((f) => path.basename(f)).join(', ')}\n`);
    }),
    step('post-copy', async (s, ctx) => {
      await hooks('post-copy', s, ctx, passwords.get(ctx.job.id));
      kit.dropHandOver(s); // the original's step 11: the student's secrets file is removed once deployed
    }),
    limitsStep(kit),
    step('server', async (s, ctx) => {
      let server = await hub.getServer(s.student);
      // remote mode: the server that wrote the home was the service's own; the participant's is a normal one
      if (isMaintenance(server)) {
        await hub.stopServer(s.student);
        await hub.waitForStopped(s.student, 60_000);
        server = null;
      }
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
        if (passwordInContent(w)) throw new RestartFrom('password');
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
      contentVars.delete(ctx.job.id);
      if (r) {
        const readyAt = new Date();
        const moved = moveRegistration(db, r.id, {
          to: 'ready',
          actor: 'system',
          onlyFrom: DEPLOYING,
          set: { ready_at: readyAt.toISOString(), deadline_at: deadlineAt },
          details: { job: ctx.job.id, deadlineAt },
        });
        // accepted (the desk's 201, the order's 250) to ready, once per registration
        if (moved) deps.metrics?.provisioned(w.folder, (readyAt.getTime() - acceptedAt(r.id)) / 1000);
      }
    }),
  ];

  // A warm seat's preparation does what needs no participant; a registration on a warm seat skips it.
  const markedWarm = step('warm', async (s, ctx) => {
    markWarm(db, s.n, ctx.job.workshop_id!);
    ctx.log(`${s.student} is a warm seat of ${needWorkshop(s).folder}\n`);
  });
  const steps = (job: Job) => {
    if (isWarmJob(job)) return [...all().filter((x) => WARM_PREPARATION.has(x.name)), markedWarm];
    return isWarmFor(db, job) ? all().filter((x) => !DONE_WHEN_WARM.has(x.name)) : all();
  };

  /** The failure path: the seat is purged and freed, with an apology. */
  const gaveUp = (job: Job, error: Error) => {
    passwords.delete(job.id);
    contentVars.delete(job.id);
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
