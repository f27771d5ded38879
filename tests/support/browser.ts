/**
 * A cookie-keeping HTTP client that follows redirects by hand, enough to walk the hub's real login
 * form and the OAuth dance the way a browser does. It speaks node:http rather than fetch: fetch
 * always says `Sec-Fetch-Mode: cors`, and JupyterHub's servers rightly refuse cookies on such
 * requests without an XSRF token; a browser loading a page says `navigate`.
 */
import http from 'node:http';

interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

function send(url: URL, method: string, headers: Headers, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // A connection per request: a kept-alive socket the server closed while the test was busy would
    // otherwise fail the next request with "socket hang up".
    const req = http.request(url, { method, headers: Object.fromEntries(headers), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) for (const one of [v ?? []].flat()) h.append(k, one);
        resolve({ status: res.statusCode ?? 0, headers: h, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
export interface Page {
  status: number;
  url: string;
  text: string;
  headers: Headers;
  /** every URL passed through, redirects included */
  trail: string[];
}

/** JupyterLab's page config (`jupyter-config-data`), as a JupyterLab page carries it. */
export function labConfig<T>(page: Page): T {
  const json = page.text.match(/<script id="jupyter-config-data" type="application\/json">([\s\S]*?)<\/script>/)?.[1];
  if (!json) throw new Error(`no JupyterLab page config at ${page.url} (HTTP ${page.status})`);
  return JSON.parse(json) as T;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
  raw: string;
}

export class Browser {
  readonly cookies: Cookie[] = [];

  constructor(readonly base: string) {}

  cookieHeader(url: URL): string {
    return this.cookies
      .filter((c) => url.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  cookie(name: string): Cookie | undefined {
    return this.cookies.find((c) => c.name === name);
  }

  private store(res: { headers: Headers }): void {
    for (const raw of res.headers.getSetCookie()) {
      const [pair, ...attrs] = raw.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const path = attrs.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expired = /max-age=0|expires=thu, 01 jan 1970/i.test(raw) || value === '' || value === '""';
      const i = this.cookies.findIndex((c) => c.name === name && c.path === path);
      if (i >= 0) this.cookies.splice(i, 1);
      if (!expired) this.cookies.push({ name, value, path, raw });
    }
  }

  async request(path: string, init: { method?: string; headers?: Record<string, string>; body?: string; follow?: boolean } = {}): Promise<Page> {
    let url = new URL(path, this.base);
    let method = init.method ?? 'GET';
    let body = init.body;
    const trail: string[] = [];
    for (let hops = 0; hops < 20; hops++) {
      trail.push(url.pathname + url.search);
      const headers = new Headers(init.headers);
      const cookie = this.cookieHeader(url);
      if (cookie) headers.set('Cookie', cookie);
      if (!headers.has('Accept')) headers.set('Accept', 'text/html,application/xhtml+xml');
      // What a browser says of a page load; JupyterHub's servers trust a cookie only on such requests.
      if (method === 'GET' && !headers.has('Sec-Fetch-Mode')) {
        headers.set('Sec-Fetch-Mode', 'navigate');
        headers.set('Sec-Fetch-Dest', 'document');
      }
      if (body !== undefined) headers.set('Content-Length', String(Buffer.byteLength(body)));
      const res = await send(url, method, headers, body);
      this.store(res);
      const location = res.headers.get('location');
      if (init.follow === false || res.status < 300 || res.status >= 400 || !location) {
        return { status: res.status, url: url.toString(), text: res.text, headers: res.headers, trail };
      }
      url = new URL(location, url);
      method = 'GET';
      body = undefined;
    }
    throw new Error(`too many redirects from ${path}: ${trail.join(' -> ')}`);
  }

  /** Logs in through the hub's own login form (with its XSRF token), as a person would. */
  async hubLogin(username: string, password: string, next = ''): Promise<Page> {
    const form = await this.request(`/hub/login${next ? `?next=${encodeURIComponent(next)}` : ''}`);
    const xsrf = form.text.match(/name="_xsrf" value="([^"]+)"/)?.[1];
    if (!xsrf) throw new Error(`no _xsrf field in the hub login form (HTTP ${form.status})`);
    return this.request(new URL(form.url).pathname + new URL(form.url).search, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _xsrf: xsrf, username, password }).toString(),
    });
  }

  /** A hub API token of the logged-in user, made through the hub's REST API with the login cookie. */
  async hubToken(username: string, scopes?: string[]): Promise<string> {
    const xsrf = this.cookie('_xsrf')?.value;
    const res = await this.request(`/hub/api/users/${username}/tokens`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-XSRFToken': xsrf ?? '', Accept: 'application/json' },
      body: JSON.stringify({ note: 'wod tests', expires_in: 3600, ...(scopes ? { scopes } : {}) }),
    });
    if (res.status !== 201) throw new Error(`token request failed: HTTP ${res.status} ${res.text}`);
    return (JSON.parse(res.text) as { token: string }).token;
  }
}
