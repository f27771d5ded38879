/**
 * Password guessing, slowed without letting anyone lock the owner out.
 *
 * Failures are counted per (name, client address), so that failures from elsewhere never refuse
 * the owner from their own address: after `pair.threshold` failures the pair is refused for
 * 1 minute, and after each further failure for twice as long as before, up to 15 minutes. A success
 * clears the pair; an hour without failures forgets it.
 *
 * Failures are also counted per client address across names, so that one guess sprayed over many
 * names is slowed too: after `address.threshold` failures (with no pause of `address.quietMs`) the
 * address is refused for new names the same growing way. A name that logged in from that address
 * before keeps its way in (only its own pair's count applies), so a neighbour behind the same NAT
 * spraying guesses does not lock out the people who use it.
 *
 * The names and addresses are the visitor's to choose: every map is bounded, forgetting the
 * entries quiet for the longest first.
 */
import { addressBucket } from '../network/addresses.js';

export interface BackoffRule {
  /** failures before the first refusal */
  threshold: number;
  /** the first refusal; each further failure doubles it */
  baseLockMs: number;
  maxLockMs: number;
  /** the count starts again after this long without a failure (and without a refusal running) */
  quietMs: number;
}

export interface ThrottleRules {
  pair: BackoffRule;
  address: BackoffRule;
  /** entries kept per map */
  maxEntries: number;
  /** how long a (name, address) that logged in stays exempt from its address's refusal */
  knownForMs: number;
}

export const DEFAULT_RULES: ThrottleRules = {
  pair: { threshold: 5, baseLockMs: 60_000, maxLockMs: 15 * 60_000, quietMs: 60 * 60_000 },
  address: { threshold: 30, baseLockMs: 60_000, maxLockMs: 15 * 60_000, quietMs: 15 * 60_000 },
  maxEntries: 50_000,
  knownForMs: 30 * 24 * 3600_000,
};

export type Verdict = { allowed: true } | { allowed: false; retryAfterSeconds: number; by: 'pair' | 'address' };

export interface Count {
  failures: number;
  lastFailureAt: number;
  lockedUntil: number;
}

/** A map that forgets its least recently touched entries beyond `max`. */
class Bounded<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  get size(): number {
    return this.map.size;
  }
}

/** Milliseconds left of a counter's refusal (0: none). */
export function lockRemaining(count: Count | undefined, now: number): number {
  return count && count.lockedUntil > now ? count.lockedUntil - now : 0;
}

/** One more failure under one rule: pure arithmetic on a small record. */
export function recordFailure(count: Count | undefined, rule: BackoffRule, now: number): Count {
  const quiet = !count || now - Math.max(count.lastFailureAt, count.lockedUntil) >= rule.quietMs;
  const failures = quiet ? 1 : count.failures + 1;
  const over = failures - rule.threshold;
  const lockedUntil = over >= 0 ? now + Math.min(rule.baseLockMs * 2 ** Math.min(over, 30), rule.maxLockMs) : 0;
  return { failures, lastFailureAt: now, lockedUntil };
}

export class LoginThrottle {
  private readonly pairs: Bounded<Count>;
  private readonly addresses: Bounded<Count>;
  private readonly known: Bounded<number>;

  constructor(
    private readonly rules: ThrottleRules = DEFAULT_RULES,
    private readonly now: () => number = Date.now,
  ) {
    this.pairs = new Bounded(rules.maxEntries);
    this.addresses = new Bounded(rules.maxEntries);
    this.known = new Bounded(rules.maxEntries);
  }

  /** May `name` try a password from `address` now? Asked before the password is looked at. */
  check(name: string, address: string): Verdict {
    const now = this.now();
    const { pair, bucket } = this.keys(name, address);
    const pairWait = lockRemaining(this.pairs.get(pair), now);
    if (pairWait) return { allowed: false, retryAfterSeconds: Math.ceil(pairWait / 1000), by: 'pair' };
    const addressWait = lockRemaining(this.addresses.get(bucket), now);
    if (addressWait && !this.isKnown(pair, now)) return { allowed: false, retryAfterSeconds: Math.ceil(addressWait / 1000), by: 'address' };
    return { allowed: true };
  }

  failure(name: string, address: string): void {
    const now = this.now();
    const { pair, bucket } = this.keys(name, address);
    this.pairs.set(pair, recordFailure(this.pairs.get(pair), this.rules.pair, now));
    this.addresses.set(bucket, recordFailure(this.addresses.get(bucket), this.rules.address, now));
  }

  /** The right password: the pair starts afresh, and is let through its address's refusals from now on. */
  success(name: string, address: string): void {
    const { pair } = this.keys(name, address);
    this.pairs.delete(pair);
    this.known.set(pair, this.now() + this.rules.knownForMs);
  }

  /** Entries held, for tests of the bound. */
  get sizes(): { pairs: number; addresses: number; known: number } {
    return { pairs: this.pairs.size, addresses: this.addresses.size, known: this.known.size };
  }

  private isKnown(pair: string, now: number): boolean {
    const until = this.known.get(pair);
    return until !== undefined && until > now;
  }

  private keys(name: string, address: string): { pair: string; bucket: string } {
    const bucket = addressBucket(address);
    // Real names are short (USER_NAME: 64 characters): a longer one is a guess all the same.
    return { pair: `${name.slice(0, 100)}\n${bucket}`, bucket };
  }
}
