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

interface Cached {
  visitor: Visitor | null;
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

  async resolve(token: string): Promise<Visitor | null> {
    const key = crypto.createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.visitor;
    let visitor: Visitor | null = null;
    try {
      const who = await this.hub.identify(token);
      const allowed = this.accessScopes.length === 0 || who.scopes.some((s) => this.accessScopes.includes(s));
      if (who.kind === 'user' && allowed) {
        // The hub reports the token's own scopes (its roles' scopes, intersected with its owner's).
        visitor = { name: who.name, scopes: who.scopes, wodAdmin: who.scopes.includes(WOD_ADMIN_SCOPE) };
      }
    } catch (e) {
      if (!(e instanceof HubApiError && (e.status === 401 || e.status === 403))) throw e;
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { visitor, until: this.now() + this.ttlMs });
    return visitor;
  }

  forget(token: string): void {
    this.cache.delete(crypto.createHash('sha256').update(token).digest('hex'));
  }

  /** Drops what is remembered of a user's tokens: the hub has just revoked them. */
  forgetUser(name: string): void {
    for (const [key, hit] of this.cache) if (hit.visitor?.name === name) this.cache.delete(key);
  }
}
