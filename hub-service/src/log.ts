/**
 * A small levelled logger writing one line per event to stderr, which JupyterHub passes through to
 * its own output: readable text, or JSON lines (`log.format: json`) for a log shipper. Callers never
 * hand it secrets; still, a field named like one is redacted in both formats, and `scrubUrl` is for
 * request URLs.
 */
export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(label: string): Logger;
}

/** The words of a field name that mark its value a secret (`apiToken`, `smtp_password`, `Cookie`), never written. */
const SECRET_WORDS = new Set(['password', 'passwd', 'pass', 'passphrase', 'secret', 'token', 'authorization', 'cookie', 'credential', 'credentials', 'apikey', 'key']);
/** `key` alone is a mail's or a job's idempotency key: secret only as part of `apiKey`, `privateKey`… */
const isSecretKey = (name: string) => {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.some((w, i) => SECRET_WORDS.has(w) && (w !== 'key' || i > 0));
};
export const REDACTED = '[redacted]';
/** Deeper than this, a value is not written at all: nothing unchecked reaches the log. */
const MAX_DEPTH = 5;

export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSecretKey(k) ? REDACTED : redact(v, depth + 1)]));
}

const FORMATS: Record<LogFormat, (at: Level, label: string, msg: string, fields: Record<string, unknown>) => string> = {
  text: (at, label, msg, fields) => {
    const time = new Date().toISOString().replace('T', ' ').replace('Z', '');
    const extra = Object.entries(fields)
      .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join('');
    return `[${at[0].toUpperCase()} ${time} ${label}] ${msg}${extra}`;
  },
  // pino's field names (time, level, name, msg), the level as its word: what jq and log shippers expect
  json: (at, label, msg, fields) => JSON.stringify({ ...fields, time: new Date().toISOString(), level: at, name: label, msg }),
};

export function createLogger(level: Level = 'info', label = 'wod', write: (line: string) => void = (l) => process.stderr.write(l + '\n'), format: LogFormat = 'text'): Logger {
  const emit = (at: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < ORDER[level]) return;
    write(FORMATS[format](at, label, msg, redact(fields ?? {}) as Record<string, unknown>));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (sub) => createLogger(level, `${label}.${sub}`, write, format),
  };
}

/**
 * Secrets in a path: the participant's status link (`/status/<token>`, in the portal and the REST
 * API, and what hangs under it), the "check your mail" ticket (`/registered/<ticket>`) and the
 * download link of their work (`/work/<token>`). spawner-config/wod_logging.py keeps the same list.
 */
const SECRET_SEGMENT = /(\/(?:status|registered|work)\/)[^/?#]+/gi;

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
