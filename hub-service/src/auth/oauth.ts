/**
 * Hub OAuth for browsers (authorization-code flow with state and PKCE, as JupyterHub's HubOAuth
 * does it) and hub tokens for API clients. The session cookie holds the user's hub token, sealed,
 * httpOnly and scoped to the service prefix; each request re-identifies it through `Identities`.
 */
import crypto from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { HubEnv } from '../hub/env.js';
import type { Logger } from '../log.js';
import type { Identities, Visitor } from './identity.js';
import { safeEqual, type Sealer } from './seal.js';

interface Session {
  token: string;
  /** per-session random value the CSRF token is derived from */
  nonce: string;
  expires: number;
}

interface PendingLogin {
  state: string;
  verifier: string;
  next: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    visitor?: Visitor;
    /** Set when the visitor came with the session cookie: forms must echo it back. */
    csrfToken?: string;
  }
}

const SESSION_DAYS = 14;
const b64url = (buf: Buffer) => buf.toString('base64url');

export interface OAuthOptions {
  hub: HubEnv;
  sealer: Sealer;
  identities: Identities;
  log: Logger;
}

export function createHubAuth({ hub, sealer, identities, log }: OAuthOptions) {
  const prefix = hub.servicePrefix;
  const sessionCookie = hub.clientId;
  const stateCookie = `${hub.clientId}-oauth-state`;
  const cookieOptions = (req: Request) => ({
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: req.secure,
    path: prefix,
  });

  function beginLogin(req: Request, res: Response): void {
    const pending: PendingLogin = {
      state: b64url(crypto.randomBytes(16)),
      verifier: b64url(crypto.randomBytes(32)),
      next: req.originalUrl,
    };
    res.cookie(stateCookie, sealer.seal(pending), { ...cookieOptions(req), maxAge: 600_000 });
    const q = new URLSearchParams({
      client_id: hub.clientId,
      redirect_uri: hub.oauthCallbackUrl,
      response_type: 'code',
      state: pending.state,
      code_challenge: b64url(crypto.createHash('sha256').update(pending.verifier).digest()),
      code_challenge_method: 'S256',
    });
    res.redirect(`${hub.baseUrl.replace(/\/?$/, '/')}hub/api/oauth2/authorize?${q}`);
  }

  async function exchangeCode(code: string, verifier: string): Promise<string> {
    const res = await fetch(`${hub.apiUrl.replace(/\/$/, '')}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: hub.clientId,
        client_secret: hub.apiToken,
        grant_type: 'authorization_code',
        code,
        redirect_uri: hub.oauthCallbackUrl,
        code_verifier: verifier,
      }),
      signal: AbortSignal.timeout(20_000),
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; error_description?: string };
    if (!res.ok || !body.access_token) {
      throw new Error(`the hub refused the OAuth code (HTTP ${res.status}${body.error_description ? `: ${body.error_description}` : ''})`);
    }
    return body.access_token;
  }

  const router = express.Router();
  router.get('/oauth_callback', async (req, res, next) => {
    try {
      const pending = sealer.unseal<PendingLogin>(req.cookies?.[stateCookie]);
      res.clearCookie(stateCookie, cookieOptions(req));
      const { code, state } = req.query;
      if (!pending || typeof state !== 'string' || !safeEqual(state, pending.state) || typeof code !== 'string') {
        res.status(403).render('message', {
          title: 'Login expired',
          message: 'The OAuth state does not match this browser. Try logging in again.',
          link: { href: prefix + 'admin/', text: 'Log in again' },
        });
        return;
      }
      const token = await exchangeCode(code, pending.verifier);
      const session: Session = { token, nonce: b64url(crypto.randomBytes(16)), expires: Date.now() + SESSION_DAYS * 864e5 };
      res.cookie(sessionCookie, sealer.seal(session), { ...cookieOptions(req), maxAge: SESSION_DAYS * 864e5 });
      // Only ever back into the service: `next` came from our own request, but check anyway.
      res.redirect(pending.next.startsWith(prefix) ? pending.next : prefix);
    } catch (e) {
      next(e);
    }
  });

  /** Identifies the visitor from an Authorization header or the session cookie; sets req.visitor. */
  async function identify(req: Request, res: Response): Promise<void> {
    const header = req.get('authorization');
    const match = header?.match(/^(?:token|bearer)\s+(\S+)$/i);
    if (match) {
      req.visitor = (await identities.resolve(match[1])) ?? undefined;
      return;
    }
    const session = sealer.unseal<Session>(req.cookies?.[sessionCookie]);
    if (!session || session.expires < Date.now()) return;
    const visitor = await identities.resolve(session.token);
    if (!visitor) {
      res.clearCookie(sessionCookie, cookieOptions(req));
      return;
    }
    req.visitor = visitor;
    req.csrfToken = sealer.mac(`csrf:${session.nonce}`);
  }

  /** Browsers without a session are sent through the hub login; API clients (a token sent) get 401. */
  function requireUser(req: Request, res: Response, next: NextFunction): void {
    identify(req, res)
      .then(() => {
        if (req.visitor) return next();
        if (req.method === 'GET' && !req.get('authorization') && req.accepts(['html', 'json']) === 'html') return beginLogin(req, res);
        res.status(401).json({ status: 401, message: 'log in through the hub or send a hub token (Authorization: token …)' });
      })
      .catch(next);
  }

  /**
   * After requireUser: only a token or OAuth session carrying custom:wod:admin (hub admins get it
   * through the wod-admin role). Being a hub admin is not enough: a token narrowed to less is refused.
   */
  function requireWodAdmin(req: Request, res: Response, next: NextFunction): void {
    if (req.visitor?.wodAdmin) return next();
    log.info('refused a credential without the wod admin scope', { user: req.visitor?.name, path: req.path });
    res.status(403);
    if (req.accepts(['html', 'json']) === 'html') {
      res.render('message', {
        title: 'Not an administrator',
        message: `You are logged in as ${req.visitor?.name}, who may not run wod. Ask a hub admin to add you to the wod-admins group (or to accounts.wodAdmins), then log in again.`,
        link: { href: `${hub.baseUrl.replace(/\/?$/, '/')}hub/logout`, text: 'Log out' },
      });
    } else {
      res.json({ status: 403, message: 'this needs a hub token or session with the custom:wod:admin scope (a token made with narrower scopes does not do)' });
    }
  }

  /** Cookie-authenticated changes must carry the session's CSRF token (form field or header). */
  function requireCsrf(req: Request, res: Response, next: NextFunction): void {
    if (['GET', 'HEAD', 'OPTIONS'].includes(req.method) || !req.csrfToken) return next();
    const sent = (req.body as Record<string, unknown> | undefined)?._csrf ?? req.get('x-csrf-token');
    if (typeof sent === 'string' && safeEqual(sent, req.csrfToken)) return next();
    const message = 'This form is out of date (missing or wrong CSRF token): reload the page and try again.';
    res.status(403);
    if (req.accepts(['json', 'html']) === 'html') res.render('message', { title: 'Please reload the page', message });
    else res.json({ status: 403, message });
  }

  function logout(req: Request, res: Response): void {
    res.clearCookie(sessionCookie, cookieOptions(req));
    res.redirect(`${hub.baseUrl.replace(/\/?$/, '/')}hub/logout`);
  }

  return { router, requireUser, requireWodAdmin, requireCsrf, logout };
}

export type HubAuth = ReturnType<typeof createHubAuth>;
