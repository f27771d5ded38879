/**
 * A student's files through their own Jupyter server: the contents API (`/user/<name>/api/contents/…`,
 * jupyter_server's), reached through the hub's proxy. The server is the participant's, not trusted:
 * it is called only with a token granted for that student (`grant`, a token of the student's own for
 * their server only, lifecycle/remote-home.ts), never the service's; its paths are built from the
 * names it lists, each checked (`apiPath`); its answers are read up to a cap. A failure is a
 * HubApiError, so that a server answering 5xx or not at all is retried as the hub is
 * (lifecycle/steps.ts isTransient).
 */
import { HubApiError } from './client.js';

export type ContentsType = 'directory' | 'file' | 'notebook';

/** A contents model without its content (a listing's entries); its path is the folder listed plus its name (`childPath`). */
export interface ContentsEntry {
  name: string;
  type: ContentsType;
  /** bytes of a file; null for a folder */
  size: number | null;
}

export interface ContentsClientOptions {
  /** the hub's proxy as the service reaches it, e.g. http://127.0.0.1:8000 */
  serversUrl: string;
  timeoutMs?: number;
  /** the largest file it reads (participants.workMaxBytes): an answer past its base64 model is cut off */
  maxFileBytes?: number;
}

/** A listing's answer read at most: a folder of many thousand entries. */
const MAX_LISTING_BYTES = 16 * 1024 * 1024;
/** A file model's JSON around its base64 content. */
const MODEL_MARGIN_BYTES = 64 * 1024;

/** A name a folder may hold: not empty, not `.` or `..`, no `/`, `\\` or NUL (a backslash is a path to unzip tools and some proxies). */
export const isPlainName = (name: string): boolean => name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);

/** An API path from the home ('' is the home), each part escaped; a part that could leave the home (`..`, empty, …) is refused. */
export function apiPath(p: string): string {
  if (p === '') return '';
  const parts = p.split('/');
  if (!parts.every(isPlainName)) throw new Error(`not a path inside a home: ${JSON.stringify(p)}`);
  return parts.map(encodeURIComponent).join('/');
}

/** The path of `name` in folder `dir`, refused when the name is not a plain one (a server listing `..`). */
export function childPath(dir: string, name: string): string {
  if (!isPlainName(name)) throw new Error(`a listing of ${JSON.stringify(dir)} holds the name ${JSON.stringify(name)}`);
  return dir ? `${dir}/${name}` : name;
}

export class ContentsClient {
  private readonly base: string;
  /** the token each student's server is called with, granted for a step */
  private readonly tokens = new Map<string, string>();
  constructor(private readonly options: ContentsClientOptions) {
    this.base = options.serversUrl.replace(/\/$/, '');
  }

  /** From now on, the student's server is called with this token (and only it). */
  grant(student: string, token: string): void {
    this.tokens.set(student, token);
  }

  forget(student: string): void {
    this.tokens.delete(student);
  }

  /** The entries of a folder (hidden ones too when the server allows them); null when there is no such folder. */
  async list(student: string, dir: string): Promise<ContentsEntry[] | null> {
    const res = await this.call(student, 'GET', dir, '?content=1', undefined, [404], MAX_LISTING_BYTES);
    if (res.status === 404) return null;
    const model = res.body as { type?: unknown; content?: unknown } | null;
    if (model?.type !== 'directory' || !Array.isArray(model.content)) throw new HubApiError('GET', this.where(student, dir), 400, 'is not a folder');
    return (model.content as ContentsEntry[]).map((e) => ({ name: String(e.name), type: e.type, size: typeof e.size === 'number' ? e.size : null }));
  }

  /**
   * A file's bytes as they are on disk (a notebook too: asked as a file, never re-serialised); null
   * when it is not there. `size`, the size it was listed with: an answer longer than that file's
   * base64 model would be is cut off and refused, as is one past maxFileBytes.
   */
  async read(student: string, file: string, size?: number): Promise<Buffer | null> {
    const cap = Math.ceil((Math.min(size ?? Infinity, this.options.maxFileBytes ?? Infinity) * 4) / 3) + MODEL_MARGIN_BYTES;
    const res = await this.call(student, 'GET', file, '?type=file&format=base64&content=1', undefined, [404], cap);
    if (res.status === 404) return null;
    const content = (res.body as { content?: unknown } | null)?.content;
    if (typeof content !== 'string') throw new HubApiError('GET', this.where(student, file), 400, 'is not a file');
    return Buffer.from(content, 'base64');
  }

  async makeFolder(student: string, dir: string): Promise<void> {
    await this.call(student, 'PUT', dir, '', { type: 'directory' });
  }

  /**
   * Writes a file exactly: UTF-8 text as text, anything else as base64, and a notebook as a file
   * too, so that the server stores the bytes given rather than its own serialisation of them.
   */
  async write(student: string, file: string, bytes: Buffer): Promise<void> {
    const text = utf8(bytes);
    await this.call(
      student,
      'PUT',
      file,
      '',
      text === null ? { type: 'file', format: 'base64', content: bytes.toString('base64') } : { type: 'file', format: 'text', content: text },
    );
  }

  /** Deletes a file or a folder with all it holds (the server's FileContentsManager.always_delete_dir, no trash). */
  async remove(student: string, p: string): Promise<void> {
    await this.call(student, 'DELETE', p, '', undefined, [404]);
  }

  private where(student: string, p: string): string {
    return `/user/${encodeURIComponent(student)}/api/contents/${apiPath(p)}`;
  }

  private async call(
    student: string,
    method: string,
    p: string,
    query: string,
    body?: unknown,
    accept: number[] = [],
    maxBytes = MAX_LISTING_BYTES,
  ): Promise<{ status: number; body: unknown }> {
    const where = this.where(student, p);
    const token = this.tokens.get(student);
    if (!token) throw new Error(`no token granted for the server of ${student}`);
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.base}${where}${query}`, {
        method,
        headers: { Authorization: `token ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        // a server's own redirect (to a login page) is a refusal here, not a page to follow
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
      text = await readCapped(res, maxBytes);
    } catch (e) {
      if (e instanceof HubApiError) throw new HubApiError(method, where, e.status, e.hubMessage);
      throw new HubApiError(method, where, 0, ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message);
    }
    if (res.ok || accept.includes(res.status)) {
      try {
        return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
      } catch {
        throw new HubApiError(method, where, res.status, 'the answer is not JSON');
      }
    }
    let message = text.slice(0, 200);
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      /* not JSON: the text itself */
    }
    throw new HubApiError(method, where, res.status, message);
  }
}

/** A response's body as text, read as a stream and given up (the request aborted) past `maxBytes`. */
async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  const reader = res.body?.getReader();
  for (let r = await reader?.read(); reader && r && !r.done; r = await reader.read()) {
    length += r.value.length;
    if (length > maxBytes) {
      await reader.cancel();
      // 400, not 5xx: the same answer would come again, it is not worth a retry
      throw new HubApiError('GET', '', 400, `the answer is longer than ${maxBytes} bytes`);
    }
    chunks.push(Buffer.from(r.value));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The text of valid UTF-8 bytes, else null. */
function utf8(bytes: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}
