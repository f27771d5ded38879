import path from 'node:path';
import type { WodConfig } from './schema.js';

/** What the workshops' hooks write per student: the original's ansible-private folder (WODANSIBLEPRIVDIR). */
export const privateDir = (config: Pick<WodConfig, 'dataDir'>) => path.join(config.dataDir, 'private');

/** Where wod keeps each piece of state, all under the data folder. */
export function dataPaths(config: Pick<WodConfig, 'dataDir' | 'projectRoot'>) {
  const secrets = path.join(config.dataDir, 'secrets');
  return {
    database: path.join(config.dataDir, 'wod.sqlite'),
    hubDatabase: path.join(config.dataDir, 'jupyterhub.sqlite'),
    secrets,
    /** Shared by the authenticator shim and the service. */
    authSecret: path.join(secrets, 'auth-secret'),
    /** Seals the service's session cookies. */
    sessionKey: path.join(secrets, 'session-key'),
    /** The mail API's SMTP AUTH password (WOD_MAIL_API_PASSWORD overrides it). */
    mailApiPassword: path.join(secrets, 'mail-api-password'),
    /** The directory's bind password, written by the operator (WOD_LDAP_BIND_PASSWORD overrides it). */
    ldapBindPassword: path.join(secrets, 'ldap-bind-password'),
    /** The api_token of the token-only hub service wod-metrics (read:metrics): scrapes /hub/metrics and /services/wod/metrics. */
    metricsToken: path.join(secrets, 'metrics-token'),
    hubCookieSecret: path.join(secrets, 'jupyterhub_cookie_secret'),
    proxyPid: path.join(config.dataDir, 'jupyterhub-proxy.pid'),
    private: privateDir(config),
    /** Every mail as an .eml file, when mail.transport is outbox. */
    outbox: path.join(config.dataDir, 'outbox'),
    /** Each finished participant's notebooks and files, one zip per registration until it expires (work/archive.ts). */
    work: path.join(config.dataDir, 'work'),
    /** What a working seat costs, as the service last measured it (`wod capacity` reads it). */
    capacity: path.join(config.dataDir, 'capacity.json'),
    venv: path.join(config.projectRoot, '.venv'),
    hubConfig: path.join(config.projectRoot, 'spawner-config', 'jupyterhub_config.py'),
  };
}

export type DataPaths = ReturnType<typeof dataPaths>;
