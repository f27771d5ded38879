/**
 * Where wod is reached. The hub serves a service named `wod` at /services/wod/ (the name is
 * declared in spawner-config/jupyterhub_config.py, which reads it from `wod prepare --json`).
 */
import type { WodConfig } from './schema.js';

export const SERVICE_NAME = 'wod';
export const SERVICE_PREFIX = `/services/${SERVICE_NAME}/`;

/** The portal as people reach it, e.g. https://workshops.example.org/services/wod/ */
export const portalUrl = (config: Pick<WodConfig, 'publicUrl'>): string => `${config.publicUrl}${SERVICE_PREFIX}`;
