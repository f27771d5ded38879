/**
 * Routes for the hub's own Python pieces (the authenticator shim, KubeSpawner's pre-spawn hook), reached directly on the
 * service's port with the shared secret; never through the public proxy.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Accounts } from '../accounts/accounts.js';
import { LoginThrottle } from '../accounts/login-throttle.js';
import { activeStudentSession, landingPath, STUDENT_NAME, verifyStudentLogin } from '../accounts/student-logins.js';
import { type Sealer, safeEqual } from '../auth/seal.js';
import type { Logger } from '../log.js';
import type { WodMetrics } from '../metrics/metrics.js';
import { allocatedStudent } from '../pool/pool.js';
import { verifyStartToken } from '../registrations/start-link.js';
import type { Db } from '../store/db.js';
import { isLoopback, type TrustedProxies } from '../network/addresses.js';
import type { SiteLimits } from '../isolation/limit-rules.js';
import { seatLimits } from '../kubernetes/seat-limits.js';
import { identifyClient, type PeerUidLookup } from './peer-uid.js';

export function internalRouter(deps: {
  secret: string;
  accounts: Accounts;
  db: Db;
  sealer: Sealer;
  log: Logger;
  /** after the deadline, how long a logged-in student may stay (timers.endGraceSeconds) */
  endGraceSeconds: number;
  /** the operator's reverse proxies (config `trustedProxies`), for the client address of a login */
  proxies: TrustedProxies;
  /** the service's Linux user, when the shim does not say the hub's */
  ownUid?: number | null;
  peerUid?: PeerUidLookup;
  throttle?: LoginThrottle;
  now?: () => number;
  /** counts the answers by outcome (wod_logins_total) */
  metrics?: WodMetrics;
  /** students.limits: a seat's limits are its workshop's over these */
  siteLimits: SiteLimits;
}): express.Router {
  const router = express.Router();
  // Guessing passwords: counted per (name, client address) and per client address (accounts/login-throttle.ts).
  const throttle = deps.throttle ?? new LoginThrottle(undefined, deps.now);
  let warnedUnlisted = false;
  const ownUid = deps.ownUid === undefined ? (process.getuid?.() ?? null) : deps.ownUid;

  /** The client of the login the hub is asking about: the hub says which connection it came on. */
  const loginClient = async (client: unknown): Promise<string> => {
    if (!client || typeof client !== 'object') return 'unknown';
    const c = client as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const int = (v: unknown) => (Number.isInteger(v) ? (v as number) : undefined);
    const found = await identifyClient(
      { peer: str(c.peer) ?? '', peerPort: int(c.peerPort), local: str(c.local), localPort: int(c.localPort), forwardedFor: str(c.forwardedFor), proxy: c.proxy === true },
      { proxies: deps.proxies, ownUid: int(c.uid) ?? ownUid, lookup: deps.peerUid },
    );
    if (found.ignoredForwardedFor && isLoopback(found.address) && !warnedUnlisted) {
      // Someone on this host forwards to the hub's proxy: a reverse proxy not listed, or a local user.
      warnedUnlisted = true;
      deps.log.warn(
        'logins reach the proxy from this host with an X-Forwarded-For wod does not believe: if a reverse proxy on this host forwards to wod, list it in trustedProxies',
        { client: found.address },
      );
    }
    return found.address;
  };

  router.use((req: Request, res: Response, next: NextFunction) => {
    // The proxy adds X-Forwarded-For: a request that has it came from outside.
    const direct = !req.get('x-forwarded-for');
    const sent = req.get('authorization')?.match(/^Bearer (\S+)$/)?.[1];
    if (direct && sent && safeEqual(sent, deps.secret)) return next();
    res.status(404).json({ status: 404, message: 'not found' });
  });

  /**
   * The shim's question: may this username and password log in to the hub? The body says which
   * connection the login came on (`client`: the hub's peer, its X-Forwarded-For, the hub's uid;
   * on Kubernetes, `proxy: true` when the peer is the chart's proxy pod).
   */
  router.post('/logins', async (req, res) => {
    const { username, password, client } = (req.body ?? {}) as { username?: unknown; password?: unknown; client?: unknown };
    if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
      res.status(400).json({ status: 400, message: 'username and password are required strings' });
      return;
    }
    const name = username.trim().toLowerCase();
    const address = await loginClient(client);
    const verdict = throttle.check(name, address);
    if (!verdict.allowed) {
      deps.metrics?.login('throttled');
      deps.log.warn('login refused: too many failures', { user: name.slice(0, 64), client: address, by: verdict.by, retryAfterSeconds: verdict.retryAfterSeconds });
      res.status(429).set('Retry-After', String(verdict.retryAfterSeconds));
      res.json({ status: 429, message: 'too many attempts, try later', retryAfterSeconds: verdict.retryAfterSeconds });
      return;
    }
    if (STUDENT_NAME.test(name)) {
      const session = await verifyStudentLogin(deps.db, name, password);
      if (session) {
        throttle.success(name, address);
        deps.metrics?.login('accepted');
        deps.log.info('student login accepted', { user: name, registration: session.registrationId, client: address });
        res.json({ name, next: landingPath(name, session.folder) });
        return;
      }
    } else if (await deps.accounts.verify(name, password)) {
      throttle.success(name, address);
      deps.metrics?.login('accepted');
      deps.log.info('login accepted', { user: name, client: address });
      res.json({ name });
      return;
    }
    throttle.failure(name, address);
    deps.metrics?.login('refused');
    deps.log.info('login refused', { user: name.slice(0, 64), client: address });
    res.status(401).json({ status: 401, message: 'invalid username or password' });
  });

  /** A one-click start link: which student, if the registration is ready and before its deadline. */
  router.post('/start-links', (req, res) => {
    const token = (req.body as { token?: unknown } | undefined)?.token;
    const id = typeof token === 'string' ? verifyStartToken(deps.sealer, token) : null;
    const student = id === null ? null : allocatedStudent(deps.db, id);
    const session = student ? activeStudentSession(deps.db, student) : null;
    if (!session || session.registrationId !== id) {
      deps.metrics?.login('start-link-refused');
      deps.log.info('start link refused');
      res.status(401).json({ status: 401, message: 'this start link is no longer valid' });
      return;
    }
    deps.metrics?.login('start-link-accepted');
    deps.log.info('start link accepted', { user: session.student, registration: id });
    res.json({ name: session.student, next: landingPath(session.student, session.folder) });
  });

  /**
   * The hub re-asks now and then (and before each spawn) whether a logged-in user may stay: a student
   * stays through the grace after the deadline, to download their work, though no login is taken then.
   */
  router.get('/users/:name', (req, res) => {
    const name = req.params.name;
    const staying = (deps.now ?? Date.now)() - deps.endGraceSeconds * 1000;
    const valid = STUDENT_NAME.test(name) ? activeStudentSession(deps.db, name, staying) !== null : deps.accounts.exists(name);
    res.json({ name, valid });
  });

  /** KubeSpawner's question before each spawn (spawner-config/wod_kubernetes.py): the limits of the seat's workshop. */
  router.get('/seats/:name', (req, res) => {
    res.json({ name: req.params.name, ...seatLimits(deps.db, deps.siteLimits, req.params.name) });
  });

  return router;
}
