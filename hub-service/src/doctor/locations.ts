/**
 * `wod doctor` on locations: one line per peer (config locations.backends and portals). Each side
 * calls the other, so each peer needs a token issued here and one of its own accepted here; a
 * backend must answer its seats now, a portal must take (empty) updates; a peer reached over plain
 * http:// off this host is a warning, since the tokens and the participants' passwords would cross
 * the network in clear. Workshops naming a location nobody knows are the catalog lint's
 * (catalog/problems.ts checkLocation).
 */
import type { WodConfig } from '../config/schema.js';
import { callPeer, type Peer, PeerError, Peers, type PeerRole } from '../locations/peers.js';
import { locationSeats, type LocationSeats } from '../locations/protocol.js';
import { troubleOf } from '../locations/trouble.js';
import { type Check, fail, ok, warn } from './check.js';

/** What a peer answered the doctor's call, or why it did not; null: not called (no token of it accepted). */
export type PeerAnswer = { latencyMs: number; seats: LocationSeats | null } | { error: string; refused: boolean } | null;

export interface PeerFacts {
  name: string;
  role: PeerRole;
  url: string;
  issued: boolean;
  accepted: boolean;
}

/** http:// to anything but this host: what it carries can be read on the way. */
export function isClearText(url: string): boolean {
  const u = new URL(url);
  if (u.protocol !== 'http:') return false;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host === '::1' || /^127\./.test(host));
}

/** The check of one peer, from its tokens and its answer. Pure. */
export function evaluatePeer(p: PeerFacts, answer: PeerAnswer, self: string | null): Check {
  const name = `location-${p.name}`;
  const us = self ?? '<this wod>';
  const what = `${p.role} ${p.name} (${p.url})`;
  const missing: string[] = [];
  const fixes: string[] = [];
  if (!p.accepted) {
    missing.push(`no token of ${p.name} accepted here, so this wod cannot call it`);
    fixes.push(`run 'wod locations issue ${us}' at ${p.name}, then 'wod locations accept ${p.name}' here`);
  }
  if (!p.issued) {
    missing.push(`no token issued here for ${p.name}, so it cannot call this wod`);
    fixes.push(`run 'wod locations issue ${p.name}' here and give it to ${p.name}'s operator for 'wod locations accept ${us}'`);
  }
  if (missing.length) return fail(name, `${what}: ${missing.join('; ')}`, fixes.join('; '));
  if (answer && 'error' in answer) {
    const fix = answer.refused ? `read ${p.name}'s log: it refused a call this wod makes` : troubleOf(p.name, answer.error, self);
    return fail(name, `${what} ${answer.refused ? 'refuses' : 'does not answer'}: ${answer.error}`, fix);
  }
  const answered =
    answer === null
      ? 'not called'
      : answer.seats
        ? `answers in ${answer.latencyMs} ms: ${answer.seats.workshops.filter((w) => w.active).reduce((n, w) => n + w.seats, 0)} free seat(s) in ${answer.seats.workshops.filter((w) => w.active).length} active workshop(s), ${answer.seats.jobs.queued} job(s) queued`
        : `takes updates (${answer.latencyMs} ms)`;
  if (isClearText(p.url))
    return warn(
      name,
      `${what} ${answered}, over plain http:// off this host: its token and the participants' passwords cross the network in clear`,
      `serve ${p.name} over https:// and give that URL in locations.${p.role}s`,
    );
  return ok(name, `${what} ${answered}; tokens issued and accepted`);
}

/** Calls a peer as this wod does: a backend's seats, a portal's updates with nothing in them. */
export async function askPeer(peers: Peers, peer: Peer, timeoutMs: number): Promise<PeerAnswer> {
  if (!peers.tokenFor(peer.name)) return null;
  const started = Date.now();
  try {
    if (peer.role === 'backend') {
      const seats = locationSeats.safeParse(await callPeer(peers, peer, 'GET', '/seats', undefined, timeoutMs));
      if (!seats.success) return { error: 'its /seats answer is not the seats of a wod (another version?)', refused: false };
      return { latencyMs: Date.now() - started, seats: seats.data };
    }
    await callPeer(peers, peer, 'POST', '/updates', { updates: [] }, timeoutMs);
    return { latencyMs: Date.now() - started, seats: null };
  } catch (e) {
    if (!(e instanceof PeerError)) return { error: (e as Error).message, refused: false };
    // 401/403 are a token problem, said plainly by troubleOf, not a refusal of what was asked
    return { error: e.message, refused: e.kind === 'refused' };
  }
}

export async function locationChecks(config: Pick<WodConfig, 'dataDir' | 'locations'>, timeoutMs: number): Promise<Check[]> {
  const peers = new Peers(config);
  // nothing to say of a wod without locations: no line
  if (!peers.list.length) return [];
  let facts: PeerFacts[];
  try {
    facts = peers.state();
  } catch (e) {
    return [fail('locations', `cannot read the tokens (${(e as Error).message})`, "run wod doctor as wod's user; a token file must be 0600")];
  }
  const answers = await Promise.all(peers.list.map((p) => askPeer(peers, p, timeoutMs)));
  const self = config.locations.name ?? null;
  return facts.map((f, i) => evaluatePeer(f, answers[i], self));
}
