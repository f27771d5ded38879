/**
 * The template variables of a deployment, in one place, as the original backend gave them to
 * copy_folder.yml: the backend's own names (WODBEFQDN, ports, URLs, JPHUB, BRANDING…) derived from
 * wod's configuration, then the site's files in the original's private ansible layout
 * (`workshops.variablesDir`: `wod.yml` = /etc/wod.yml, `group_vars/all.yml`, `group_vars/<group>`,
 * `<group>/variables_<WORKSHOP>.yml`), the workshop's own `vars.yml`, the per-student file a hook
 * wrote (`pass/variables_<WORKSHOP>_<STDID>.yml`), what hooks handed over, and last the student's
 * own values, which nothing overrides. `hostvars[inventory_hostname]['IP-WKSHP-X']` resolves
 * against the same values, and a value holding `{{ … }}` is rendered against them, as Ansible does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { passwordInContent, type WorkshopSpec } from '../catalog/spec.js';
import { privateDir } from '../config/paths.js';
import type { WodConfig } from '../config/schema.js';
import { portalUrl } from '../config/urls.js';
import { decryptVault, isVaulted, VaultError } from './ansible-vault.js';
import type { Mode } from '../registrations/registrations.js';
import { renderTemplate, type Variables } from './templating.js';

export class VariablesError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

type SiteConfig = Pick<WodConfig, 'publicUrl' | 'projectRoot' | 'dataDir' | 'workshops' | 'mailApi' | 'apiDb' | 'branding' | 'students' | 'mail'>;

/** The folder hooks write per-student values into (the original's `<WODANSIBLEPRIVDIR>/<WODGROUP>/pass`): wod's, private. */
export function passDir(config: Pick<WodConfig, 'dataDir' | 'workshops'>): string {
  return path.join(privateDir(config), config.workshops.group, 'pass');
}

/** The per-student file of a workshop, as the original's hooks name it. */
export function passFile(config: Pick<WodConfig, 'dataDir' | 'workshops'>, workshop: string, stdid: number): string {
  return path.join(passDir(config), `variables_${workshop}_${stdid}.yml`);
}

/**
 * The password of the site's Ansible Vault: `workshops.vaultPasswordFile`, else the original's
 * `vault_secret` in the variables folder; read only when a vaulted value is met (once per getter:
 * one deployment or lint run), and only from a file no other account can read (participants share
 * this host).
 */
export function vaultPassword(config: Pick<WodConfig, 'workshops'>): () => string {
  let password: string | undefined;
  return () => (password ??= readVaultPassword(config));
}

function readVaultPassword(config: Pick<WodConfig, 'workshops'>): string {
  const file = config.workshops.vaultPasswordFile ?? (config.workshops.variablesDir && path.join(config.workshops.variablesDir, 'vault_secret'));
  const stat = file ? fs.statSync(file, { throwIfNoEntry: false }) : undefined;
  if (!file || !stat)
    throw new VariablesError(file || 'workshops.vaultPasswordFile', 'holds no vault password: values encrypted with Ansible Vault need it (workshops.vaultPasswordFile)');
  if (stat.mode & 0o077) throw new VariablesError(file, 'the vault password must not be readable by other accounts (chmod 600 it)');
  return fs.readFileSync(file, 'utf8').trim();
}

/** A YAML file of variables (null when absent), with its Ansible Vault values (or the whole file) opened. */
export function readVariablesFile(file: string, vault?: () => string): Variables | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const open = (vaulted: string, what: string) => {
    if (!vault) throw new VariablesError(file, `${what} is encrypted with Ansible Vault and no vault password is given`);
    try {
      return decryptVault(vaulted, vault());
    } catch (e) {
      if (e instanceof VaultError) throw new VariablesError(file, `${what}: ${e.message}`);
      throw e;
    }
  };
  if (isVaulted(text)) text = open(text, 'the file');
  let data: unknown;
  try {
    // read as Ansible reads it: YAML 1.1, where yes/no/on/off are true and false
    data = YAML.parse(text, {
      version: '1.1',
      customTags: [{ tag: '!vault', resolve: (value: string) => open(value, 'a !vault value') }],
    });
  } catch (e) {
    if (e instanceof VariablesError) throw e;
    throw new VariablesError(file, (e as Error).message.split('\n')[0]);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new VariablesError(file, 'must be a mapping of names to values');
  return data as Variables;
}

/** The backend's names, meaning what they meant in the original, from wod's configuration. */
export function backendVariables(config: SiteConfig): Variables {
  const hub = new URL(config.publicUrl);
  const portal = new URL(portalUrl(config));
  const proto = (u: URL) => u.protocol.replace(/:$/, '');
  const port = (u: URL) => Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const venv = path.join(config.projectRoot, '.venv');
  const b = config.branding;
  const sender = config.mail.from.match(/<([^>]+)>/)?.[1] ?? config.mail.from;
  return {
    WODBEFQDN: hub.hostname,
    WODBEEXTFQDN: hub.hostname,
    WODBEPORT: port(hub),
    WODBEEXTPORT: port(hub),
    WODBEPROTO: proto(hub),
    WODBEEXTPROTO: proto(hub),
    WODBEAPIURL: config.publicUrl,
    WODFEFQDN: portal.hostname,
    WODFEEXTFQDN: portal.hostname,
    WODFEEXTPORT: port(portal),
    WODFEEXTPROTO: proto(portal),
    WODFEEXTURL: portalUrl(config),
    WODAPIDBEXTURL: config.apiDb.url ?? '',
    WODPOSTPORT: config.mailApi.port,
    WODSENDER: sender,
    WODUSER: os.userInfo().username,
    WODGROUP: config.workshops.group,
    WODUSERMIN: 1,
    WODUSERMAX: config.students.count,
    WODNOBO: config.workshops.dir,
    WODPRIVNOBO: config.workshops.overlayDir ?? '',
    WODSCRIPTDIR: config.workshops.overlayScriptsDir ?? '',
    WODSCRIPTPRIVDIR: config.workshops.overlayScriptsDir ?? '',
    WODANSIBLEPRIVDIR: privateDir(config),
    // the hub's installation, as /opt/jupyterhub was the original's
    JPHUB: fs.existsSync(venv) ? fs.realpathSync(venv) : venv,
    BRANDING: b.name,
    BRANDINGWOD: b.name,
    BRANDINGLOGO: b.logoUrl ?? '',
    BRANDINGURL: config.publicUrl,
    HUB_URL: config.publicUrl,
    PORTAL_URL: portalUrl(config),
    SURVEYURL: config.workshops.surveyUrl,
    SURVEYCHALURL: config.workshops.surveyUrl,
    ...Object.fromEntries(Object.entries(config.workshops.appliances).map(([w, ip]) => [`IP-${w}`, ip])),
    // the original's Ansible facts about the backend it ran on
    ansible_env: { HOME: os.homedir(), USER: os.userInfo().username },
    ansible_distribution: 'Debian',
  };
}

/** What every deployment of this site starts from: the backend's names and the vault's key. */
export function siteBase(config: SiteConfig): Pick<VariableLayers, 'backend' | 'vault'> {
  return { backend: backendVariables(config), vault: vaultPassword(config) };
}

/** The site's files that hold for every workshop, in the original's order of precedence. */
export function siteFiles(config: Pick<WodConfig, 'workshops'>): string[] {
  const dir = config.workshops.variablesDir;
  if (!dir) return [];
  const group = config.workshops.group;
  return [path.join(dir, 'wod.yml'), path.join(dir, 'group_vars', 'all.yml'), path.join(dir, 'group_vars', group), path.join(dir, 'group_vars', `${group}.yml`)];
}

/** The site's file for one workshop (the original's variables_<WORKSHOP>.yml). */
export function workshopFile(config: Pick<WodConfig, 'workshops'>, workshop: string): string | null {
  const dir = config.workshops.variablesDir;
  return dir ? path.join(dir, config.workshops.group, `variables_${workshop}.yml`) : null;
}

export interface StudentValues {
  STDID: number;
  STUDENT: string;
  /** the folder deployed (WKSHP-X) */
  WORKSHOP: string;
  /** the workshop as ordered (CHLG-X in challenge mode) */
  CHALLENGE: string;
  MODEWS: string;
  PASSSTU?: string;
  SURVEYURL?: string;
}

/** The student's own values, by the original's names. */
export function studentValues(o: {
  stdid: number;
  student: string;
  spec: Pick<WorkshopSpec, 'folder' | 'varpass' | 'ldap'>;
  mode: Mode;
  password?: string;
  surveyUrl?: string;
}): StudentValues {
  return {
    STDID: o.stdid,
    STUDENT: o.student,
    WORKSHOP: o.spec.folder,
    CHALLENGE: challengeName(o.spec.folder, o.mode),
    MODEWS: o.mode,
    PASSSTU: passwordInContent(o.spec) ? o.password : undefined,
    SURVEYURL: o.surveyUrl,
  };
}

/** The workshop as ordered: CHLG-X for WKSHP-X in challenge mode (the original names its files after it). */
export const challengeName = (folder: string, mode: Mode): string => (mode === 'CHLG' ? folder.replace(/^WKSHP-/, 'CHLG-') : folder);

export interface VariableLayers {
  backend: Variables;
  /** opens Ansible Vault values (vaultPassword) */
  vault?: () => string;
  /** the files, in order: site, workshop, the workshop's vars.yml, the student's pass file */
  files: string[];
  fromHooks?: Variables;
  student: StudentValues;
}

/**
 * The files of one deployment, in order: the site's, the workshop's (and, in challenge mode, the
 * CHLG- name's, which the original read instead: wod reads both), its vars.yml files, the student's
 * pass file (which the original's hooks name after the workshop as ordered).
 */
export function deploymentFiles(config: Pick<WodConfig, 'workshops' | 'dataDir'>, workshopVars: string[], names: { workshop: string; challenge: string }, stdid: number): string[] {
  const perWorkshop = [...new Set([names.workshop, names.challenge])].map((n) => workshopFile(config, n));
  return [...siteFiles(config), ...perWorkshop, ...workshopVars, passFile(config, names.challenge, stdid)].filter((f): f is string => !!f);
}

/** Every layer merged, `{{ … }}` in values rendered, hostvars and the student's values added. */
export function resolveVariables(l: VariableLayers): Variables {
  const merged: Variables = { ...l.backend };
  for (const file of l.files) Object.assign(merged, readVariablesFile(file, l.vault) ?? {});
  Object.assign(merged, l.fromHooks ?? {});
  Object.assign(merged, definedOnly(l.student), { DIR: '' });
  // Ansible renders a value that refers to others when it is used: a few rounds settle chains.
  for (let round = 0; round < 5; round++) {
    let changed = false;
    for (const [k, v] of Object.entries(merged)) {
      if (typeof v !== 'string' || !/\{[{%]/.test(v)) continue;
      try {
        const next = renderTemplate(v, merged, k);
        if (next !== v) {
          merged[k] = next;
          changed = true;
        }
      } catch {
        // left as it is: the template that uses it names the undefined variable
      }
    }
    if (!changed) break;
  }
  const host = String(merged.WODBEFQDN ?? 'localhost');
  return { ...merged, inventory_hostname: host, hostvars: { [host]: merged } };
}

const definedOnly = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The values a shell can take as its environment (plain names, plain values), for the original's hooks. */
export function asEnvironment(vars: Variables): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && ['string', 'number', 'boolean'].includes(typeof v)) env[k] = String(v);
  }
  return env;
}
