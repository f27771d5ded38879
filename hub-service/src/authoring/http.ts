/** JSON over HTTP with a hub token, for the clients of `wod workshops test`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type Call = <T = unknown>(method: string, url: string, body?: unknown) => Promise<T>;

/** A caller sending `Authorization: token …`; a non-2xx answer throws with the server's message. */
export function tokenCaller(token: string): Call {
  return async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const res = await fetch(url, {
      method,
      // a redirect is the hub's login page: not an answer of the API asked
      redirect: 'manual',
      headers: { Authorization: `token ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) {
      const message = (() => {
        try {
          return (JSON.parse(text) as { message?: string }).message ?? text;
        } catch {
          return text;
        }
      })();
      throw new HttpError(res.status, `${method} ${new URL(url).pathname}: HTTP ${res.status} ${message.slice(0, 300)}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

/** Polls `read` until `ok` holds, every `everyMs`, for at most `timeoutMs`; fails naming `what`. */
export async function waitFor<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs: number, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
