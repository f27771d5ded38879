/**
 * Fixed-window request counters per key (an IP address, an email), in memory: registrations come
 * to one service process, and a restart forgetting the counts is harmless. The keys are the
 * visitor's to choose: past `maxKeys`, ended windows go first, then the oldest.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 50_000,
  ) {}

  /** Counts one request for `key`; says whether it is allowed and, if not, when to retry. */
  hit(key: string): { allowed: boolean; retryAfterSeconds: number } {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      if (this.windows.size >= this.maxKeys) this.prune(now);
      w = { count: 0, resetAt: now + this.windowMs };
      this.windows.delete(key);
      this.windows.set(key, w);
    }
    w.count++;
    return { allowed: w.count <= this.limit, retryAfterSeconds: Math.ceil((w.resetAt - now) / 1000) };
  }

  /** Entries held, for tests of the bound. */
  get size(): number {
    return this.windows.size;
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) if (w.resetAt <= now) this.windows.delete(key);
    // Windows are inserted as they open: the first ones opened longest ago. A hundredth goes at
    // once, so that a full table is not scanned again at every new key.
    const keep = Math.floor(this.maxKeys * 0.99);
    for (const key of this.windows.keys()) {
      if (this.windows.size <= keep) break;
      this.windows.delete(key);
    }
  }
}
