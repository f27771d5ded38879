/**
 * The original WoD api-db, as far as wod meets it (inventory 2.1, 4.1, 5.1, 5.4):
 *   - `sendPostfixEmail`, its raw SMTP client, byte for byte: one write of the whole dialogue right
 *     after connect (LF line ends, no brackets, no blank line after the Subject, no QUIT), a
 *     2000 ms socket timeout, destroy() on the first data event (the banner), resolved on close,
 *     rejected only on error. Written from the inventory, not copied.
 *   - its REST API as the backend calls it: POST /api/login gives a JWT (HS256, `exp` after a
 *     configurable lifetime, the original's is 180 s) sent back as x-access-token; no token is 403
 *     "No token provided!", a bad or expired one 401 "Unauthorized!"; GET /api/workshops, PUT
 *     /api/student/:id, /api/customer/:id, /api/workshop/:id. Every call is recorded.
 *   - another host to run the client on: a network namespace joined to this one by a veth pair, so
 *     that the client's address is not this host's (the only way a trusted network is trusted).
 *
 * Run as a program (`tsx original-api-db.ts '<json>'`, inside the namespace) it is the client.
 */
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

// --- the client ------------------------------------------------------------------------------

export interface PostfixEmail {
  /** customer.location: the backend */
  host: string;
  /** WODPOSTPORT */
  port: number;
  /** WODAPIDBFQDN */
  helo: string;
  /** WODSENDER */
  sender: string;
  /** WODUSER@location for an order, the participant for a participant mail */
  recipient: string;
  subject: string;
  /** the body: the workshop folder of an order, the text of a participant mail */
  content: string;
}

/** The dialogue the original writes, at once. */
export function postfixDialogue(m: PostfixEmail): string {
  return `HELO ${m.helo}\nMAIL FROM: ${m.sender}\nRCPT TO: ${m.recipient}\nDATA\nSubject: ${m.subject}\n${m.content}\n.\n`;
}

/** sendPostfixEmail as the original has it; `cutBeforeDot` leaves out the final `.\n` (a message cut short). */
export function sendPostfixEmail(m: PostfixEmail, opts: { cutBeforeDot?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const dialogue = postfixDialogue(m);
    const client = net.connect(m.port, m.host, () => {
      client.write(opts.cutBeforeDot ? dialogue.slice(0, -2) : dialogue);
    });
    client.setTimeout(2000);
    client.on('timeout', () => client.destroy());
    client.on('data', () => client.destroy());
    client.on('close', () => resolve());
    client.on('error', reject);
  });
}

/**
 * Writes `text` at once (or `prefix`, then `fill` repeated up to `bytes`, then `suffix`) and
 * returns all the server said until it closed, or until `waitMs` passed (then the client ends).
 */
export function writeAtOnce(
  target: { host: string; port: number },
  /** `halfClose`: end the writing side at once after writing, as `nc -N` does, and read the answers */
  o: { text?: string; prefix?: string; fill?: string; bytes?: number; suffix?: string; waitMs?: number; halfClose?: boolean },
): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const socket = net.connect(target.port, target.host, () => {
      if (o.text !== undefined) {
        socket.write(o.text);
        if (o.halfClose) socket.end();
      } else {
        socket.write(o.prefix ?? '');
        const chunk = Buffer.from((o.fill ?? 'x').repeat(64 * 1024));
        let left = o.bytes ?? 0;
        const more = () => {
          while (left > 0 && !socket.destroyed) {
            const piece = chunk.subarray(0, Math.min(left, chunk.length));
            left -= piece.length;
            if (!socket.write(piece)) {
              socket.once('drain', more);
              return;
            }
          }
          if (!socket.destroyed) socket.write(o.suffix ?? '');
        };
        more();
      }
    });
    const timer = setTimeout(() => socket.end(), o.waitMs ?? 5_000);
    socket.on('data', (d) => (out += d.toString()));
    socket.on('error', () => {}); // written after the server closed: the close below says it
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

// --- the REST API ----------------------------------------------------------------------------

/** A hub's environment for external api-db mode against the api-db at `url`: its students start at 101 there. */
export const apiDbEnv = (url: string): Record<string, string> => ({
  WOD_API_DB_URL: url,
  WOD_API_DB_BASE_STDID: '100',
  WOD_API_DB_PASSWORD: 'api-db-secret',
});

export interface ApiDbCall {
  method: string;
  path: string;
  token?: string;
  /** what the token was when the call came */
  tokenState: 'none' | 'valid' | 'expired' | 'bad';
  status: number;
  body: Record<string, string>;
  at: number;
}

export interface OriginalApiDbOptions {
  /** the JWT lifetime (the original's expiresIn: 180) */
  tokenLifetimeSeconds?: number;
  username?: string;
  password?: string;
  workshops?: { id: number; notebook: string; [k: string]: unknown }[];
  /** what an expired or bad token gets: 401 as the original's verifyToken; 403 to check a client copes with either */
  expiredStatus?: 401 | 403;
}

const SECRET = 'workshops-secret-key'; // the original's, hard-coded (inventory 2.1)

export class OriginalApiDb {
  readonly calls: ApiDbCall[] = [];
  /** PUTs to refuse with 503 before accepting again */
  failNextPuts = 0;
  private server: http.Server | null = null;
  private readonly lifetime: number;
  private readonly username: string;
  private readonly password: string;
  private readonly expiredStatus: 401 | 403;
  workshops: { id: number; notebook: string; [k: string]: unknown }[];

  constructor(o: OriginalApiDbOptions = {}) {
    this.lifetime = o.tokenLifetimeSeconds ?? 180;
    this.username = o.username ?? 'moderator';
    this.password = o.password ?? 'api-db-secret';
    this.workshops = o.workshops ?? [];
    this.expiredStatus = o.expiredStatus ?? 401;
  }

  get logins(): ApiDbCall[] {
    return this.calls.filter((c) => c.path === '/api/login' && c.status === 200);
  }

  get puts(): ApiDbCall[] {
    return this.calls.filter((c) => c.method === 'PUT');
  }

  private sign(payload: Record<string, unknown>): string {
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const head = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
    return `${head}.${crypto.createHmac('sha256', SECRET).update(head).digest('base64url')}`;
  }

  private verify(token: string | undefined): ApiDbCall['tokenState'] {
    if (!token) return 'none';
    const [h, p, sig] = token.split('.');
    if (!sig || crypto.createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url') !== sig) return 'bad';
    const { exp } = JSON.parse(Buffer.from(p, 'base64url').toString()) as { exp: number };
    return exp * 1000 <= Date.now() ? 'expired' : 'valid';
  }

  /** Listens on 127.0.0.1; resolves with the base URL the backend is given (…/api). */
  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const token = req.headers['x-access-token'] as string | undefined;
        const call: ApiDbCall = { method: req.method!, path: req.url!, token, tokenState: this.verify(token), status: 0, body: {}, at: Date.now() };
        this.calls.push(call);
        const answer = (status: number, body: unknown) => {
          call.status = status;
          res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
        };
        try {
          call.body = raw ? JSON.parse(raw) : {};
        } catch {
          return answer(400, { message: 'bad JSON' });
        }
        if (call.method === 'POST' && call.path === '/api/login') {
          if (call.body.username !== this.username) return answer(404, { message: 'User Not found.' });
          if (call.body.password !== this.password) return answer(401, { accessToken: null, message: 'Invalid Password!' });
          const now = Math.floor(Date.now() / 1000);
          return answer(200, {
            id: 2,
            username: this.username,
            email: 'moderator@example.org',
            roles: ['ROLE_USER', 'ROLE_MODERATOR'],
            accessToken: this.sign({ id: 2, iat: now, exp: now + this.lifetime }),
          });
        }
        // verifyToken (middleware/authJwt.js)
        if (call.tokenState === 'none') return answer(403, { message: 'No token provided!' });
        if (call.tokenState !== 'valid') return answer(this.expiredStatus, { message: this.expiredStatus === 401 ? 'Unauthorized!' : 'No token provided!' });
        if (call.method === 'GET' && call.path === '/api/workshops') return answer(200, this.workshops);
        const one = call.path.match(/^\/api\/workshops\/(\d+)$/);
        if (call.method === 'GET' && one) {
          const w = this.workshops.find((x) => x.id === Number(one[1]));
          return w ? answer(200, w) : answer(404, { message: 'Not found' });
        }
        const put = call.path.match(/^\/api\/(student|customer|workshop)\/(\d+)$/);
        if (call.method === 'PUT' && put) {
          if (this.failNextPuts > 0) {
            this.failNextPuts--;
            return answer(503, { message: 'busy' });
          }
          const name = put[1][0].toUpperCase() + put[1].slice(1);
          return answer(200, { message: `${name} was updated successfully.` });
        }
        answer(404, { message: 'Not found' });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}/api`;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

// --- another host ------------------------------------------------------------------------------

export interface OtherHost {
  /** the namespace */
  name: string;
  /** this host's end of the link (where the mail API listens) */
  hostAddress: string;
  /** the other host's address */
  address: string;
  /** both, as CIDR: the api-db host's network */
  network: string;
  /** runs this file as the client inside the namespace */
  client(request: ClientRequest): Promise<string>;
  remove(): void;
}

export type ClientRequest =
  | { mode: 'original'; mail: PostfixEmail; cutBeforeDot?: boolean }
  | { mode: 'raw'; host: string; port: number; text?: string; prefix?: string; fill?: string; bytes?: number; suffix?: string; waitMs?: number };

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const TSX = path.resolve(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');

/**
 * A network namespace with a veth pair on a /30 of 10.249.0.0/16 that no interface uses yet, named
 * after `tag` and a random id, so that parallel test files never share one. Needs root.
 */
export function makeOtherHost(tag: string): OtherHost {
  const used = ip('-o', '-4', 'addr', 'show');
  const free = (third: number, fourth: number) => !used.includes(`10.249.${third}.${fourth + 1}/`) && !used.includes(`10.249.${third}.${fourth + 2}/`);
  let [third, fourth] = [crypto.randomInt(0, 256), crypto.randomInt(0, 64) * 4];
  while (!free(third, fourth)) [third, fourth] = [crypto.randomInt(0, 256), crypto.randomInt(0, 64) * 4];
  const id = crypto.randomBytes(3).toString('hex');
  const name = `wod-${tag.slice(0, 8)}-${id}`;
  const [here, there] = [`wh${id}`, `wn${id}`];
  const hostAddress = `10.249.${third}.${fourth + 1}`;
  const address = `10.249.${third}.${fourth + 2}`;
  const remove = () => {
    for (const args of [
      ['netns', 'del', name],
      ['link', 'del', here],
    ]) {
      try {
        ip(...args);
      } catch {
        // already gone
      }
    }
  };
  try {
    ip('netns', 'add', name);
    ip('link', 'add', here, 'type', 'veth', 'peer', 'name', there);
    ip('link', 'set', there, 'netns', name);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', here);
    ip('link', 'set', here, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${address}/30`, 'dev', there);
    ip('netns', 'exec', name, 'ip', 'link', 'set', there, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (e) {
    remove();
    throw e;
  }
  return {
    name,
    hostAddress,
    address,
    network: `10.249.${third}.${fourth}/30`,
    remove,
    client: (request) =>
      new Promise((resolve, reject) => {
        const run = spawn('ip', ['netns', 'exec', name, TSX, __filename, JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        run.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        run.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        run.on('error', reject);
        run.on('close', (status) => (status === 0 ? resolve(stdout) : reject(new Error(`the client in ${name} failed (${status}): ${stderr}`))));
      }),
  };
}

/** Whether this machine can make another host (root with iproute2). */
export function canMakeOtherHost(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    ip('netns', 'list');
    return true;
  } catch {
    return false;
  }
}

async function runClient(request: ClientRequest): Promise<string> {
  if (request.mode === 'original') {
    await sendPostfixEmail(request.mail, { cutBeforeDot: request.cutBeforeDot });
    return 'closed';
  }
  return writeAtOnce(request, request);
}

if (require.main === module) {
  runClient(JSON.parse(process.argv[2]) as ClientRequest).then(
    (out) => process.stdout.write(out),
    (e: Error) => {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    },
  );
}
