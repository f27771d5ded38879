import type { Socket } from 'node:net';
import path from 'node:path';
import cookieParser from 'cookie-parser';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../log.js';
import { handlerLabel } from '../metrics/labels.js';
import type { WodMetrics } from '../metrics/metrics.js';
import { scrubUrl } from '../log.js';
import type { TrustedProxies } from '../network/addresses.js';
import { type PeerUid, trustFunction } from './client-address.js';
import { identifyClient, peerUid, type PeerUidLookup } from './peer-uid.js';

export const VIEWS_DIR = path.resolve(__dirname, '..', '..', 'views');

/**
 * The Express application: everything is mounted under the service prefix (/services/wod/), since
 * the proxy forwards full paths. `mount` adds the routers; errors end here as one JSON or HTML shape.
 */
export function createApp(opts: {
  prefix: string;
  log: Logger;
  mount: (router: express.Router) => void;
  /** the operator's reverse proxies (config `trustedProxies`) */
  proxies: TrustedProxies;
  /** the Linux user of the hub and its proxy (this process's, as the hub starts the service) */
  ownUid?: number | null;
  peerUid?: PeerUidLookup;
  /** times every request by route template (wod_request_duration_seconds) */
  metrics?: WodMetrics;
  /** sets the language pages speak (./language.ts), error pages included */
  language?: express.RequestHandler;
}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // The hub's proxy on this host sets X-Forwarded-Proto/For; `req.ip` is the client by the same rule
  // as the hub's logins (./client-address.ts), the peer's owner looked up once per connection.
  app.set('trust proxy', trustFunction(opts.proxies));
  const owners = new WeakMap<Socket, Promise<PeerUid>>();
  const ownUid = opts.ownUid === undefined ? (process.getuid?.() ?? null) : opts.ownUid;
  app.use((req, _res, next) => {
    const socket = req.socket;
    const lookup: PeerUidLookup = (peer, local) => {
      let owner = owners.get(socket);
      if (!owner) owners.set(socket, (owner = (opts.peerUid ?? peerUid)(peer, local)));
      return owner;
    };
    const forwarded = req.headers['x-forwarded-for'];
    identifyClient(
      {
        peer: socket.remoteAddress ?? '',
        peerPort: socket.remotePort,
        local: socket.localAddress,
        localPort: socket.localPort,
        forwardedFor: [forwarded ?? []].flat().join(','),
        proxy: opts.proxies.peerIsProxy,
      },
      { proxies: opts.proxies, ownUid, lookup },
    ).then((client) => {
      Object.defineProperty(req, 'ip', { value: client.address, configurable: true, enumerable: true });
      next();
    }, next);
  });
  app.set('view engine', 'ejs');
  app.set('views', VIEWS_DIR);
  app.locals.prefix = opts.prefix;

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      opts.metrics?.request(req.method, handlerLabel(req, opts.prefix), res.statusCode, ms / 1000);
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : req.path.endsWith('/health') ? 'debug' : 'info';
      opts.log[level](`${res.statusCode} ${req.method} ${scrubUrl(req.originalUrl)}`, {
        ms: Math.round(ms * 10) / 10,
        ...(req.visitor ? { user: req.visitor.name } : {}),
      });
    });
    next();
  });
  app.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'same-origin' });
    next();
  });

  const router = express.Router();
  router.use(cookieParser());
  if (opts.language) router.use(opts.language);
  router.use(express.json({ limit: '100kb' }));
  router.use(express.urlencoded({ extended: false, limit: '100kb' }));
  opts.mount(router);
  app.use(opts.prefix.replace(/\/$/, ''), router);

  app.use((req: Request, res: Response) => fail(req, res, 404, 'not found'));
  // Domain errors carry their HTTP status (and a code): routes let them through to here.
  app.use((err: Error & { status?: number; code?: unknown }, req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) opts.log.error(`${req.method} ${scrubUrl(req.originalUrl)} failed`, { error: err.stack ?? err.message });
    fail(req, res, status, status === 500 ? 'internal error: the service log has the details' : err.message, status < 500 && typeof err.code === 'string' ? err.code : undefined);
  });
  return app;
}

function fail(req: Request, res: Response, status: number, message: string, code?: string): void {
  res.status(status);
  // the domain's own words, in English like the admin panel and the API (the portal has its own error pages)
  if (req.accepts(['json', 'html']) === 'html') res.render('message', { title: `Error ${status}`, message, lang: 'en' });
  else res.json({ status, ...(code ? { code } : {}), message });
}
