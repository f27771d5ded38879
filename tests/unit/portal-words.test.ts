/** The portal's words in English and French: durations, time left, field errors, refusals. Pure. */
import { Languages } from '../../hub-service/src/i18n/i18n';
import { fieldErrors, refusedEmail, registrationInput } from '../../hub-service/src/registrations/input';
import { duration, fieldMessage, refusal, timeLeft, windowLength } from '../../hub-service/src/web/portal';

const languages = new Languages();
const en = languages.get('en').t;
const fr = languages.get('fr').t;
const NB = '\u00a0';

test('durations, the register form window and the time left', () => {
  expect([60, 120, 90, 150].map((m) => duration(m, en))).toEqual(['1 hour', '2 hours', '90 minutes', '2 hours 30 minutes']);
  expect([60, 120, 90, 150].map((m) => duration(m, fr))).toEqual(['1 heure', '2 heures', '90 minutes', '2 heures 30 minutes']);
  expect([120, 90].map((m) => windowLength(m, en))).toEqual(['2-hour', '90-minute']);
  expect([60, 120, 90].map((m) => windowLength(m, fr))).toEqual(['1 heure', '2 heures', '90 minutes']);
  expect([4980, 600].map((s) => timeLeft(s, en))).toEqual(['1 h 23 min', '10 min']);
  expect([4980, 600].map((s) => timeLeft(s, fr))).toEqual(['1 h 23 min', '10 min']);
});

test('field errors: each message of the input rules in the page language; an unknown one as it is', () => {
  const cases: [string, string, string, string][] = [
    ['email', 'is not a valid email address', 'Email is not a valid email address', "L'adresse e-mail n'est pas une adresse e-mail valide"],
    ['company', 'is required', 'Company or school is required', "L'entreprise ou l'école est obligatoire"],
    [
      'name',
      'is too long (10000 characters, 100 at most)',
      'Full name is too long (10000 characters, 100 at most)',
      'Le nom complet dépasse la longueur permise (10000 caractères, 100 au plus)',
    ],
    [
      'name',
      'must not contain control characters (U+0000 found)',
      'Full name must not contain control characters (U+0000 found)',
      'Le nom complet ne doit pas contenir de caractères de contrôle (U+0000 trouvé)',
    ],
    ['acceptTerms', 'the terms and conditions must be accepted', 'Tick the box to accept the terms and conditions', 'Cochez la case pour accepter les conditions générales'],
    [
      'email',
      'registrations from this address are not accepted; please use another address',
      'Registrations from this address are not accepted; please use another address',
      `Les inscriptions depuis cette adresse ne sont pas acceptées${NB}; veuillez utiliser une autre adresse`,
    ],
    ['(body)', 'something new went wrong', 'Something new went wrong', 'Something new went wrong'],
  ];
  for (const [field, message, english, french] of cases) expect([fieldMessage(field, message, en), fieldMessage(field, message, fr)]).toEqual([english, french]);
});

test('refusals by code; the address as stored', () => {
  const already = { code: 'already-registered', message: '…', details: { workshop: 'Zeta' } };
  expect(refusal(already, 'Alpha', ' Grace@Example.com', en)).toBe(
    'grace@example.com is already registered for Zeta; one workshop at a time. The link to its status page, where you can end it, is in the mail we sent you.',
  );
  expect(refusal(already, 'Alpha', 'grace@example.com', fr)).toMatch(/^grace@example\.com est déjà inscrit à Zeta/);
  expect(refusal({ code: 'full', message: '…', details: {} }, 'Alpha', '', en)).toBe('Alpha is full at the moment; please try again later');
  expect(refusal({ code: 'inactive', message: '…', details: {} }, 'Alpha', '', fr)).toBe("Alpha n'est pas ouvert aux inscriptions pour le moment");
});

test('every message the registration rules can give has French words: a rewording there is caught here', () => {
  const bodies: Record<string, unknown>[] = [
    {},
    { email: 'x'.repeat(250) + '@example.org', name: 'n'.repeat(101), company: 7, workshop: 'nope', acceptTerms: 'no' },
    { email: 'not an address', name: 'Ada\nLovelace', company: 'A\u202eB', workshop: 'WKSHP-A', acceptTerms: true },
    { email: 'ada@example.org', name: 'Ada\u0007', company: '', workshop: 'WKSHP-A', acceptTerms: true },
  ];
  const issues = bodies.flatMap((b) => fieldErrors(registrationInput.safeParse(b).error!));
  const refused = [
    refusedEmail('eve@blocked.example', { denyList: ['@blocked.example'], refuseDisposable: false })!,
    refusedEmail('eve@mailinator.com', { denyList: [], refuseDisposable: true })!,
  ].map((message) => ({ field: 'email', message }));
  const all = [...issues, ...refused];
  expect(new Set(all.map((i) => i.message)).size).toBeGreaterThanOrEqual(10);
  for (const { field, message } of all) expect([field, message, fieldMessage(field, message, fr)]).not.toEqual([field, message, fieldMessage(field, message, en)]);
});
