/**
 * A typed client for the JupyterHub REST API, with only the calls wod makes (users, servers,
 * tokens: the scopes of the wod-service role in spawner-config/jupyterhub_config.py), authenticated
 * with the service's token. 429 and 5xx answers and network failures are retried, honouring the
 * hub's Retry-After; anything else becomes a HubApiError that names the call and the hub's message.
 */
import type { Logger } from '../log.js';

export interface HubServer {
  name: string;
  ready: boolean;
  pending: 'spawn' | 'stop' | null;
  stopped?: boolean;
  url: string;
  started: string | null;
  last_activity: string | null;
  progress_url: string;
  /** what it was started with (POST /users/:name/server's user_options) */
  user_options?: Record<string, unknown> | null;
}

export interface HubUser {
  kind?: 'user';
  name: string;
  admin: boolean;
  roles?: string[];
  groups: string[];
  server: string | null;
  pending: string | null;
  last_activity: string | null;
  servers?: Record<string, HubServer>;
}

/** `GET /user` for a token: its owner (a user, or a service for a service's token) plus what the token may do. */
export interface HubIdentity extends Omit<HubUser, 'kind'> {
  kind?: 'user' | 'service';
  scopes: string[];
}

export class HubApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly hubMessage: string,
  ) {
    super(`JupyterHub ${method} ${path} failed: ${status ? `HTTP ${status}` : 'no answer'}${hubMessage ? `: ${hubMessage}` : ''}`);
    this.name = 'HubApiError';
  }
}

export interface HubClientOptions {
  /** `JUPYTERHUB_API_URL`, e.g. http://127.0.0.1:8081/hub/api */
  apiUrl: string;
  /** `JUPYTERHUB_API_TOKEN` */
  token: string;
  /** Further attempts after the first, for 429, 5xx and network failures. */
  retries?: number;
  timeoutMs?: number;
  /** Longest wait between attempts, whatever Retry-After says. */
  maxDelayMs?: number;
  log?: Logger;
  sleep?: (ms: number) => Promise<void>;
}

interface RequestOptions {
  body?: unknown;
  token?: string;
  /** Statuses that are answers, not errors (e.g. 404 for "no such user"). */
  accept?: number[];
  headers?: Record<string, string>;
}

const RETRYABLE = (status: number) => status === 429 || status >= 500;
/** What JupyterHub reads at the top level of a start-server body beside the options (the server's name shown, the options themselves). */
const HUB_BODY_KEYS = ['user_options', 'display_name'];

export class HubClient {
  private readonly apiUrl: string;
  private readonly retries: number;
  private readonly timeoutMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: HubClientOptions) {
    this.apiUrl = options.apiUrl.replace(/\/$/, '');
    this.retries = options.retries ?? 5;
    this.timeoutMs = options.timeoutMs ?? 20_000;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Hub version; needs no token, so it also tells whether the hub answers at all. */
  async info(): Promise<{ version: string }> {
    return (await this.request('GET', '/')).body as { version: string };
  }

  /** Who owns `token` and what it may do (used to identify OAuth users). */
  async identify(token: string): Promise<HubIdentity> {
    return (await this.request('GET', '/user', { token })).body as HubIdentity;
  }

  async listUsers(filter: { state?: 'active' | 'inactive' | 'ready' } = {}): Promise<HubUser[]> {
    const users: HubUser[] = [];
    let offset = 0;
    for (;;) {
      const q = new URLSearchParams({ offset: String(offset), limit: '200', ...(filter.state ? { state: filter.state } : {}) });
      const page = (await this.request('GET', `/users?${q}`, { headers: { Accept: 'application/jupyterhub-pagination+json' } })).body as {
        items: HubUser[];
        _pagination: { next: { offset: number } | null };
      };
      users.push(...page.items);
      if (!page._pagination.next) return users;
      offset = page._pagination.next.offset;
    }
  }

  /** Creates the user, or returns it when it already exists. */
  async ensureUser(name: string): Promise<HubUser> {
    const res = await this.request('POST', `/users/${enc(name)}`, { accept: [409] });
    if (res.status !== 409) return res.body as HubUser;
    const user = await this.getUser(name);
    if (!user) throw new HubApiError('POST', `/users/${name}`, 409, 'reported as existing but not found');
    return user;
  }

  /** Asks the hub to start the user's default server: 'ready' at once, or 'pending' while it spawns. */
  async startServer(name: string, userOptions: Record<string, unknown> = {}): Promise<'ready' | 'pending'> {
    // JupyterHub 6 reads the options from user_options; JupyterHub 5 (Zero to JupyterHub 4.x) takes
    // the whole body as them, so they are also spread beside it: both see `wod_maintenance`. An
    // option named like a key JupyterHub reads from the body itself would be taken for that key.
    const clashing = Object.keys(userOptions).filter((key) => HUB_BODY_KEYS.includes(key));
    if (clashing.length) throw new Error(`start ${name}'s server: ${clashing.join(', ')} cannot be a user option (JupyterHub reads it from the body itself)`);
    const res = await this.request('POST', `/users/${enc(name)}/server`, { body: { ...userOptions, user_options: userOptions } });
    return res.status === 201 ? 'ready' : 'pending';
  }

  async stopServer(name: string): Promise<void> {
    await this.request('DELETE', `/users/${enc(name)}/server`, { accept: [404] });
  }

  async getServer(name: string): Promise<HubServer | null> {
    const user = await this.getUser(name);
    return user?.servers?.[''] ?? null;
  }

  /**
   * Waits until the default server is ready, following the hub's progress stream (one request,
   * no polling of a busy hub), then polling if the stream is not available; fails when the spawn
   * fails or the time is up.
   */
  async waitForServer(name: string, timeoutMs = 60_000, pollMs = 250): Promise<HubServer> {
    const deadline = Date.now() + timeoutMs;
    await this.followProgress(name, timeoutMs);
    for (;;) {
      const server = await this.getServer(name);
      if (server?.ready) return server;
      if (!server || (server.pending === null && !server.ready)) {
        throw new HubApiError('GET', `/users/${name}`, 0, 'the server stopped before it was ready (spawn failed)');
      }
      if (Date.now() > deadline) {
        throw new HubApiError('GET', `/users/${name}`, 0, `the server was not ready after ${timeoutMs / 1000} s`);
      }
      await this.sleep(pollMs);
    }
  }

  /** Reads `/users/:name/server/progress` (server-sent events) until ready or failed. */
  private async followProgress(name: string, timeoutMs: number): Promise<void> {
    const path = `/users/${enc(name)}/server/progress`;
    let res: Response;
    try {
      res = await fetch(this.apiUrl + path, {
        headers: { Authorization: `token ${this.options.token}`, Accept: 'text/event-stream' },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch {
      return; // the polling that follows will tell
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      return; // e.g. 400 "not starting": already ready, or already failed
    }
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5))
            .join('\n');
          buffer = buffer.slice(end + 2);
          if (!data.trim()) continue;
          const event = JSON.parse(data) as { ready?: boolean; failed?: boolean; message?: string };
          if (event.failed) throw new HubApiError('GET', path, 0, event.message ?? 'spawn failed');
          if (event.ready) return;
        }
      }
    } catch (e) {
      if (e instanceof HubApiError) throw e;
    } finally {
      await res.body.cancel().catch(() => {});
    }
  }

  /** Polls until the default server is gone. */
  async waitForStopped(name: string, timeoutMs = 30_000, pollMs = 250): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (await this.getServer(name)) {
      if (Date.now() > deadline) throw new HubApiError('GET', `/users/${name}`, 0, 'the server did not stop in time');
      await this.sleep(pollMs);
    }
  }

  /** Revokes every token of the user (API and OAuth alike); returns how many there were. */
  async revokeAllTokens(name: string): Promise<number> {
    const res = await this.request('GET', `/users/${enc(name)}/tokens`, { accept: [404] });
    const tokens = res.status === 404 ? [] : (res.body as { api_tokens: { id: string }[] }).api_tokens;
    for (const t of tokens) await this.request('DELETE', `/users/${enc(name)}/tokens/${enc(t.id)}`, { accept: [404] });
    return tokens.length;
  }

  /**
   * A token of the user's own that reaches their server only (`access:servers!user=<name>`: no hub
   * API, no other server), expiring in `expiresIn` s: what the service hands a student's server
   * (hub/contents.ts) instead of its own. Needs the `tokens` scope on the user.
   */
  async serverToken(name: string, expiresIn: number, note: string): Promise<{ id: string; token: string }> {
    const res = await this.request('POST', `/users/${enc(name)}/tokens`, { body: { scopes: [`access:servers!user=${name}`], expires_in: expiresIn, note } });
    return res.body as { id: string; token: string };
  }

  async revokeToken(name: string, id: string): Promise<void> {
    await this.request('DELETE', `/users/${enc(name)}/tokens/${enc(id)}`, { accept: [404] });
  }

  /** The user, or null when the hub has none of that name. */
  private async getUser(name: string): Promise<HubUser | null> {
    const res = await this.request('GET', `/users/${enc(name)}`, { accept: [404] });
    return res.status === 404 ? null : (res.body as HubUser);
  }

  private async request(method: string, path: string, opts: RequestOptions = {}): Promise<{ status: number; body: unknown }> {
    const url = this.apiUrl + path;
    for (let attempt = 0; ; attempt++) {
      let status = 0;
      let message: string;
      let retryAfter: string | null = null;
      try {
        const res = await fetch(url, {
          method,
          headers: {
            Authorization: `token ${opts.token ?? this.options.token}`,
            ...(opts.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
            ...opts.headers,
          },
          body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        status = res.status;
        const text = await res.text();
        const body = parseJson(text);
        if (res.ok || opts.accept?.includes(status)) return { status, body };
        message = (body as { message?: string } | null)?.message ?? text.slice(0, 200);
        retryAfter = res.headers.get('retry-after');
        if (!RETRYABLE(status)) throw new HubApiError(method, path, status, message);
      } catch (e) {
        if (e instanceof HubApiError) throw e;
        message = (e as Error).cause ? String(((e as Error).cause as Error).message ?? (e as Error).cause) : (e as Error).message;
      }
      if (attempt >= this.retries) throw new HubApiError(method, path, status, message);
      const delay = Math.min(this.maxDelayMs, retryDelay(retryAfter, attempt));
      this.options.log?.warn('hub API call will be retried', { method, path: path.split('?')[0], status, delayMs: delay, message });
      await this.sleep(delay);
    }
  }
}

const enc = encodeURIComponent;

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** Retry-After in seconds (or an HTTP date), else exponential backoff from 250 ms with jitter. */
export function retryDelay(retryAfter: string | null, attempt: number, now = Date.now()): number {
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return 250 * 2 ** attempt * (0.75 + Math.random() * 0.5);
}
