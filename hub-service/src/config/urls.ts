/**
 * Where wod is reached. The hub serves a service named `wod` at /services/wod/ (the name is
 * declared in spawner-config/jupyterhub_config.py, which reads it from `wod prepare --json`).
 */
import type { WodConfig } from './schema.js';

export const SERVICE_NAME = 'wod';
export const SERVICE_PREFIX = `/services/${SERVICE_NAME}/`;

/** The portal as people reach it, e.g. https://workshops.example.org/services/wod/ */
export const portalUrl = (config: Pick<WodConfig, 'publicUrl'>): string => `${config.publicUrl}${SERVICE_PREFIX}`;

/**
 * The hub's proxy as a process of this host reaches it: its Unix socket when bindSocket is set
 * (`http+unix://%2Frun%2Fwod%2Fpublic.sock`, JupyterHub's spelling; network/local-get.ts reads it),
 * else its TCP address, a wildcard listening address meaning loopback.
 */
export const localProxyUrl = (config: Pick<WodConfig, 'bindIp' | 'port' | 'bindSocket'>): string =>
  config.bindSocket ? `http+unix://${encodeURIComponent(config.bindSocket)}` : `http://${config.bindIp === '0.0.0.0' ? '127.0.0.1' : config.bindIp}:${config.port}`;

/** The hub's REST API, on loopback only (hub_ip in spawner-config/jupyterhub_config.py). */
export const hubApiUrl = (config: Pick<WodConfig, 'hub'>): string => `http://127.0.0.1:${config.hub.apiPort}/hub/api`;

/** The public URL of the hub where a registration's seat is: a backend's (locations), or this one's. */
export const hubUrlFor = (config: Pick<WodConfig, 'publicUrl' | 'locations'>, location: string | null): string =>
  (location && config.locations.backends.find((b) => b.name === location)?.url) || config.publicUrl;
