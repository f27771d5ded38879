import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { othersCanReach, studentsRunAs } from '../isolation/student-side.js';
import { configSchema, type WodConfig } from './schema.js';

export class ConfigError extends Error {}

/** hub-service/dist/config → the checkout root. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

/** `hub.apiPort` → `WOD_HUB_API_PORT`. */
export function envName(keyPath: string[]): string {
  return ['WOD', ...keyPath.map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2'))].join('_').toUpperCase();
}

/** Every leaf of the schema with its environment variable, in schema order. */
export function configKeys(): { path: string[]; env: string }[] {
  const keys: { path: string[]; env: string }[] = [];
  const walk = (shape: Record<string, z.ZodType>, prefix: string[]) => {
    for (const [key, type] of Object.entries(shape)) {
      const inner = unwrap(type);
      if (inner instanceof z.ZodObject) walk(inner.shape as Record<string, z.ZodType>, [...prefix, key]);
      else keys.push({ path: [...prefix, key], env: envName([...prefix, key]) });
    }
  };
  walk(configSchema.shape, []);
  return keys;
}

function unwrap(type: z.ZodType): z.ZodType {
  let t: z.ZodType = type;
  while (t instanceof z.ZodDefault || t instanceof z.ZodPrefault || t instanceof z.ZodOptional) {
    t = (t as z.ZodDefault<z.ZodType>).unwrap() as z.ZodType;
  }
  return t;
}

function leafType(keyPath: string[]): z.ZodType {
  let t: z.ZodType = configSchema;
  for (const k of keyPath) t = (unwrap(t) as z.ZodObject).shape[k] as z.ZodType;
  return unwrap(t);
}

/** An environment value: JSON for lists of objects and mappings, `a, b` → ['a', 'b'] for lists. */
function parseEnvValue(name: string, value: string, type: z.ZodType): unknown {
  const structured = type instanceof z.ZodArray || type instanceof z.ZodRecord;
  if (structured && /^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value);
    } catch (e) {
      throw new ConfigError(`${name} is not valid JSON: ${(e as Error).message}`);
    }
  }
  return type instanceof z.ZodArray
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : value;
}

function setPath(target: Record<string, unknown>, keyPath: string[], value: unknown): void {
  let node = target;
  for (const k of keyPath.slice(0, -1)) {
    if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keyPath[keyPath.length - 1]] = value;
}

function readYaml(file: string): Record<string, unknown> {
  const text = fs.readFileSync(file, 'utf8');
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0].line;
    throw new ConfigError(`${file}${line ? `:${line}` : ''}: ${e.message.split('\n')[0]}`);
  }
  const value = doc.toJS() ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${file}: the configuration must be a mapping of keys to values`);
  }
  return value as Record<string, unknown>;
}

/**
 * `/student` for system accounts, as the original; else `<dataDir>/homes`, unless students run as
 * another account and a folder above the data folder is private (a clone in /root): then a folder
 * of its own under /var/lib/wod, which every account can reach.
 */
function defaultHomeRoot(students: Parameters<typeof studentsRunAs>[0], dataDir: string): string {
  if (students.mode === 'system-users') return '/student';
  if (studentsRunAs(students).kind === 'self' || othersCanReach(dataDir)) return path.join(dataDir, 'homes');
  return path.join('/var/lib/wod', `homes-${crypto.createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  projectRoot?: string;
}

/**
 * Reads `WOD_CONFIG` (default `<project>/wod.yaml` when it exists), applies the WOD_* environment
 * overrides, validates, and resolves relative paths against the project root.
 */
export function loadConfig(options: LoadOptions = {}): WodConfig {
  const env = options.env ?? process.env;
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const explicit = env.WOD_CONFIG;
  const configFile = explicit ? path.resolve(projectRoot, explicit) : fs.existsSync(path.join(projectRoot, 'wod.yaml')) ? path.join(projectRoot, 'wod.yaml') : null;
  if (explicit && !fs.existsSync(configFile!)) throw new ConfigError(`WOD_CONFIG names ${configFile}, which does not exist`);
  const raw = configFile ? readYaml(configFile) : {};

  for (const { path: keyPath, env: name } of configKeys()) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(raw, keyPath, parseEnvValue(name, value, leafType(keyPath)));
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const where = configFile ?? 'the environment';
    const lines = parsed.error.issues.map((i) => {
      const key = i.path.join('.');
      return `  ${key || '(top level)'} (${envName(i.path.map(String))}): ${i.message}`;
    });
    throw new ConfigError(`invalid configuration in ${where}:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  const dataDir = path.resolve(projectRoot, c.dataDir);
  return {
    ...c,
    projectRoot,
    configFile,
    dataDir,
    publicUrl: (c.publicUrl ?? `http://${c.bindIp === '0.0.0.0' ? '127.0.0.1' : c.bindIp}:${c.port}`).replace(/\/$/, ''),
    workshops: {
      ...c.workshops,
      dir: path.resolve(projectRoot, c.workshops.dir),
      overlayDir: c.workshops.overlayDir && path.resolve(projectRoot, c.workshops.overlayDir),
      overlayScriptsDir: c.workshops.overlayScriptsDir && path.resolve(projectRoot, c.workshops.overlayScriptsDir),
      assetsDir: c.workshops.assetsDir && path.resolve(projectRoot, c.workshops.assetsDir),
      variablesDir: c.workshops.variablesDir && path.resolve(projectRoot, c.workshops.variablesDir),
      vaultPasswordFile: c.workshops.vaultPasswordFile && path.resolve(projectRoot, c.workshops.vaultPasswordFile),
    },
    ldap: { ...c.ldap, caFile: c.ldap.caFile && path.resolve(projectRoot, c.ldap.caFile) },
    students: {
      ...c.students,
      homeRoot: path.resolve(projectRoot, c.students.homeRoot ?? defaultHomeRoot(c.students, dataDir)),
    },
  };
}
