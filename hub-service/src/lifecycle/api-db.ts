/**
 * External api-db mode: after each verb, tell the WoD api-db that ordered it what happened, with
 * exactly the REST calls the original backend makes (POST /login for a token sent as
 * x-access-token, then PUT /student/:id, /customer/:id, /workshop/:id). Any failure is passing: the
 * job step is retried until the api-db accepts.
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

export class ApiDb {
  private token: string | null = null;

  constructor(private readonly c: ApiDbConfig) {}

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
    // The original's tokens live 3 minutes: log in again once.
    if (res.status === 401 && path !== '/login' && !retried) {
      await this.login();
      return this.call(method, path, body, true);
    }
    const text = await res.text();
    if (!res.ok) throw new TransientError(`api-db ${method} ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : null;
  }

  private async login(): Promise<void> {
    this.token = null;
    const r = (await this.call('POST', '/login', { username: this.c.username, password: this.c.password })) as { accessToken?: string };
    if (!r?.accessToken) throw new TransientError('api-db login gave no accessToken');
    this.token = r.accessToken;
  }

  private async workshopId(folder: string): Promise<number> {
    const list = (await this.call('GET', '/workshops')) as { id: number; notebook: string }[];
    const w = list.find((x) => x.notebook === folder);
    if (!w) throw new TransientError(`api-db knows no workshop ${folder}`);
    return w.id;
  }

  async report(r: VerbReport): Promise<string[]> {
    if (!this.token) await this.login();
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
    for (const [method, path, body] of calls) await this.call(method, path, body);
    return calls.map(([m, p]) => `${m} ${p}`);
  }
}
