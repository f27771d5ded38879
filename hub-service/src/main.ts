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
import { adminRouter } from './web/admin.js';
import { createApp } from './web/app.js';
import { healthRouter } from './web/health.js';
import { internalRouter } from './web/internal.js';

function main(): void {
  const config = loadConfig();
  const log = createLogger(config.log.level);
  const hubEnv = readHubEnv(process.env);
  const paths = dataPaths(config);
  const db = openDatabase(paths.database);
  const hub = new HubClient({ apiUrl: hubEnv.apiUrl, token: hubEnv.apiToken, log: log.child('hub') });
  // Health and status pages must answer fast even while the hub is down: no retries there.
  const hubProbe = new HubClient({ apiUrl: hubEnv.apiUrl, token: hubEnv.apiToken, retries: 0, timeoutMs: 2_000 });
  const auth = createHubAuth({
    hub: hubEnv,
    sealer: new Sealer(readSecretFile(paths.sessionKey)),
    identities: new Identities(hub, hubEnv.accessScopes),
    log: log.child('auth'),
  });
  const accounts = new Accounts(db);

  const app = createApp({
    prefix: hubEnv.servicePrefix,
    log: log.child('http'),
    mount: (r) => {
      r.use(healthRouter({ db, hubProbe }));
      r.use(auth.router);
      r.use('/internal', internalRouter({ secret: readSecretFile(paths.authSecret), accounts, log: log.child('login') }));
      r.use('/admin', adminRouter({ auth, config, hubProbe }));
    },
  });

  const url = new URL(hubEnv.serviceUrl);
  const server: Server = app.listen(Number(url.port), url.hostname, () => {
    log.info(`wod ${VERSION} listening`, { url: hubEnv.serviceUrl, prefix: hubEnv.servicePrefix, mode: config.students.mode });
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
    server.close(() => {
      db.close();
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main();
