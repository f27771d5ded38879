import crypto from 'node:crypto';
import { HubApiError, type HubClient } from '../hub/client.js';

export const WOD_ADMIN_SCOPE = 'custom:wod:admin';

/** A hub user as the service sees them on one request. */
export interface Visitor {
  name: string;
  /**
   * The token (or OAuth session) carries custom:wod:admin in the scopes the hub reports for it.
   * Never from the user's admin flag: a hub admin's token narrowed to less (a JupyterLab page's
   * token, a token made with `access:services!service=wod` only) does not run wod.
   */
  wodAdmin: boolean;
  scopes: string[];
}

/** Whoever a token belongs to, a user or a service, with the scopes the hub reports for it. */
export interface Bearer {
  kind: 'user' | 'service';
  name: string;
  scopes: string[];
}

interface Cached {
  bearer: Bearer | null;
  until: number;
}

/**
 * Resolves a hub token (from the OAuth cookie or an Authorization header) to a visitor, asking the
 * hub and caching the answer briefly, keyed by a hash of the token, never the token itself.
 */
export class Identities {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly hub: Pick<HubClient, 'identify'>,
    /** A token must carry one of these to use the service (JUPYTERHUB_OAUTH_ACCESS_SCOPES). */
    private readonly accessScopes: string[],
    private readonly ttlMs = 60_000,
    private readonly now = () => Date.now(),
  ) {}

  /** A user whose token may use the service (one of the access scopes), or null. */
  async resolve(token: string): Promise<Visitor | null> {
    const who = await this.bearer(token);
    if (who?.kind !== 'user') return null;
    if (this.accessScopes.length && !who.scopes.some((s) => this.accessScopes.includes(s))) return null;
    return { name: who.name, scopes: who.scopes, wodAdmin: who.scopes.includes(WOD_ADMIN_SCOPE) };
  }

  /**
   * Whoever the token belongs to, user or service, whatever it may do; null when the hub refuses it.
   * Only for routes that judge the scopes themselves (the metrics route, a service token's); the
   * others take `resolve`.
   */
  async bearer(token: string): Promise<Bearer | null> {
    const key = crypto.createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.bearer;
    let bearer: Bearer | null = null;
    try {
      // The hub reports the token's own scopes (its roles' scopes, intersected with its owner's).
      const who = await this.hub.identify(token);
      if (who.kind === 'user' || who.kind === 'service') bearer = { kind: who.kind, name: who.name, scopes: who.scopes };
    } catch (e) {
      if (!(e instanceof HubApiError && (e.status === 401 || e.status === 403))) throw e;
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { bearer, until: this.now() + this.ttlMs });
    return bearer;
  }

  forget(token: string): void {
    this.cache.delete(crypto.createHash('sha256').update(token).digest('hex'));
  }

  /** Drops what is remembered of a user's tokens: the hub has just revoked them. */
  forgetUser(name: string): void {
    for (const [key, hit] of this.cache) if (hit.bearer?.kind === 'user' && hit.bearer.name === name) this.cache.delete(key);
  }
}
