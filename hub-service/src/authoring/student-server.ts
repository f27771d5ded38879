/**
 * A participant's JupyterLab, driven the way JupyterLab drives it: notebooks read and saved through
 * the Jupyter server's contents API, a kernel session per notebook (its folder as working directory),
 * code run over the kernel's channels websocket.
 */
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { apiPath } from '../hub/contents.js';
import { type Call, tokenCaller } from './http.js';
import type { Notebook } from './solutions.js';

export interface CellResult {
  ok: boolean;
  /** what the kernel printed or returned, as nbformat outputs */
  outputs: Record<string, unknown>[];
  executionCount: number | null;
  error: { ename: string; evalue: string } | null;
}

export interface KernelSession {
  run(code: string, timeoutMs: number): Promise<CellResult>;
  close(): Promise<void>;
}

export class StudentServer {
  private readonly call: Call;

  /** `base`: the server's URL, e.g. https://wod.example.org/user/student3/ */
  constructor(
    readonly base: string,
    private readonly token: string,
  ) {
    this.call = tokenCaller(token);
  }

  private url(p: string): string {
    return new URL(p.split('/').map(encodeURIComponent).join('/'), this.base).toString();
  }

  /** A contents API URL: the path checked and escaped as the service's own client does it (no `..`). */
  private contents(p: string): string {
    return new URL(`api/contents/${apiPath(p)}`, this.base).toString();
  }

  async list(dir: string): Promise<{ name: string; type: string }[]> {
    return (await this.call<{ content: { name: string; type: string }[] }>('GET', `${this.contents(dir)}?content=1`)).content;
  }

  async read(file: string): Promise<Notebook> {
    return (await this.call<{ content: Notebook }>('GET', `${this.contents(file)}?type=notebook&content=1`)).content;
  }

  async save(file: string, notebook: Notebook): Promise<void> {
    await this.call('PUT', this.contents(file), { type: 'notebook', format: 'json', content: notebook });
  }

  /** A kernel session for the notebook, as JupyterLab opens one: the kernel starts in the notebook's folder. */
  async open(file: string, kernel: string): Promise<KernelSession> {
    const session = await this.call<{ id: string; kernel: { id: string } }>('POST', this.url('api/sessions'), {
      path: file,
      name: file,
      type: 'notebook',
      kernel: { name: kernel },
    });
    const ws = new WebSocket(`${this.url(`api/kernels/${session.kernel.id}/channels`).replace(/^http/, 'ws')}?session_id=${session.id}`, {
      headers: { Authorization: `token ${this.token}` },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const sessionId = crypto.randomUUID();
    return {
      run: (code, timeoutMs) => execute(ws, sessionId, code, timeoutMs),
      close: async () => {
        ws.close();
        await this.call('DELETE', this.url(`api/sessions/${session.id}`)).catch(() => undefined);
      },
    };
  }
}

/** bash_kernel names a failed command with an empty ename and its exit status as the value. */
function named(e: { ename: string; evalue: string }): { ename: string; evalue: string } {
  if (e.ename) return e;
  return { ename: 'Error', evalue: /^\d+$/.test(e.evalue) ? `exit status ${e.evalue}` : e.evalue };
}

interface Message {
  header: { msg_type: string };
  parent_header: { msg_id?: string };
  channel?: string;
  content: Record<string, unknown>;
}

/** One execute_request; done when both the reply (shell) and the idle status (iopub) have come. */
function execute(ws: WebSocket, session: string, code: string, timeoutMs: number): Promise<CellResult> {
  const msgId = crypto.randomUUID();
  return new Promise((resolve, reject) => {
    const outputs: Record<string, unknown>[] = [];
    let error: CellResult['error'] = null;
    let reply: Record<string, unknown> | null = null;
    let idle = false;
    const done = (result: CellResult | Error) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const timer = setTimeout(
      () => done({ ok: false, outputs, executionCount: null, error: { ename: 'Timeout', evalue: `the cell did not finish within ${timeoutMs / 1000} s` } }),
      timeoutMs,
    );
    const onClose = () => done(new Error('the kernel connection closed'));
    const onMessage = (data: WebSocket.RawData) => {
      const m = JSON.parse(data.toString()) as Message;
      if (m.parent_header.msg_id !== msgId) return;
      const c = m.content;
      switch (m.header.msg_type) {
        case 'stream':
          outputs.push({ output_type: 'stream', name: c.name, text: c.text });
          break;
        case 'execute_result':
          outputs.push({ output_type: 'execute_result', data: c.data, metadata: c.metadata ?? {}, execution_count: c.execution_count });
          break;
        case 'display_data':
          outputs.push({ output_type: 'display_data', data: c.data, metadata: c.metadata ?? {} });
          break;
        case 'error':
          error = { ename: String(c.ename), evalue: String(c.evalue) };
          outputs.push({ output_type: 'error', ename: c.ename, evalue: c.evalue, traceback: c.traceback ?? [] });
          break;
        case 'execute_reply':
          reply = c;
          break;
        case 'status':
          if (c.execution_state === 'idle') idle = true;
          break;
      }
      if (reply && idle) {
        const failed = reply.status !== 'ok';
        if (failed && !error) error = { ename: String(reply.ename ?? ''), evalue: String(reply.evalue ?? reply.status) };
        if (error) error = named(error);
        done({ ok: !failed && !error, outputs, executionCount: typeof reply.execution_count === 'number' ? reply.execution_count : null, error });
      }
    };
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.send(
      JSON.stringify({
        header: { msg_id: msgId, msg_type: 'execute_request', username: '', session, version: '5.3', date: new Date().toISOString() },
        parent_header: {},
        metadata: {},
        channel: 'shell',
        content: { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true },
      }),
    );
  });
}
