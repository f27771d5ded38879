/**
 * Where a registration's seat goes (locations/placement.ts): the places a workshop may run, the one
 * a registration takes given what is known of the seats, and the moves a portal's copy makes to
 * follow its backend, which must be the moves registrations/states.ts allows.
 */
import { type Availability, choosePlace, HERE, pathBetween, type Place, placesOf } from '../../hub-service/src/locations/placement';
import { canMove, REGISTRATION_STATES, type RegistrationState, TRANSITIONS } from '../../hub-service/src/registrations/states';

const BACKENDS = ['lyon', 'paris'];
const workshop = (location: string | null, alternateLocation: string[] = []) => ({ location, alternateLocation });

describe('placesOf', () => {
  test('an unset location, this wod own name or a name nobody here knows: here', () => {
    expect(placesOf(workshop(null), 'portal', BACKENDS)).toEqual([HERE]);
    expect(placesOf(workshop('portal'), 'portal', BACKENDS)).toEqual([HERE]);
    expect(placesOf(workshop('berlin'), 'portal', BACKENDS)).toEqual([HERE]);
    // a wod without a name of its own: only null is here
    expect(placesOf(workshop('portal'), null, BACKENDS)).toEqual([HERE]);
  });

  test('a known backend first, then the alternates this wod knows, each once', () => {
    expect(placesOf(workshop('lyon', ['paris']), 'portal', BACKENDS)).toEqual(['lyon', 'paris']);
    expect(placesOf(workshop('lyon', ['berlin', 'paris', 'lyon', 'paris']), 'portal', BACKENDS)).toEqual(['lyon', 'paris']);
    // here as an alternate, by its own name or by an unknown first location: still only once
    expect(placesOf(workshop('lyon', ['portal', 'portal']), 'portal', BACKENDS)).toEqual(['lyon', HERE]);
    expect(placesOf(workshop('berlin', ['portal', 'paris']), 'portal', BACKENDS)).toEqual([HERE, 'paris']);
  });
});

describe('choosePlace', () => {
  const known =
    (seen: Partial<Record<string, Availability>>, here: Availability = 'seats') =>
    (p: Place) =>
      p === HERE ? here : (seen[p] ?? 'unknown');

  test('the first place with a seat now, in order', () => {
    expect(choosePlace(['lyon', 'paris'], known({ lyon: 'seats', paris: 'seats' }))).toBe('lyon');
    expect(choosePlace(['lyon', 'paris'], known({ lyon: 'full', paris: 'seats' }))).toBe('paris');
    // a seat later in the list beats a backend that has not answered
    expect(choosePlace(['lyon', 'paris'], known({ lyon: 'unknown', paris: 'seats' }))).toBe('paris');
  });

  test('here, when it has the seat, is chosen (null is a place, not "none")', () => {
    expect(choosePlace([HERE, 'lyon'], known({ lyon: 'seats' }))).toBe(HERE);
    expect(choosePlace(['lyon', HERE], known({ lyon: 'full' }))).toBe(HERE);
  });

  test('no seat anywhere: the first remote place not known to be full waits for it; here full is skipped', () => {
    expect(choosePlace([HERE, 'lyon', 'paris'], known({ lyon: 'full', paris: 'unknown' }, 'full'))).toBe('paris');
    expect(choosePlace([HERE, 'lyon'], known({ lyon: 'unknown' }, 'full'))).toBe('lyon');
    // here is never "unknown" to itself: full here and nowhere else is none
    expect(choosePlace([HERE], known({}, 'unknown'))).toBeUndefined();
    expect(choosePlace([HERE, 'lyon', 'paris'], known({ lyon: 'full', paris: 'full' }, 'full'))).toBeUndefined();
  });

  test('`not` is respected, here included', () => {
    expect(choosePlace(['lyon', 'paris'], known({ lyon: 'seats', paris: 'seats' }), ['lyon'])).toBe('paris');
    expect(choosePlace([HERE, 'lyon'], known({ lyon: 'unknown' }), [HERE])).toBe('lyon');
    expect(choosePlace(['lyon', 'paris'], known({ lyon: 'seats', paris: 'seats' }), ['lyon', 'paris'])).toBeUndefined();
  });
});

describe('pathBetween', () => {
  /** the states reachable from `from` in at most `steps` moves, by TRANSITIONS alone */
  const within = (from: RegistrationState, steps: number): Set<RegistrationState> => {
    let reached = new Set<RegistrationState>([from]);
    for (let i = 0; i < steps; i++) reached = new Set([...reached, ...[...reached].flatMap((s) => TRANSITIONS[s])]);
    return reached;
  };

  test.each(REGISTRATION_STATES.flatMap((from) => REGISTRATION_STATES.map((to) => [from, to] as const)))('%s → %s agrees with TRANSITIONS', (from, to) => {
    const path = pathBetween(from, to);
    if (path === null) {
      expect(within(from, REGISTRATION_STATES.length).has(to)).toBe(false);
      return;
    }
    // each move allowed, ending where asked, and none shorter exists
    [from, ...path].slice(0, -1).forEach((s, i) => expect(canMove(s, path[i])).toBe(true));
    expect(path.length ? path[path.length - 1] : from).toBe(to);
    if (path.length > 0) expect(within(from, path.length - 1).has(to)).toBe(false);
  });

  test('the moves a copy makes to follow its backend', () => {
    expect(pathBetween('registered', 'cleaned')).toEqual(['ended', 'cleaned']);
    expect(pathBetween('ready', 'cleaned')).toEqual(['ended', 'cleaned']);
    expect(pathBetween('registered', 'reminded')).toEqual(['ready', 'reminded']);
    expect(pathBetween('ready', 'ready')).toEqual([]);
    // never back, and never out of a final state
    expect(pathBetween('ended', 'ready')).toBeNull();
    expect(pathBetween('cleaned', 'ended')).toBeNull();
    expect(pathBetween('failed', 'cleaned')).toBeNull();
  });
});
