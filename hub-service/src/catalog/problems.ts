import { oneLine } from '../clean-text.js';
import type { WodConfig } from '../config/schema.js';
import { findCompileScript, findShc, SCRIPT_NAME, SHC_MISSING } from '../content/compile.js';
import { NO_DIRECTORY, NO_DIRECTORY_FIX } from '../lifecycle/directory.js';
import type { WorkshopSpec } from './spec.js';

/** A finding about workshop content: where it is, what is wrong, how to fix it. */
export interface Problem {
  severity: 'error' | 'warning';
  /** the file's path */
  file: string;
  line?: number;
  field?: string;
  message: string;
  fix?: string;
}

/** One line per problem, whatever the file held: an unknown key may carry a line break or a terminal escape. */
export function formatProblem(p: Problem): string {
  const where = `${p.file}${p.line ? `:${p.line}` : ''}`;
  return oneLine(`${where}: ${p.severity}: ${p.field ? `${p.field}: ` : ''}${p.message}${p.fix ? ` (fix: ${p.fix})` : ''}`);
}

/** Where a field was read, for a problem about it. */
export interface At {
  file: string;
  line?: number;
}

/**
 * `ldap: true` needs the site's directory (config `ldap`): without one every CREATE of the
 * workshop would fail. A directory reached over plain LDAP gets a warning: the password would cross
 * the network in clear. Pure.
 */
export function checkLdap(
  spec: Pick<WorkshopSpec, 'folder' | 'ldap'>,
  config: { ldap: Pick<WodConfig['ldap'], 'url' | 'baseDn' | 'startTls'> },
  at: At = { file: `${spec.folder}/wod.yml` },
): Problem[] {
  if (!spec.ldap) return [];
  const { url, baseDn, startTls } = config.ldap;
  if (!url || !baseDn) return [{ severity: 'error', ...at, field: 'ldap', message: `${NO_DIRECTORY}: its CREATE would fail`, fix: NO_DIRECTORY_FIX }];
  if (url.startsWith('ldap://') && !startTls) {
    return [
      {
        severity: 'warning',
        ...at,
        field: 'ldap',
        message: `the directory ${url} is reached without TLS: the bind password and the students' passwords cross the network in clear`,
        fix: 'use ldaps:// or set ldap.startTls',
      },
    ];
  }
  return [];
}

/**
 * `location` and `alternateLocation` name the wods a workshop runs at (locations/placement.ts): on a
 * portal, a name that is neither its locations.name nor one of its backends is passed over (an
 * unknown location runs here, an unknown alternate is skipped), most likely a typo. Said only
 * where registrations are routed (backends configured): elsewhere every workshop runs here,
 * whatever its files name (the original's carry names of their own). Pure.
 */
export function checkLocation(
  spec: Pick<WorkshopSpec, 'location' | 'alternateLocation'>,
  config: { locations: Pick<WodConfig['locations'], 'name' | 'backends'> },
  at: { location: At; alternateLocation: At },
): Problem[] {
  const { name, backends } = config.locations;
  if (!backends.length) return [];
  const known = [...(name ? [name] : []), ...backends.map((b) => b.name)];
  const fix = (n: string) => `correct it to one of ${known.join(', ')}, or add ${n} to locations.backends`;
  const unknown = (n: string | null): n is string => n !== null && !known.includes(n);
  const problems: Problem[] = [];
  if (unknown(spec.location))
    problems.push({
      severity: 'warning',
      ...at.location,
      field: 'location',
      message: `${spec.location} is neither this wod (locations.name) nor one of its backends: the workshop runs here`,
      fix: fix(spec.location),
    });
  for (const alt of spec.alternateLocation.filter(unknown))
    problems.push({
      severity: 'warning',
      ...at.alternateLocation,
      field: 'alternateLocation',
      message: `${alt} is neither this wod (locations.name) nor one of its backends: it is skipped`,
      fix: fix(alt),
    });
  return problems;
}

/**
 * Remote mode (students.mode: remote): the service reaches the homes only through the students'
 * servers, so the compiled binaries it builds on this machine cannot be put into one. Pure.
 */
export function checkRemoteMode(spec: Pick<WorkshopSpec, 'compile'>, config: { students: Pick<WodConfig['students'], 'mode'> }, at: At): Problem[] {
  if (config.students.mode !== 'remote' || !spec.compile.length) return [];
  return [
    {
      severity: 'error',
      ...at,
      field: 'compile',
      message: "compile cannot work in remote mode: the service does not see the students' homes, where the binaries would go",
      fix: 'remove compile (give each student credentials of their own instead), or use students.mode local or system-users',
    },
  ];
}

/**
 * `compile`: every script must be found (in the workshop's folders, then the overlay scripts
 * folder, in `dirs` order) and shc must be installed. A note says what shc is: obfuscation, not
 * encryption. Reads only whether the files exist.
 */
export function checkCompile(spec: Pick<WorkshopSpec, 'folder' | 'compile'>, dirs: string[], at: At = { file: `${spec.folder}/wod.yml` }, shc = findShc()): Problem[] {
  if (!spec.compile.length) return [];
  const problems: Problem[] = [];
  for (const name of spec.compile) {
    if (!SCRIPT_NAME.test(name)) {
      problems.push({ severity: 'error', ...at, field: 'compile', message: `'${name}' is not a script name`, fix: 'give names without a path, e.g. compile: [get-token.sh]' });
    } else if (!findCompileScript(name, dirs)) {
      problems.push({
        severity: 'error',
        ...at,
        field: 'compile',
        message: `${name} is in none of ${dirs.join(', ')}`,
        fix: `add ${name} to the workshop folder, or correct the name`,
      });
    }
  }
  if (!shc) problems.push({ severity: 'error', ...at, field: 'compile', message: SHC_MISSING, fix: 'apt install shc' });
  problems.push({
    severity: 'warning',
    ...at,
    field: 'compile',
    message: 'shc hides a script from casual reading only: it is obfuscation, not encryption, and a participant who wants the values in it can recover them',
    fix: 'give each student credentials of their own, limited to the workshop, rather than shared secrets',
  });
  return problems;
}
