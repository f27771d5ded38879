import path from 'node:path';
import { getWorkshop } from '../../hub-service/src/catalog/catalog';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { Sealer } from '../../hub-service/src/auth/seal';
import { rangeState, syncPool } from '../../hub-service/src/pool/pool';
import { RegistrationDesk } from '../../hub-service/src/registrations/desk';
import { refusedEmail, registrationInput } from '../../hub-service/src/registrations/input';
import { RateLimiter } from '../../hub-service/src/registrations/rate-limit';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { surveyInput } from '../../hub-service/src/registrations/survey';
import { statusToken, verifyStatusToken } from '../../hub-service/src/registrations/status-token';
import { openDatabase } from '../../hub-service/src/store/db';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

function setup() {
  const root = tempWorkshops();
  writeWorkshop(root, 'WKSHP-A', { range: [1, 3], capacity: 2 });
  writeWorkshop(root, 'WKSHP-B', { range: [4, 6], capacity: 3 });
  writeWorkshop(root, 'WKSHP-Off', { range: [7, 8], capacity: 1, active: false });
  const db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 10);
  importWorkshops(db, scanWorkshops({ dir: root }, 10), 'test');
  return { db, registrations: new Registrations(db) };
}
const person = (n: number, workshop = 'WKSHP-A') => ({ email: `p${n}@example.com`, name: `P ${n}`, company: 'ACME', workshop, acceptTerms: true as const });

describe('input', () => {
  test('normalises the email, requires every field and the terms', () => {
    const ok = registrationInput.parse({ email: '  Ada@Example.COM ', name: ' Ada ', company: 'ACME', workshop: 'WKSHP-A', acceptTerms: 'on' });
    expect(ok).toEqual({ email: 'ada@example.com', name: 'Ada', company: 'ACME', workshop: 'WKSHP-A', acceptTerms: true });
    const bad = registrationInput.safeParse({ email: 'nope', name: '', workshop: '../etc', acceptTerms: false });
    expect(bad.success).toBe(false);
    const fields = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(fields).toEqual(
      expect.arrayContaining([
        'email: is not a valid email address',
        'name: is required',
        'company: is required',
        'workshop: is not a workshop name (WKSHP-…)',
        'acceptTerms: the terms and conditions must be accepted',
      ]),
    );
  });

  test('name and company: NFC, trimmed, one line of visible text; the refusal names the field and the character', () => {
    const form = (name: string, company = 'ACME') => registrationInput.safeParse({ email: 'ada@example.com', name, company, workshop: 'WKSHP-A', acceptTerms: true });
    const refusal = (name: string, company?: string) => form(name, company).error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(form(' Zoe\u0308 👩\u200D💻 ').data!.name).toBe('Zoë 👩\u200D💻'); // composed; the emoji's joiner kept
    expect(refusal('\u200B\u200C\uFEFF')).toEqual(['name: is required']);
    expect(refusal('Ada', '\u3164 \u2060')).toEqual(['company: is required']);
    expect(refusal('Ada\r\nBcc: eve@example.com')).toEqual(['name: must be on one line (it contains a line break, U+000D)']);
    expect(refusal('Ada', 'ACME\nX-Spam: yes')).toEqual(['company: must be on one line (it contains a line break, U+000A)']);
    expect(refusal('Ada\tLovelace')).toEqual(['name: must not contain control characters (U+0009 found)']);
    expect(refusal('Ada\u0085Lovelace')).toEqual(['name: must be on one line (it contains a line break, U+0085)']);
    expect(refusal('moc.elpmaxe\u202E')).toEqual(['name: must not contain text-direction controls (U+202E found): they disguise what is written']);
    expect(refusal('Ada\u2066x\u2069')).toEqual(['name: must not contain text-direction controls (U+2066 found): they disguise what is written']);
    expect(refusal('A'.repeat(10_000))).toEqual(['name: is too long (10000 characters, 100 at most)']);
  });

  test('survey answers: several lines allowed (CR LF becomes LF), other controls refused, invisible text is no answer', () => {
    const answer = (good: unknown) => surveyInput.safeParse({ rating: 4, recommend: 'yes', good });
    expect(answer('Clear.\r\n\r\nThanks ').data!.good).toBe('Clear.\n\nThanks');
    expect(answer('\u200B\u00AD').data!.good).toBe('');
    expect(answer('tab\there').error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['good: must not contain control characters (U+0009 found)']);
    expect(answer('a\u2028b').error!.issues[0].message).toMatch(/U\+2028/);
    expect(answer('\u202Eevil').error!.issues[0].message).toMatch(/text-direction/);
    expect(answer('x'.repeat(2001)).error!.issues[0].message).toBe('is too long (2001 characters, 2000 at most)');
  });

  test('deny-list by domain (and subdomains) or address, and disposable domains, are refused with a reason', () => {
    const policy = { denyList: ['@spam.example', 'bad@example.org'], refuseDisposable: true };
    expect(refusedEmail('a@spam.example', policy)).toMatch(/not accepted/);
    expect(refusedEmail('a@mx.spam.example', policy)).toMatch(/not accepted/);
    expect(refusedEmail('a@notspam.example', policy)).toBeNull();
    expect(refusedEmail('bad@example.org', policy)).toMatch(/not accepted/);
    expect(refusedEmail('a@yopmail.com', policy)).toMatch(/disposable/);
    expect(refusedEmail('a@yopmail.com', { ...policy, refuseDisposable: false })).toBeNull();
    expect(refusedEmail('ada@example.com', policy)).toBeNull();
  });

  test('rate limiter: a fixed window per key', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 60_000, () => now);
    expect(limiter.hit('ip').allowed).toBe(true);
    expect(limiter.hit('ip').allowed).toBe(true);
    expect(limiter.hit('ip')).toEqual({ allowed: false, retryAfterSeconds: 60 });
    expect(limiter.hit('other').allowed).toBe(true);
    now = 60_000;
    expect(limiter.hit('ip').allowed).toBe(true);
  });

  test('status tokens are signed: a changed id or MAC is refused', () => {
    const sealer = new Sealer('k'.repeat(64));
    const token = statusToken(sealer, 42);
    expect(verifyStatusToken(sealer, token)).toBe(42);
    expect(verifyStatusToken(sealer, token.replace(/^42/, '43'))).toBeNull();
    expect(verifyStatusToken(new Sealer('j'.repeat(64)), token)).toBeNull();
    expect(verifyStatusToken(sealer, '42')).toBeNull();
  });
});

describe('registrations', () => {
  test('allocates the lowest free student in range, queues CREATE, audits', () => {
    const { db, registrations } = setup();
    const r = registrations.register(person(1), { source: 'portal', ip: '10.0.0.1' });
    expect(r).toMatchObject({ state: 'registered', student: 'student1', workshop: { folder: 'WKSHP-A' }, participant: { email: 'p1@example.com' } });
    expect(db.prepare('SELECT state, registration_id FROM students WHERE id = 1').get()).toEqual({ state: 'allocated', registration_id: r.id });
    expect(db.prepare('SELECT verb, student_id, registration_id, source, state FROM jobs').all()).toEqual([
      { verb: 'CREATE', student_id: 1, registration_id: r.id, source: 'portal', state: 'queued' },
    ]);
    expect(db.prepare("SELECT actor, action FROM audit WHERE subject_type = 'registration'").get()).toEqual({
      actor: 'participant:p1@example.com',
      action: 'registration.created',
    });
  });

  test('full at capacity even with free students; full when the range has no free student', () => {
    const { db, registrations } = setup();
    registrations.register(person(1), { source: 'api' });
    registrations.register(person(2), { source: 'api' });
    expect(getWorkshop(db, 'WKSHP-A')!.seats).toBe(0);
    expect(rangeState(db, 1, 3)).toMatchObject({ free: 1, allocated: 2 });
    expect(() => registrations.register(person(3), { source: 'api' })).toThrow(expect.objectContaining({ status: 409, code: 'full' }));
    // capacity 3 on range [4, 6], but one student there is still being cleaned
    db.prepare("UPDATE students SET state = 'cleanup' WHERE id = 4").run();
    expect(getWorkshop(db, 'WKSHP-B')!.seats).toBe(2);
    registrations.register(person(4, 'WKSHP-B'), { source: 'api' });
    registrations.register(person(5, 'WKSHP-B'), { source: 'api' });
    expect(() => registrations.register(person(6, 'WKSHP-B'), { source: 'api' })).toThrow(/full/);
  });

  test('one running registration per email; refusal changes nothing', () => {
    const { db, registrations } = setup();
    registrations.register(person(1), { source: 'api' });
    const counts = () => db.prepare('SELECT (SELECT COUNT(*) FROM registrations) r, (SELECT COUNT(*) FROM jobs) j, (SELECT COUNT(*) FROM participants) p').get();
    const before = counts();
    expect(() => registrations.register({ ...person(1, 'WKSHP-B'), name: 'Changed' }, { source: 'api' })).toThrow(
      expect.objectContaining({ code: 'already-registered', status: 409 }),
    );
    expect(counts()).toEqual(before);
    expect(db.prepare('SELECT name FROM participants').get()).toEqual({ name: 'P 1' });
  });

  test('unknown and inactive workshops are refused', () => {
    const { registrations } = setup();
    expect(() => registrations.register(person(1, 'WKSHP-Nope'), { source: 'api' })).toThrow(expect.objectContaining({ status: 404, code: 'unknown-workshop' }));
    expect(() => registrations.register(person(1, 'WKSHP-Off'), { source: 'api' })).toThrow(expect.objectContaining({ code: 'inactive' }));
  });

  test('ending frees the capacity, queues CLEANUP once, and lets the person register again', () => {
    const { db, registrations } = setup();
    const r = registrations.register(person(1), { source: 'api' });
    const ended = registrations.end(r.id, 'participant:p1@example.com', 'participant');
    expect(ended).toMatchObject({ state: 'ended', endReason: 'participant' });
    expect(() => registrations.end(r.id, 'admin:x', 'admin')).toThrow(expect.objectContaining({ code: 'not-running' }));
    expect(db.prepare('SELECT verb FROM jobs ORDER BY id').all()).toEqual([{ verb: 'CREATE' }, { verb: 'CLEANUP' }]);
    // the student stays allocated until CLEANUP has run; another student serves the next registration
    const again = registrations.register(person(1), { source: 'api' });
    expect(again.student).toBe('student2');
  });

  test('search by email, name, company, student and id, with filters and paging', () => {
    const { registrations } = setup();
    const a = registrations.register(person(1), { source: 'api' });
    registrations.register({ ...person(2, 'WKSHP-B'), company: '100%_Pure' }, { source: 'api' });
    expect(registrations.search({ q: 'p1@', limit: 10, offset: 0 }).items.map((r) => r.id)).toEqual([a.id]);
    expect(registrations.search({ q: 'student4', limit: 10, offset: 0 }).total).toBe(1);
    expect(registrations.search({ q: '100%_', limit: 10, offset: 0 }).total).toBe(1);
    expect(registrations.search({ q: '%', limit: 10, offset: 0 }).total).toBe(1); // % is literal
    expect(registrations.search({ q: String(a.id), limit: 10, offset: 0 }).items.map((r) => r.id)).toContain(a.id);
    expect(registrations.search({ workshop: 'WKSHP-B', limit: 10, offset: 0 }).total).toBe(1);
    expect(registrations.search({ state: 'ended', limit: 10, offset: 0 }).total).toBe(0);
    const page = registrations.search({ limit: 1, offset: 1 });
    expect([page.total, page.items.length, page.items[0].id]).toEqual([2, 1, a.id]);
  });
});

describe('the desk', () => {
  test('answers 201, 422, 409 and 429 and stores only accepted registrations', () => {
    const { db, registrations } = setup();
    const desk = new RegistrationDesk(registrations, { denyList: [], refuseDisposable: true }, { perIpPerMinute: 100, perEmailPerHour: 2 });
    const meta = { ip: '1.2.3.4', source: 'api' as const };
    expect(desk.submit(person(1), meta).status).toBe(201);
    expect(desk.submit({ ...person(2), email: 'x@yopmail.com' }, meta)).toMatchObject({ status: 422, errors: [{ field: 'email' }] });
    expect(desk.submit({ email: 'a@b.c' }, meta)).toMatchObject({ status: 422 });
    expect(desk.submit(person(1), meta)).toMatchObject({ status: 409, code: 'already-registered' });
    expect(desk.submit(person(1), meta)).toMatchObject({ status: 429, retryAfterSeconds: 3600 });
    expect(db.prepare('SELECT COUNT(*) n FROM registrations').get()).toEqual({ n: 1 });
    const tight = new RegistrationDesk(registrations, { denyList: [], refuseDisposable: true }, { perIpPerMinute: 1, perEmailPerHour: 9 });
    tight.submit(person(7), meta);
    expect(tight.submit(person(8), meta)).toMatchObject({ status: 429, retryAfterSeconds: 60 });
  });
});
