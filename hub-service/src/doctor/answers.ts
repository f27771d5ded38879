/**
 * The doctor's judgements on what the hub, its proxy, the service, the relay and the mail API
 * answered (or why they did not): pure functions of the probes' replies (probes.ts).
 */
import { VERSION } from '../version.js';
import { type Check, fail, ok, warn } from './check.js';

/** An HTTP answer, or why none came: a system error code (ECONNREFUSED) or TIMEOUT. */
export type HttpReply = { status: number; body: string; dateMs: number | null } | { error: string };
/** An SMTP server's first line, or why none came. */
export type GreetingReply = { line: string } | { error: string };

export const TIMEOUT = 'TIMEOUT';

/** "cannot connect to 127.0.0.1:2525 (ECONNREFUSED)", "no answer from … within 3 s". */
export function unreachable(where: string, error: string, timeoutMs: number): string {
  return error === TIMEOUT ? `no answer from ${where} within ${timeoutMs / 1000} s` : `cannot connect to ${where} (${error})`;
}

const hostPort = (url: string) => new URL(url).host;

function json(body: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(body);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const START = 'start wod (npm start, npx wod start, or its service unit) and read its log for why it stopped';

/** GET {hub api}/: the hub's version, no token needed. */
export function evaluateHub(apiUrl: string, r: HttpReply, timeoutMs: number): Check {
  if ('error' in r) return fail('hub', unreachable(hostPort(apiUrl), r.error, timeoutMs), `${START}; the hub API port is hub.apiPort`);
  const version = json(r.body)?.version;
  if (r.status !== 200 || typeof version !== 'string')
    return fail('hub', `${apiUrl}/ answered HTTP ${r.status}, not the hub's version`, `is another program on hub.apiPort? ${START}`);
  return ok('hub', `JupyterHub ${version} answers at ${apiUrl}`);
}

/** GET {public}/hub/health: the proxy listens and routes to the hub. */
export function evaluateProxy(publicUrl: string, r: HttpReply, timeoutMs: number): Check {
  if ('error' in r) return fail('proxy', unreachable(hostPort(publicUrl), r.error, timeoutMs), `the hub starts its proxy: ${START}; its port is port (bindIp)`);
  if (r.status !== 200) return fail('proxy', `${publicUrl}/hub/health answered HTTP ${r.status}: the proxy does not reach the hub`, START);
  return ok('proxy', `${publicUrl} routes to the hub`);
}

/** GET {public}/services/wod/health through the proxy (web/health.ts). */
export function evaluateService(healthUrl: string, r: HttpReply, timeoutMs: number): Check {
  const restart = 'the hub starts the service and restarts it when it exits: read its lines in the hub log, then restart wod';
  if ('error' in r) return fail('service', unreachable(hostPort(healthUrl), r.error, timeoutMs), restart);
  const health = json(r.body);
  if (r.status !== 200 || health?.status !== 'ok') {
    const database = health?.database as { error?: string } | undefined;
    return fail('service', `${healthUrl} answered HTTP ${r.status}${database?.error ? `: database: ${database.error}` : ''}`, restart);
  }
  const version = typeof health.version === 'string' ? health.version : '?';
  if (version !== VERSION) return warn('service', `wod ${version} answers at ${healthUrl}, this command is wod ${VERSION}`, 'restart wod to run the version installed');
  return ok('service', `wod ${version} answers at ${healthUrl}`);
}

/** An SMTP server (the relay, the mail API) greets with 220. */
export function evaluateGreeting(name: string, where: string, r: GreetingReply, timeoutMs: number, fix: string): Check {
  if ('error' in r) return fail(name, unreachable(where, r.error, timeoutMs), fix);
  if (!r.line.startsWith('220')) return fail(name, `${where} greets with "${r.line}", not 220`, fix);
  return ok(name, `${where} answers: ${r.line}`);
}

/** The outbox transport: wod can write its folder (or where it will be made). */
export function evaluateOutbox(outbox: string, r: { at: string; error: string | null }): Check {
  if (r.error) return fail('outbox', `cannot write in ${r.at} (${r.error})`, "make it writable by wod's user, or free space on its filesystem");
  return ok('outbox', r.at === outbox ? `${outbox} is writable` : `${r.at} is writable (the outbox ${outbox} is made at the first mail)`);
}
