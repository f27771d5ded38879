import { DEFAULT_RULES, LoginThrottle, recordFailure } from '../../hub-service/src/accounts/login-throttle';
import { RateLimiter } from '../../hub-service/src/registrations/rate-limit';

const MIN = 60_000;

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** Tries a wrong password: 'refused' when the throttle says no before the password is looked at. */
function guess(throttle: LoginThrottle, name: string, address: string): number | 'failed' {
  const v = throttle.check(name, address);
  if (!v.allowed) return v.retryAfterSeconds;
  throttle.failure(name, address);
  return 'failed';
}

test('a (name, address) pair: 5 failures, then refused 1, 2, 4, 8 and at most 15 minutes', () => {
  const c = clock();
  const t = new LoginThrottle(DEFAULT_RULES, c.now);
  for (let i = 0; i < 5; i++) expect(guess(t, 'admin', '203.0.113.7')).toBe('failed');
  const waits: number[] = [];
  for (let i = 0; i < 6; i++) {
    const wait = guess(t, 'admin', '203.0.113.7') as number;
    expect(typeof wait).toBe('number');
    waits.push(wait);
    c.advance(wait * 1000);
    expect(guess(t, 'admin', '203.0.113.7')).toBe('failed');
  }
  expect(waits).toEqual([60, 120, 240, 480, 900, 900]);
});

test('failures of the pair from elsewhere never refuse the owner at their own address', () => {
  const c = clock();
  const t = new LoginThrottle(DEFAULT_RULES, c.now);
  for (let i = 0; i < 30; i++) guess(t, 'admin', '203.0.113.66');
  expect(t.check('admin', '203.0.113.66').allowed).toBe(false);
  expect(t.check('admin', '198.51.100.2')).toEqual({ allowed: true });
});

test('a success clears the pair', () => {
  const c = clock();
  const t = new LoginThrottle(DEFAULT_RULES, c.now);
  for (let i = 0; i < 4; i++) guess(t, 'ada', '203.0.113.7');
  t.success('ada', '203.0.113.7');
  for (let i = 0; i < 4; i++) expect(guess(t, 'ada', '203.0.113.7')).toBe('failed');
  expect(t.check('ada', '203.0.113.7').allowed).toBe(true);
  expect(guess(t, 'ada', '203.0.113.7')).toBe('failed');
  expect(t.check('ada', '203.0.113.7')).toMatchObject({ allowed: false, by: 'pair', retryAfterSeconds: 60 });
});

test('an hour without failures forgets the pair; a pause shorter than that does not', () => {
  const c = clock();
  const t = new LoginThrottle(DEFAULT_RULES, c.now);
  for (let i = 0; i < 4; i++) guess(t, 'ada', '203.0.113.7');
  c.advance(59 * MIN);
  guess(t, 'ada', '203.0.113.7');
  expect(t.check('ada', '203.0.113.7').allowed).toBe(false);
  c.advance(61 * MIN);
  for (let i = 0; i < 4; i++) expect(guess(t, 'ada', '203.0.113.7')).toBe('failed');
  expect(t.check('ada', '203.0.113.7').allowed).toBe(true);
});

test('one guess sprayed across names from one address: refused after 30, with growing delays', () => {
  const c = clock();
  const t = new LoginThrottle(DEFAULT_RULES, c.now);
  for (let i = 0; i < 30; i++) expect(guess(t, `user${i}`, '203.0.113.7')).toBe('failed');
  expect(t.check('user30', '203.0.113.7')).toEqual({ allowed: false, retryAfterSeconds: 60, by: 'address' });
  c.advance(MIN);
  expect(guess(t, 'user31', '203.0.113.7')).toBe('failed');
  expect(t.check('user32', '203.0.113.7')).toMatchObject({ allowed: false, retryAfterSeconds: 120 });
  // another address is not concerned
  expect(t.check('user32', '198.51.100.2').allowed).toBe(true);
  // an IPv6 sprayer is one address per /64
  for (let i = 0; i < 30; i++) guess(t, `user${i}`, `2001:db8:1:2::${(i + 1).toString(16)}`);
  expect(t.check('someone', '2001:db8:1:2:ffff::1')).toMatchObject({ allowed: false, by: 'address' });
});

test('who logged in from an address before keeps their way in while strangers spray from it', () => {
  const c = clock();
  const t = new LoginThrottle(DEFAULT_RULES, c.now);
  t.success('admin', '192.0.2.10');
  for (let i = 0; i < 40; i++) guess(t, `user${i}`, '192.0.2.10');
  expect(t.check('newcomer', '192.0.2.10')).toMatchObject({ allowed: false, by: 'address' });
  expect(t.check('admin', '192.0.2.10')).toEqual({ allowed: true });
  // ... though their own pair is still counted
  for (let i = 0; i < 5; i++) guess(t, 'admin', '192.0.2.10');
  expect(t.check('admin', '192.0.2.10')).toMatchObject({ allowed: false, by: 'pair' });
});

test('memory stays bounded whatever names and addresses are sent; the quietest go first', () => {
  const c = clock();
  const t = new LoginThrottle({ ...DEFAULT_RULES, maxEntries: 100 }, c.now);
  for (let i = 0; i < 10; i++) guess(t, 'admin', '203.0.113.7');
  for (let i = 0; i < 1000; i++) {
    c.advance(1);
    t.failure(`name${i}`, `198.51.${i >> 8}.${i & 255}`);
    if (i % 50 === 0) t.failure('admin', '203.0.113.7'); // still at it: stays remembered
  }
  expect(t.sizes.pairs).toBeLessThanOrEqual(100);
  expect(t.sizes.addresses).toBeLessThanOrEqual(100);
  expect(t.check('admin', '203.0.113.7')).toMatchObject({ allowed: false, by: 'pair' });

  const limiter = new RateLimiter(5, MIN, c.now, 100);
  for (let i = 0; i < 1000; i++) limiter.hit(`visitor${i}@example.com`);
  expect(limiter.size).toBeLessThanOrEqual(100);
});

test('the arithmetic of one counter', () => {
  const rule = { threshold: 2, baseLockMs: 10, maxLockMs: 25, quietMs: 100 };
  let count = recordFailure(undefined, rule, 0);
  expect(count).toEqual({ failures: 1, lastFailureAt: 0, lockedUntil: 0 });
  count = recordFailure(count, rule, 1);
  expect(count.lockedUntil).toBe(11);
  count = recordFailure(count, rule, 11);
  expect(count.lockedUntil).toBe(31);
  count = recordFailure(count, rule, 31);
  expect(count.lockedUntil).toBe(56);
  // quiet is counted from the end of the last refusal
  expect(recordFailure(count, rule, 150).failures).toBe(5);
  expect(recordFailure(count, rule, 156).failures).toBe(1);
});
