/**
 * The wod service, started by JupyterHub as the managed service `wod` (see
 * spawner-config/jupyterhub_config.py). Composition root: reads the configuration and the hub's
 * environment, opens the store, builds the web application and listens where the hub says.
 */
import type { Server } from 'node:http';
import { Accounts } from './accounts/accounts.js';
import { Identities } from './auth/identity.js';
import { createHubAuth } from './auth/oauth.js';
import { Sealer } from './auth/seal.js';
import { loadConfig } from './config/load.js';
import { dataPaths } from './config/paths.js';
import { HubClient } from './hub/client.js';
import { readHubEnv } from './hub/env.js';
import { createLogger } from './log.js';
import { readSecretFile } from './secrets.js';
import { openDatabase } from './store/db.js';
import { VERSION } from './version.js';
import { formatProblem } from './catalog/problems.js';
import { JobEngine } from './jobs/engine.js';
import { JobStore } from './jobs/store.js';
import { ApiDb } from './lifecycle/api-db.js';
import { ensureLocalAccount, studentsRunAs } from './isolation/student-side.js';
import { isDirectoryConfigured, LdapDirectory, readLdapBindPassword } from './lifecycle/directory.js';
import { DiskHome } from './lifecycle/home.js';
import { LocalHost, RemoteHost, SystemUsersHost } from './lifecycle/host.js';
import { RemoteHome } from './lifecycle/remote-home.js';
import { ContentsClient } from './hub/contents.js';
import { localProxyUrl } from './config/urls.js';
import { studentLimits } from './isolation/limits.js';
import { restoreLimits } from './lifecycle/limits.js';
import { ServerReconciler } from './lifecycle/reconcile.js';
import { isTransient, lifecycle } from './lifecycle/verbs.js';
import { refillWarm } from './lifecycle/warm.js';
import { readMailApiPassword } from './mail-in/access.js';
import { createMailApi } from './mail-in/server.js';
import { Letters } from './journey/letters.js';
import { MailLinks } from './journey/links.js';
import { Timers } from './journey/timers.js';
import { Mailer } from './mail-out/mailer.js';
import { MailVault } from './mail-out/relay.js';
import { OutboxTransport, SmtpTransport } from './mail-out/transport.js';
import { importCatalog } from './catalog/importer.js';
import { syncPool } from './pool/pool.js';
import { RegistrationDesk } from './registrations/desk.js';
import { Registrations } from './registrations/registrations.js';
import { adminRouter } from './web/admin.js';
import { apiRouter } from './web/api.js';
import type { WebDeps } from './web/deps.js';
import { portalRouter } from './web/portal.js';
import { createApp } from './web/app.js';
import { languageChoice } from './web/language.js';
import { shippedLanguages } from './i18n/i18n.js';
import { healthRouter } from './web/health.js';
import { WodMetrics } from './metrics/metrics.js';
import { metricsRouter } from './metrics/route.js';
import { internalRouter } from './web/internal.js';
import { TrustedProxies } from './network/addresses.js';
import { Watchdog } from './watchdog/watchdog.js';
import { CapacityMeter } from './capacity/meter.js';
import { eraseExpired } from './participants/retention.js';
import { sweepArchives } from './work/records.js';
import { SeatDesk } from './locations/backend.js';
import { LocationHealth } from './locations/health.js';
import { Mirror } from './locations/mirror.js';
import { LOCATION_API, Peers } from './locations/peers.js';
import { portalPlaces, seatsEverywhere } from './locations/places.js';
import { LocationRouter } from './locations/router.js';
import { PortalUpdates } from './locations/updates.js';
import { locationApiRouter } from './web/location-api.js';

/** How often the memory of working seats is read (capacity/meter.ts): a few small /proc files per seat. */
const CAPACITY_SAMPLE_SECONDS = 60;
/** How often participants past their retention are looked for. */
const RETENTION_SWEEP_MS = 3_600_000;

function main(): void {
  const config = loadConfig();
  const log = createLogger(config.log.level, 'wod', undefined, config.log.format);
  const hubEnv = readHubEnv(process.env);
  const paths = dataPaths(config);
  const db = openDatabase(paths.database);
  const metrics = new WodMetrics(db);
  const hub = new HubClient({ apiUrl: hubEnv.apiUrl, token: hubEnv.apiToken, log: log.child('hub') });
  // Health and status pages must answer fast even while the hub is down: no retries there.
  const hubProbe = new HubClient({ apiUrl: hubEnv.apiUrl, token: hubEnv.apiToken, retries: 0, timeoutMs: 2_000 });
  const sessionKey = readSecretFile(paths.sessionKey);
  const sealer = new Sealer(sessionKey);
  const identities = new Identities(hub, hubEnv.accessScopes);
  const auth = createHubAuth({ hub: hubEnv, sealer, identities, log: log.child('auth') });
  const accounts = new Accounts(db);
  let engine: JobEngine | null = null;
  const transport = config.mail.transport === 'smtp' ? new SmtpTransport(config.mail, process.env.WOD_MAIL_SMTP_PASSWORD) : new OutboxTransport(paths.outbox, config.mail.from);
  const links = new MailLinks(db, sealer, config.publicUrl);
  // Mails relayed for an api-db wait sealed with a key of their own, derived from the session key.
  const mailer = new Mailer(db, transport, links, config, log.child('mail-out'), Date.now, new MailVault(sessionKey), metrics);
  const languages = shippedLanguages();
  if (!languages.has(config.defaultLanguage)) throw new Error(`defaultLanguage ${config.defaultLanguage}: there are locale files for ${languages.list.join(', ')} only`);
  // Locations (locations/): the backends this wod routes registrations to, the portals it seats them for.
  const peers = new Peers(config);
  const locationLog = log.child('locations');
  let router: LocationRouter | null = null;
  const health = new LocationHealth(peers, locationLog, config.locations.pollSeconds, (name) => router?.backendBack(name));
  metrics.watchLocations(() => health.list());
  const portalUpdates = new PortalUpdates(db, peers, locationLog);
  const letters = new Letters(db, mailer, links, config, languages, portalUpdates.relay);
  const registrations = new Registrations(
    db,
    { onJob: () => engine?.kick(), onCreated: (id) => letters.welcome(id) },
    portalPlaces(config, peers, health, () => router?.kick()),
  );
  const mirror = new Mirror(db, letters);
  router = new LocationRouter({ db, config, peers, health, mirror, letters, log: locationLog, onJob: () => engine?.kick(), metrics });
  const seatDesk = new SeatDesk({ db, registrations, letters, links, locationName: config.locations.name ?? null });
  const runAs = studentsRunAs(config.students);
  const disk =
    config.students.mode === 'local'
      ? new LocalHost(config.students.homeRoot, hubEnv.apiUrl, runAs.kind === 'account' ? ensureLocalAccount(runAs.name) : null)
      : config.students.mode === 'system-users'
        ? new SystemUsersHost(config.students.homeRoot, config.students.uidBase)
        : null;
  // remote mode: the homes only through each student's server, reached through the hub's proxy (lifecycle/remote-home.ts)
  const host = disk ?? new RemoteHost();
  const files = disk
    ? new DiskHome(disk, config.students)
    : new RemoteHome(
        hub,
        // never the service's token: each student's server gets one of the student's own (lifecycle/remote-home.ts)
        new ContentsClient({ serversUrl: config.students.serversUrl ?? localProxyUrl(config), maxFileBytes: config.participants.workMaxBytes || undefined }),
        config.lifecycle.serverTimeout * 1000,
      );
  // system-users mode: each student's processes in a cgroup of their own (isolation/limits.ts)
  const limits = config.students.mode === 'system-users' ? studentLimits(config) : undefined;
  const jobs = new JobStore(db);
  const verbs = lifecycle({
    limits,
    db,
    config,
    hub,
    host,
    files,
    messenger: letters,
    surveyUrl: (id) => `${links.statusUrl(id)}#feedback`,
    onTokensRevoked: (student) => identities.forgetUser(student),
    apiDb: config.apiDb.url
      ? new ApiDb({ url: config.apiDb.url, username: config.apiDb.username, password: process.env.WOD_API_DB_PASSWORD ?? '', baseStdid: config.apiDb.baseStdid })
      : undefined,
    onJob: () => engine?.kick(),
    directory: isDirectoryConfigured(config.ldap) ? new LdapDirectory(config.ldap, () => readLdapBindPassword(paths.ldapBindPassword, process.env)) : undefined,
    metrics,
  });
  // Warm seats kept at their workshops' targets (lifecycle/warm.ts): after every job, and with the timers.
  const refill = () => {
    if (config.lifecycle.paused) return;
    try {
      if (refillWarm(db, config).length) engine?.kick();
    } catch (e) {
      log.error('warm seats refill failed', { error: (e as Error).message });
    }
  };
  engine = new JobEngine({
    store: jobs,
    plans: verbs.plans,
    log: log.child('jobs'),
    concurrency: config.lifecycle.concurrency,
    isTransient,
    retryPolicy: verbs.retryPolicy,
    onFailed: verbs.gaveUp,
    onDone: refill,
    metrics,
  });

  syncPool(db, config.students.count);
  const importNow = (actor: string) => {
    const report = importCatalog(db, config, actor);
    for (const p of report.problems) log[p.severity === 'error' ? 'error' : 'warn'](formatProblem(p));
    log.info('workshops imported', { inserted: report.inserted.length, updated: report.updated.length, deactivated: report.deactivated.length });
    return report;
  };
  importNow('system');
  // What a working seat costs here (capacity/meter.ts): sampled once a minute, cheaply, from /proc.
  const capacity = new CapacityMeter({
    db,
    file: paths.capacity,
    source:
      config.students.mode === 'system-users'
        ? { mode: 'system-users', uidBase: config.students.uidBase, count: config.students.count }
        : { mode: 'local', hubApiUrl: hubEnv.apiUrl, count: config.students.count },
  });
  const measure = () => {
    try {
      capacity.sample();
    } catch (e) {
      log.warn('capacity sample failed', { error: (e as Error).message });
    }
  };
  measure();
  const measuring = setInterval(measure, CAPACITY_SAMPLE_SECONDS * 1000);
  const deps: WebDeps = {
    config,
    db,
    registrations,
    desk: new RegistrationDesk(registrations, config.registration, config.registration, Date.now, metrics),
    sealer,
    auth,
    hubProbe,
    importCatalog: importNow,
    onJobs: () => engine?.kick(),
    mailer,
    letters,
    log,
    capacity,
    languages,
    locations: { peers, health, router, seatsOf: seatsEverywhere(config, peers, health) },
  };

  // One rule for the client address, for the hub's logins and the service's own rate limits.
  const proxies = new TrustedProxies(config.trustedProxies, { socketHop: !!config.bindSocket, peerIsProxy: config.peerIsProxy });
  const app = createApp({
    prefix: hubEnv.servicePrefix,
    log: log.child('http'),
    metrics,
    proxies,
    language: languageChoice(languages, config.defaultLanguage, config.publicUrl.startsWith('https:')),
    mount: (r) => {
      r.use(healthRouter({ db, hubProbe }));
      r.use(metricsRouter({ metrics, identities, log: log.child('http') }));
      r.use(auth.router);
      r.use(
        '/internal',
        internalRouter({
          secret: readSecretFile(paths.authSecret),
          accounts,
          db,
          sealer,
          log: log.child('login'),
          endGraceSeconds: config.timers.endGraceSeconds,
          proxies,
          metrics,
          siteLimits: config.students.limits,
        }),
      );
      r.use(`/${LOCATION_API}`, locationApiRouter({ peers, seatDesk, mirror, onJobs: () => engine?.kick() }));
      r.use('/api/v1', apiRouter(deps));
      r.use('/admin', adminRouter(deps));
      r.use(portalRouter(deps));
    },
  });

  if (isDirectoryConfigured(config.ldap)) {
    // said at start rather than at the first `ldap: true` CREATE; the message never holds the password
    try {
      readLdapBindPassword(paths.ldapBindPassword, process.env);
    } catch (e) {
      log.warn(`LDAP directory: ${(e as Error).message}`);
    }
    if (config.ldap.url!.startsWith('ldap://') && !config.ldap.startTls) {
      log.warn("LDAP directory: ldap:// without ldap.startTls sends the bind password and the students' passwords in clear on the network; use ldaps:// or set ldap.startTls");
    }
  }
  if (limits?.unavailable) log.warn(`per-student limits: ${limits.unavailable}`);
  else if (limits) {
    log.info(`per-student limits: ${limits.describe()}`);
    // before the reconciler starts a seated student's server again: their group, with their workshop's limits
    try {
      const restored = restoreLimits(db, limits);
      if (restored) log.info(`per-student limits: the groups of ${restored} seated student(s) made again`);
    } catch (e) {
      log.warn(`per-student limits: the seated students' groups could not be made again: ${(e as Error).message}`);
    }
  } else if (config.students.mode === 'remote') log.info("per-student limits: none from wod in remote mode: they are the spawner's to set");
  else log.info('per-student limits: none in local mode (every student is one account): use students.mode system-users');
  if (config.lifecycle.paused) log.warn('lifecycle paused (lifecycle.paused): jobs are queued, not run');
  else engine.start();
  // The clock is the service's: reminders, deadlines (CLEANUP) and the deployment watchdog.
  const timers = new Timers(db, registrations, letters, { ...config.timers, paused: config.lifecycle.paused }, () => engine?.kick());
  const sweep = () => {
    try {
      timers.sweep();
    } catch (e) {
      log.error('timers sweep failed', { error: (e as Error).message });
    }
    // archives of participants' work past participants.workDays (work/records.ts): one indexed read when none is due
    try {
      const deleted = sweepArchives(db);
      if (deleted) log.info('expired work archives deleted', { deleted });
    } catch (e) {
      log.error('work archives sweep failed', { error: (e as Error).message });
    }
    refill();
  };
  sweep();
  const deadlines = setInterval(sweep, 5_000);
  // Personal data past participants.retentionDays is erased (participants/retention.ts): hourly is soon enough for days.
  const retain = () => {
    try {
      const { erased, skipped, left, warning } = eraseExpired(db, { retentionDays: config.participants.retentionDays, outboxDir: paths.outbox });
      if (erased || skipped) log.info('participants past their retention erased', { erased, skipped, left, retentionDays: config.participants.retentionDays });
      if (warning) log.warn('participants retention sweep', { warning });
    } catch (e) {
      log.error('participants retention sweep failed', { error: (e as Error).message });
    }
  };
  // the first sweep runs once the server listens (below): a batch of erasures must not delay it
  const retaining = setInterval(retain, RETENTION_SWEEP_MS);
  // Servers that died under a running registration are started again (lifecycle/reconcile.ts).
  const reconciler = new ServerReconciler({
    db,
    hub,
    log: log.child('servers'),
    intervalSeconds: config.timers.reconcileSeconds,
    attempts: config.timers.serverRestartAttempts,
    paused: config.lifecycle.paused,
    serverTimeoutSeconds: config.lifecycle.serverTimeout,
    concurrency: config.lifecycle.concurrency,
  });
  const reconcile = () => void reconciler.sweep().catch((e: Error) => log.error('servers reconcile failed', { error: e.message }));
  reconcile();
  const reconciling = setInterval(reconcile, config.timers.reconcileSeconds * 1000);
  mailer.start();
  if (peers.backends().length) {
    health.start();
    router.start();
    locationLog.info(
      `routing registrations to ${peers
        .backends()
        .map((p) => `${p.name} (${p.url})`)
        .join(', ')}`,
    );
  }
  if (config.locations.portals.length) portalUpdates.start();
  // Miners, CPU burners and kernels older than their workshop are stopped (watchdog/watchdog.ts).
  const watchdog = new Watchdog({ db, config, hubApiUrl: hubEnv.apiUrl, mailer, log: log.child('watchdog') });
  // remote mode: the students' processes are not on this machine; watching them is the spawner's job
  if (config.watchdog.enabled && config.students.mode === 'remote') log.info("process watchdog: off in remote mode (the students' processes are the spawner's)");
  else if (config.watchdog.enabled) watchdog.start();

  const mailApi = config.mailApi.enabled
    ? createMailApi({
        config: config.mailApi,
        poolSize: config.students.count,
        db,
        log: log.child('mail-in'),
        onJobs: () => engine!.kick(),
        // the api-db's participant mails (inventory 4.1), from AUTH or trusted clients only
        relay: mailer,
        password: readMailApiPassword(paths.mailApiPassword).password,
        metrics,
      })
    : null;
  mailApi?.on('error', (e) => log.error('mail API error', { error: e.message }));
  mailApi?.listen(config.mailApi.port, config.mailApi.host, () => log.info('mail API listening', { host: config.mailApi.host, port: config.mailApi.port }));

  const url = new URL(hubEnv.serviceUrl);
  const server: Server = app.listen(Number(url.port), url.hostname, () => {
    log.info(`wod ${VERSION} listening`, { url: hubEnv.serviceUrl, prefix: hubEnv.servicePrefix, mode: config.students.mode });
    retain();
  });
  server.on('error', (e) => {
    log.error('cannot listen', { url: hubEnv.serviceUrl, error: e.message });
    process.exit(1);
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    clearInterval(deadlines);
    clearInterval(reconciling);
    clearInterval(retaining);
    clearInterval(measuring);
    watchdog.stop();
    mailer.stop();
    health.stop();
    router.stop();
    portalUpdates.stop();
    mailApi?.close();
    server.close(() => {
      void engine!.stop().then(() => {
        db.close();
        process.exit(0);
      });
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main();
