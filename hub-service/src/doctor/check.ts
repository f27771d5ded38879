/**
 * What `wod doctor` says: one line per check, OK, WARN or FAIL, with the fix when something is
 * wrong. Monitoring reads the exit code (1 when any check fails) or the JSON.
 */
export const STATUSES = ['OK', 'WARN', 'FAIL'] as const;
export type Status = (typeof STATUSES)[number];

export interface Check {
  name: string;
  status: Status;
  detail: string;
  /** what to do about it; only when the status is not OK */
  fix?: string;
}

/** The fix for a missing piece of the data folder. */
export const MADE_AT_START = 'wod start makes it; is dataDir (WOD_DATA_DIR) the folder the service uses?';

export const ok = (name: string, detail: string): Check => ({ name, status: 'OK', detail });
export const warn = (name: string, detail: string, fix: string): Check => ({ name, status: 'WARN', detail, fix });
export const fail = (name: string, detail: string, fix: string): Check => ({ name, status: 'FAIL', detail, fix });

/** The worst status of all: what the run as a whole says. */
export function overall(checks: readonly Check[]): Status {
  return STATUSES[Math.max(0, ...checks.map((c) => STATUSES.indexOf(c.status)))];
}

/** 1 when any check failed, else 0: a warning is worth reading, not worth waking anyone. */
export const exitCode = (checks: readonly Check[]): number => (overall(checks) === 'FAIL' ? 1 : 0);

/** `OK   hub        JupyterHub 6.1.1 answers at …`, aligned, then the summary. */
export function reportLines(checks: readonly Check[]): string[] {
  const width = Math.max(0, ...checks.map((c) => c.name.length));
  const lines = checks.map((c) => `${c.status.padEnd(4)} ${c.name.padEnd(width)} ${c.detail}${c.fix ? `: fix: ${c.fix}` : ''}`);
  const count = (s: Status) => checks.filter((c) => c.status === s).length;
  lines.push(`${overall(checks)}: ${checks.length} checks, ${count('OK')} OK, ${count('WARN')} WARN, ${count('FAIL')} FAIL`);
  return lines;
}
