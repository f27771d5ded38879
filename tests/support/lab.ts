/**
 * A participant at their JupyterLab: logged in through the hub's form, with the token the lab page
 * carries, running code in a real kernel and commands in a real terminal, over the Jupyter
 * server's REST API and websockets, as JupyterLab itself does.
 */
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { Browser, labConfig } from './browser';

export interface Lab {
  /** the server's base URL, e.g. http://127.0.0.1:8000/user/student3/ */
  base: string;
  /** the JupyterLab page's own hub token */
  token: string;
  kernel(code: string): Promise<string>;
  terminal(command: string): Promise<string>;
}

export async function openLab(hubUrl: string, student: string, password: string): Promise<Lab> {
  const browser = new Browser(hubUrl);
  const page = await browser.hubLogin(student, password);
  if (page.status !== 200) throw new Error(`${student} could not open JupyterLab (HTTP ${page.status})`);
  const config = labConfig<{ baseUrl: string; token: string }>(page);
  const base = new URL(config.baseUrl, hubUrl).toString();
  const auth = { Authorization: `token ${config.token}` };
  const api = async <T>(p: string, method = 'GET', body?: unknown): Promise<T> => {
    const res = await fetch(new URL(p, base), { method, headers: { ...auth, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${p}: HTTP ${res.status}`);
    return (await res.json()) as T;
  };
  const socket = (p: string) => new WebSocket(new URL(p, base.replace(/^http/, 'ws')), { headers: auth });

  return {
    base,
    token: config.token,
    async kernel(code) {
      const { id } = await api<{ id: string }>('api/kernels', 'POST', { name: 'python3' });
      const ws = socket(`api/kernels/${id}/channels`);
      const msgId = crypto.randomUUID();
      try {
        return await new Promise<string>((resolve, reject) => {
          let out = '';
          const timer = setTimeout(() => reject(new Error(`the kernel did not answer: ${out}`)), 60_000);
          ws.on('error', reject);
          ws.on('open', () =>
            ws.send(
              JSON.stringify({
                header: { msg_id: msgId, msg_type: 'execute_request', username: '', session: crypto.randomUUID(), version: '5.3', date: new Date().toISOString() },
                parent_header: {},
                metadata: {},
                channel: 'shell',
                content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true },
              }),
            ),
          );
          ws.on('message', (data) => {
            const m = JSON.parse(data.toString()) as { parent_header: { msg_id?: string }; msg_type: string; content: Record<string, unknown> };
            if (m.parent_header.msg_id !== msgId) return;
            if (m.msg_type === 'stream') out += String(m.content.text);
            if (m.msg_type === 'error') out += `${String(m.content.ename)}: ${String(m.content.evalue)}\n`;
            if (m.msg_type === 'status' && m.content.execution_state === 'idle') {
              clearTimeout(timer);
              resolve(out);
            }
          });
        });
      } finally {
        ws.close();
        await api(`api/kernels/${id}`, 'DELETE').catch(() => undefined);
      }
    },
    async terminal(command) {
      const { name } = await api<{ name: string }>('api/terminals', 'POST');
      const ws = socket(`terminals/websocket/${name}`);
      const end = `wod-done-${crypto.randomBytes(4).toString('hex')}`;
      try {
        return await new Promise<string>((resolve, reject) => {
          let out = '';
          const timer = setTimeout(() => reject(new Error(`the terminal did not answer: ${out}`)), 30_000);
          ws.on('error', reject);
          // The marker is printed split, so that the echoed command line does not end the wait.
          ws.on('open', () => ws.send(JSON.stringify(['stdin', `${command}; echo "wod-done-""${end.slice(9)}"\r`])));
          ws.on('message', (data) => {
            const [kind, text] = JSON.parse(data.toString()) as [string, string];
            if (kind !== 'stdout') return;
            out += text;
            const at = out.indexOf(end);
            if (at >= 0) {
              clearTimeout(timer);
              resolve(out.slice(0, at));
            }
          });
        });
      } finally {
        ws.close();
        await api(`api/terminals/${name}`, 'DELETE').catch(() => undefined);
      }
    },
  };
}
