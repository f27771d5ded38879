/**
 * Routes for the hub's own Python pieces (the authenticator shim), reached directly on the
 * service's port with the shared secret; never through the public proxy.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Accounts } from '../accounts/accounts.js';
import { activeStudentSession, landingPath, STUDENT_NAME, verifyStudentLogin } from '../accounts/student-logins.js';
import { type Sealer, safeEqual } from '../auth/seal.js';
import type { Logger } from '../log.js';
import { RateLimiter } from '../registrations/rate-limit.js';
import { verifyStartToken } from '../registrations/start-link.js';
import type { Db } from '../store/db.js';

export function internalRouter(deps: {
  secret: string;
  accounts: Accounts;
  db: Db;
  sealer: Sealer;
  log: Logger;
  /** after the deadline, how long a logged-in student may stay (timers.endGraceSeconds) */
  endGraceSeconds: number;
  now?: () => number;
}): express.Router {
  const router = express.Router();
  // Guessing passwords: after 10 failures in 15 minutes a name is refused until the window ends.
  const failures = new RateLimiter(10, 15 * 60_000, deps.now);
  const blocked = new Map<string, number>();

  router.use((req: Request, res: Response, next: NextFunction) => {
    // The proxy adds X-Forwarded-For: a request that has it came from outside.
    const direct = !req.get('x-forwarded-for');
    const sent = req.get('authorization')?.match(/^Bearer (\S+)$/)?.[1];
    if (direct && sent && safeEqual(sent, deps.secret)) return next();
    res.status(404).json({ status: 404, message: 'not found' });
  });

  /** The shim's question: may this username and password log in to the hub? */
  router.post('/logins', async (req, res) => {
    const { username, password } = (req.body ?? {}) as { username?: unknown; password?: unknown };
    if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
      res.status(400).json({ status: 400, message: 'username and password are required strings' });
      return;
    }
    const name = username.trim().toLowerCase();
    const until = blocked.get(name);
    if (until && until > (deps.now ?? Date.now)()) {
      deps.log.warn('login refused: too many failures', { user: name });
      res.status(429).json({ status: 429, message: 'too many failed logins; try again later' });
      return;
    }
    if (STUDENT_NAME.test(name)) {
      const session = await verifyStudentLogin(deps.db, name, password);
      if (session) {
        deps.log.info('student login accepted', { user: name, registration: session.registrationId });
        res.json({ name, next: landingPath(name, session.folder) });
        return;
      }
    } else if (await deps.accounts.verify(name, password)) {
      deps.log.info('login accepted', { user: name });
      res.json({ name });
      return;
    }
    const hit = failures.hit(name);
    if (!hit.allowed) {
      if (blocked.size > 10_000) blocked.clear(); // names are the visitor's to choose: keep the map bounded
      blocked.set(name, (deps.now ?? Date.now)() + hit.retryAfterSeconds * 1000);
    }
    deps.log.info('login refused', { user: name });
    res.status(401).json({ status: 401, message: 'invalid username or password' });
  });

  /** A one-click start link: which student, if the registration is ready and before its deadline. */
  router.post('/start-links', (req, res) => {
    const token = (req.body as { token?: unknown } | undefined)?.token;
    const id = typeof token === 'string' ? verifyStartToken(deps.sealer, token) : null;
    const row = id === null ? undefined : (deps.db.prepare('SELECT s.name FROM students s WHERE s.registration_id = ?').get(id) as { name: string } | undefined);
    const session = row ? activeStudentSession(deps.db, row.name) : null;
    if (!session || session.registrationId !== id) {
      deps.log.info('start link refused');
      res.status(401).json({ status: 401, message: 'this start link is no longer valid' });
      return;
    }
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

  return router;
}
