/**
 * The doctor's probes: each asks one thing of the system and returns what it saw, never throws,
 * and gives up after its timeout so that `wod doctor` never hangs on a dead peer.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { localGet } from '../network/local-get.js';
import { type GreetingReply, type HttpReply, TIMEOUT } from './answers.js';
import type { DiskFigures } from './figures.js';

const codeOf = (e: unknown): string => {
  const err = e as { name?: string; code?: string; cause?: { code?: string; name?: string; message?: string }; message?: string };
  if (err.name === 'TimeoutError' || err.cause?.name === 'TimeoutError') return TIMEOUT;
  return err.cause?.code ?? err.code ?? err.cause?.message ?? err.message ?? String(e);
};

/** A GET over TCP or, for `http+unix://` (the hub's public side with bindSocket), over its Unix socket. Redirects are not followed. */
export async function httpGet(url: string, timeoutMs: number): Promise<HttpReply> {
  try {
    const res = await localGet(url, timeoutMs);
    const dateMs = res.date ? Date.parse(res.date) : NaN;
    return { status: res.status, body: res.body, dateMs: Number.isNaN(dateMs) ? null : dateMs };
  } catch (e) {
    return { error: codeOf(e) };
  }
}

/** Connects, reads the server's first line, says QUIT. `secure`: TLS from the first byte (port 465). */
export function smtpGreeting(host: string, port: number, opts: { secure: boolean; timeoutMs: number }): Promise<GreetingReply> {
  return new Promise((resolve) => {
    const socket = opts.secure ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
    let text = '';
    let settled = false;
    const done = (reply: GreetingReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.on('error', () => undefined); // a reset after QUIT changes nothing
      if ('line' in reply && socket.writable) socket.end('QUIT\r\n');
      else socket.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => done({ error: TIMEOUT }), opts.timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end >= 0) done({ line: text.slice(0, end).trim() });
    });
    socket.once('error', (e) => done({ error: codeOf(e) }));
    socket.once('end', () => done({ error: text ? `closed after "${text.trim()}"` : 'closed without a greeting' }));
  });
}

/** The folder itself, or its nearest existing parent (a homes folder not made yet). */
function existing(dir: string): string {
  let d = path.resolve(dir);
  while (!fs.existsSync(d) && d !== path.dirname(d)) d = path.dirname(d);
  return d;
}

export function diskFigures(dir: string): DiskFigures | { error: string } {
  const at = existing(dir);
  try {
    const s = fs.statfsSync(at);
    return { dir: at, bytesTotal: s.blocks * s.bsize, bytesFree: s.bavail * s.bsize, inodesTotal: s.files, inodesFree: s.ffree };
  } catch (e) {
    return { error: `${at}: ${codeOf(e)}` };
  }
}

/** Writes and removes a small file in `dir` (or where it will be made): null when that works, else why not. */
export function tryWrite(dir: string): { at: string; error: string | null } {
  const at = existing(dir);
  const file = path.join(at, `.wod-doctor-${process.pid}.tmp`);
  try {
    fs.writeFileSync(file, 'wod doctor\n', { mode: 0o600, flag: 'wx' });
    fs.rmSync(file);
    return { at, error: null };
  } catch (e) {
    fs.rmSync(file, { force: true });
    return { at, error: codeOf(e) };
  }
}
