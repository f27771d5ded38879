/**
 * External api-db mode: after each verb, tell the WoD api-db that ordered it what happened, with
 * exactly the REST calls the original backend makes (POST /login for a token sent as
 * x-access-token, then PUT /student/:id, /customer/:id, /workshop/:id). Any failure is passing: the
 * job step is retried until the api-db accepts.
 *
 * The original's tokens live 180 seconds (inventory B4: its own backend's last callbacks of a long
 * CREATE, RESET or PURGE failed with 401). A token is therefore used only while its JWT `exp` is
 * more than a margin ahead (TOKEN_MARGIN_MS, or a quarter of its lifetime if shorter), and an answer saying it is missing or expired (its verifyToken
 * gives 403 "No token provided!" or 401 "Unauthorized!") brings one fresh login and the call again.
 */
import { TransientError } from '../jobs/engine.js';

export interface ApiDbConfig {
  url: string;
  username: string;
  password: string;
  baseStdid: number;
}

export interface VerbReport {
  verb: 'CREATE' | 'CLEANUP' | 'RESET' | 'PURGE';
  stdid: number;
  participantId: string | null;
  workshop: string;
  password?: string;
  /** 0..1 */
  completion?: number | null;
  /** the workshop keeps its students until RESET */
  reset?: boolean;
  /** RESET of a range: restore the workshop's capacity to the range size */
  rangeSize?: number;
}

/** A token expiring sooner than this is replaced before a call. */
export const TOKEN_MARGIN_MS = 15_000;

/**
 * When to log in again before using a JWT (ms since the epoch), read unverified from its `exp`
 * (and `iat`): a margin before it expires; null when it says nothing (then only a 401 or 403 tells).
 */
export function renewalTime(token: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown; iat?: unknown };
    if (typeof payload.exp !== 'number') return null;
    const lifetimeMs = typeof payload.iat === 'number' ? (payload.exp - payload.iat) * 1000 : Infinity;
    return payload.exp * 1000 - Math.min(TOKEN_MARGIN_MS, lifetimeMs / 4);
  } catch {
    return null;
  }
}

export class ApiDb {
  private token: string | null = null;
  private renewAt: number | null = null;

  constructor(
    private readonly c: ApiDbConfig,
    private readonly now: () => number = Date.now,
  ) {}

  private async call(method: string, path: string, body?: unknown, retried = false): Promise<unknown> {
    const url = `${this.c.url.replace(/\/$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { 'Content-Type': 'application/json', ...(this.token && path !== '/login' ? { 'x-access-token': this.token } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (e) {
      throw new TransientError(`api-db ${method} ${path}: ${(e as Error).message}`);
    }
    // Expired (401) or not taken (403): log in again, once.
    if ((res.status === 401 || res.status === 403) && path !== '/login' && !retried) {
      await res.text().catch(() => '');
      await this.login();
      return this.call(method, path, body, true);
    }
    const text = await res.text();
    if (!res.ok) throw new TransientError(`api-db ${method} ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : null;
  }

  private async login(): Promise<void> {
    this.token = null;
    this.renewAt = null;
    const r = (await this.call('POST', '/login', { username: this.c.username, password: this.c.password })) as { accessToken?: string };
    if (!r?.accessToken) throw new TransientError('api-db login gave no accessToken');
    this.token = r.accessToken;
    this.renewAt = renewalTime(r.accessToken);
  }

  private async ensureToken(): Promise<void> {
    if (!this.token || (this.renewAt !== null && this.now() >= this.renewAt)) await this.login();
  }

  private async workshopId(folder: string): Promise<number> {
    const list = (await this.call('GET', '/workshops')) as { id: number; notebook: string }[];
    const w = list.find((x) => x.notebook === folder);
    if (!w) throw new TransientError(`api-db knows no workshop ${folder}`);
    return w.id;
  }

  async report(r: VerbReport): Promise<string[]> {
    await this.ensureToken();
    const student = `/student/${r.stdid + this.c.baseStdid}`;
    const customer = r.participantId ? `/customer/${r.participantId}` : null;
    const calls: [string, string, unknown][] = [];
    switch (r.verb) {
      case 'CREATE':
        calls.push(['PUT', student, { password: r.password }]);
        if (customer) calls.push(['PUT', customer, { active: 'true' }]);
        break;
      case 'CLEANUP':
        if (r.password) calls.push(['PUT', student, { password: r.password }]);
        if (customer) calls.push(['PUT', customer, { completionPercentage: String(Math.round((r.completion ?? 0) * 100)) }]);
        if (r.reset) {
          calls.push(['PUT', student, { assigned: 'true' }]);
          if (customer) calls.push(['PUT', customer, { active: 'false' }]);
        } else {
          calls.push(['PUT', student, { assigned: 'false' }]);
        }
        if (customer) calls.push(['PUT', customer, { cleaned: 'true' }]);
        break;
      case 'RESET':
        if (r.rangeSize) calls.push(['PUT', `/workshop/${await this.workshopId(r.workshop)}`, { capacity: String(r.rangeSize) }]);
        calls.push(['PUT', student, { assigned: 'false' }]);
        break;
      case 'PURGE':
        calls.push(['PUT', student, { assigned: 'false', password: r.password }]);
        break;
    }
    for (const [method, path, body] of calls) {
      await this.ensureToken();
      await this.call(method, path, body);
    }
    return calls.map(([m, p]) => `${m} ${p}`);
  }
}
