/**
 * Routes for the hub's own Python pieces (the authenticator shim), reached directly on the
 * service's port with the shared secret; never through the public proxy.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Accounts } from '../accounts/accounts.js';
import { safeEqual } from '../auth/seal.js';
import type { Logger } from '../log.js';

export function internalRouter(deps: { secret: string; accounts: Accounts; log: Logger }): express.Router {
  const router = express.Router();

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
    if (await deps.accounts.verify(name, password)) {
      deps.log.info('login accepted', { user: name });
      res.json({ name });
      return;
    }
    deps.log.info('login refused', { user: name });
    res.status(401).json({ status: 401, message: 'invalid username or password' });
  });

  return router;
}
