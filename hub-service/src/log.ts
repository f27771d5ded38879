/**
 * A small levelled logger writing one line per event to stderr, which JupyterHub passes through to
 * its own output. Callers never hand it secrets; `scrubUrl` is for request URLs.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(label: string): Logger;
}

export function createLogger(level: Level = 'info', label = 'wod', write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const emit = (at: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < ORDER[level]) return;
    const time = new Date().toISOString().replace('T', ' ').replace('Z', '');
    const extra = fields
      ? ' ' +
        Object.entries(fields)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ')
      : '';
    write(`[${at[0].toUpperCase()} ${time} ${label}] ${msg}${extra}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (sub) => createLogger(level, `${label}.${sub}`, write),
  };
}

/**
 * Secrets in a path: the participant's status link (`/status/<token>`, in the portal and the REST
 * API, and what hangs under it) and the "check your mail" ticket (`/registered/<ticket>`).
 */
const SECRET_SEGMENT = /(\/(?:status|registered)\/)[^/?#]+/gi;

/**
 * A request URL as it may be logged: secret path segments become `[redacted]`, and of the query
 * (`?token=`, OAuth `code`) only the parameter names are kept, never their values.
 */
export function scrubUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).replace(SECRET_SEGMENT, '$1[redacted]');
  if (q < 0) return path;
  const params = new URLSearchParams(url.slice(q + 1));
  const keys = [...new Set(params.keys())];
  return keys.length ? `${path}?${keys.join('&')}` : path;
}
