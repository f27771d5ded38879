/**
 * One GET to a server of this host, over TCP (`http://…`) or a Unix socket (`http+unix://<quoted
 * path>/…`, JupyterHub's spelling, as config/urls.ts writes the hub's public side when bindSocket
 * is set): `wod start`'s health wait and `wod doctor`'s probes reach the proxy the same way.
 */
import http from 'node:http';

export interface LocalAnswer {
  status: number;
  body: string;
  /** the Date header, if any */
  date: string | null;
}

/** Rejects with the system's error (err.code: ECONNREFUSED, EACCES…), or an AbortError whose cause is a TimeoutError. */
export function localGet(url: string, timeoutMs: number): Promise<LocalAnswer> {
  const u = new URL(url);
  const socketPath = u.protocol === 'http+unix:' ? decodeURIComponent(u.hostname) : undefined;
  const common = { method: 'GET', agent: false, signal: AbortSignal.timeout(timeoutMs) } as const;
  return new Promise((resolve, reject) => {
    const answer = (res: http.IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, date: res.headers.date ?? null }));
      res.on('error', reject);
    };
    // Through a socket there is no host to name: the proxy routes by path alone.
    const req = socketPath ? http.request({ ...common, socketPath, path: `${u.pathname}${u.search}`, headers: { host: 'localhost' } }, answer) : http.request(u, common, answer);
    req.on('error', reject);
    req.end();
  });
}
