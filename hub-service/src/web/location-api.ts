/**
 * The location API under /services/wod/api/locations/v1/ (locations/protocol.ts owns its shapes;
 * ./openapi.ts describes it). A caller presents, as a Bearer token, the token this wod issued for
 * it (`wod locations issue`), which says which peer it is and so what it may ask: a portal asks a
 * backend to seat and manage the registrations it routed there, a backend tells a portal how
 * those stand. Neither can reach a registration of another peer, or the admin and public APIs.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { z } from 'zod';
import type { SeatDesk } from '../locations/backend.js';
import type { Mirror } from '../locations/mirror.js';
import type { Peer, PeerRole, Peers } from '../locations/peers.js';
import { endRequest, extendRequest, ref, seatCredentials, seatRequest, seatUpdates } from '../locations/protocol.js';
import { fieldErrors } from '../registrations/input.js';
import { RegistrationError } from '../registrations/registrations.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** the peer wod the request's location token belongs to */
    peer?: Peer;
  }
}

/** 422 with field messages, as the REST API answers bad input. */
class InvalidBody extends Error {
  readonly status = 422;
  constructor(readonly error: z.ZodError) {
    super('invalid request');
  }
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw new InvalidBody(parsed.error);
  return parsed.data;
}

/** Only a peer of this role, by the token it presents. */
function peerOnly(peers: Peers, role: PeerRole) {
  return (req: Request, res: Response, next: NextFunction) => {
    const m = /^Bearer (\S{1,200})$/.exec(req.get('authorization') ?? '');
    const peer = m ? peers.identify(m[1], role) : null;
    if (!peer) {
      res
        .set('WWW-Authenticate', 'Bearer realm="wod locations"')
        .status(401)
        .json({ status: 401, message: `a location token issued here for a ${role} is needed` });
      return;
    }
    req.peer = peer;
    next();
  };
}

export function locationApiRouter(d: {
  peers: Peers;
  /** backend side */
  seatDesk: SeatDesk;
  onJobs: () => void;
  /** portal side */
  mirror: Mirror;
}): express.Router {
  const router = express.Router();
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  const fromPortal = peerOnly(d.peers, 'portal');
  const refOf = (req: Request) => parse(ref, req.params.ref);
  router.get('/seats', fromPortal, (_req, res) => void res.json(d.seatDesk.seats()));
  router.post('/registrations', fromPortal, (req, res) => {
    const { created, update } = d.seatDesk.seat(req.peer!.name, parse(seatRequest, req.body));
    if (created) d.onJobs();
    res.status(created ? 201 : 200).json(update);
  });
  router.get('/registrations/:ref', fromPortal, (req, res) => void res.json(d.seatDesk.update(req.peer!.name, refOf(req))));
  router.post('/registrations/:ref/end', fromPortal, (req, res) => {
    const update = d.seatDesk.end(req.peer!.name, refOf(req), parse(endRequest, req.body).reason);
    d.onJobs();
    res.json(update);
  });
  router.post('/registrations/:ref/extend', fromPortal, (req, res) => void res.json(d.seatDesk.extend(req.peer!.name, refOf(req), parse(extendRequest, req.body).minutes)));
  router.post('/registrations/:ref/credentials', fromPortal, async (req, res) => void res.json(await d.seatDesk.credentials(req.peer!.name, refOf(req))));
  router.post('/registrations/:ref/start-link', fromPortal, (req, res) => void res.json({ url: d.seatDesk.startLink(req.peer!.name, refOf(req)) }));
  router.delete('/registrations/:ref', fromPortal, (req, res) => {
    d.seatDesk.cancel(req.peer!.name, refOf(req));
    d.onJobs();
    res.status(204).end();
  });

  const fromBackend = peerOnly(d.peers, 'backend');
  router.post('/updates', fromBackend, (req, res) => {
    const { updates } = parse(seatUpdates, req.body);
    res.json({ results: updates.map((u) => ({ ref: u.ref, result: d.mirror.apply(req.peer!.name, u) })) });
  });
  router.post('/credentials', fromBackend, async (req, res) => {
    const result = await d.mirror.credentials(req.peer!.name, parse(seatCredentials, req.body));
    if (result !== 'applied')
      throw new RegistrationError(404, 'unknown-registration', `registration ${String((req.body as { ref?: unknown }).ref)} is not seated at ${req.peer!.name}`);
    res.json({ result });
  });

  router.use((err: Error, _req: Request, res: Response, next: NextFunction) => {
    if (err instanceof InvalidBody) return void res.status(422).json({ status: 422, message: err.message, errors: fieldErrors(err.error) });
    next(err);
  });
  return router;
}
