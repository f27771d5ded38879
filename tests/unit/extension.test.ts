/**
 * More time asked by the participant (registrations/extension.ts), on a real SQLite file: wod.yml's
 * `extend`, every refusal with its reason (and nothing changed), the grant (the deadline moved, the
 * count, the audit as the participant), who counts as waiting for the seat (demand not seated: a
 * warm event's seats not taken; never a registration being deployed, it holds its seat), the one
 * read it takes, and the lab clock's offer (labextension/src/extension.ts).
 */
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { parseWorkshopSpec } from '../../hub-service/src/catalog/spec';
import { scheduleWarm } from '../../hub-service/src/lifecycle/warm';
import { syncPool } from '../../hub-service/src/pool/pool';
import { askExtension, EXTENSION_REFUSALS, ExtensionError, extensionNow } from '../../hub-service/src/registrations/extension';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { type Alert, staleAlerts } from '../../labextension/src/clock';
import { EXTENSION_REFUSALS as LAB_REFUSALS, extensionOffer, extensionResult } from '../../labextension/src/extension';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const WINDOW = 60;
const NOW = Date.parse('2026-12-02T10:00:00.000Z');
const minutes = (n: number) => new Date(NOW + n * 60_000).toISOString();

describe('wod.yml extend', () => {
  const parse = (extend: string) => parseWorkshopSpec({ text: `name: A\ndescription: d\ncapacity: 1\nrange: [1, 2]\n${extend}`, file: 'wod.yml' }, 'WKSHP-A');

  test('a mapping of minutes and times; absent or no: not allowed', () => {
    expect(parse('extend: {minutes: 30, times: 1}').spec!.extend).toEqual({ minutes: 30, times: 1 });
    expect(parse('Extend: {Minutes: "15", times: 2}').spec!.extend).toEqual({ minutes: 15, times: 2 });
    expect(parse('').spec!.extend).toBeNull();
    expect(parse('extend: no').spec!.extend).toBeNull();
  });

  test.each([
    ['extend: {minutes: 0, times: 1}', "minutes '0' is not a whole number from 1 to 240"],
    ['extend: {minutes: 30, times: 11}', "times '11' is not a whole number from 1 to 10"],
    ['extend: {minutes: 30}', 'times is missing'],
    ['extend: {minutes: 30, times: 1, hours: 2}', 'unknown key hours (only minutes and times)'],
    ['extend: 30', "'30' is not a mapping of minutes and times"],
    ['extend: [30, 1]', "'[30,1]' is not a mapping of minutes and times"],
  ])('%s is refused: %s', (line, message) => {
    const { spec, problems } = parse(line);
    expect(spec).toBeNull();
    expect(problems).toEqual([
      expect.objectContaining({ severity: 'error', field: 'extend', line: 5, message, fix: expect.stringContaining('extend: { minutes: 30, times: 1 }') }),
    ]);
  });
});

describe('the rule', () => {
  function setup() {
    const root = tempWorkshops();
    writeWorkshop(root, 'WKSHP-More', { range: [1, 2], capacity: 2, extend: { minutes: 30, times: 1 } });
    writeWorkshop(root, 'WKSHP-Fixed', { range: [3, 4], capacity: 2 });
    const db = openDatabase(path.join(root, 'wod.sqlite'));
    syncPool(db, 4);
    importWorkshops(db, scanWorkshops({ dir: root }, 4), 'test');
    const registrations = new Registrations(db);
    const register = (email: string, workshop: string) =>
      registrations.register({ email, name: 'A Person', company: 'ACME', workshop, acceptTerms: true }, { source: 'portal' }).id;
    const ready = (id: number, left: number) =>
      db.prepare(`UPDATE registrations SET state = 'ready', ready_at = ?, deadline_at = ? WHERE id = ?`).run(minutes(-60), minutes(left), id);
    const row = (id: number) =>
      db.prepare('SELECT deadline_at AS deadlineAt, extensions_used AS used FROM registrations WHERE id = ?').get(id) as { deadlineAt: string; used: number };
    const audits = (id: number) =>
      db.prepare(`SELECT actor, details FROM audit WHERE action = 'registration.extended' AND subject_id = ?`).all(String(id)) as { actor: string; details: string }[];
    const ask = (id: number) => askExtension(db, registrations, id, 'participant:ada@example.com', WINDOW, NOW);
    /** The refusal's code and reason, after checking that it changed nothing. */
    const refused = (id: number) => {
      const before = row(id);
      let error: unknown = null;
      try {
        ask(id);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ExtensionError);
      expect(row(id)).toEqual(before);
      const answer = extensionNow(db, id, WINDOW, NOW);
      expect(answer).toEqual(expect.objectContaining({ allowed: false, code: (error as ExtensionError).code, reason: (error as ExtensionError).message }));
      return { code: (error as ExtensionError).code, reason: (error as ExtensionError).message };
    };
    return { db, register, ready, row, audits, ask, refused };
  }

  test('granted in the last minutes: the deadline moves, once, audited as the participant; a second ask is refused', () => {
    const { register, ready, row, audits, ask, refused } = setup();
    const id = register('ada@example.com', 'WKSHP-More');
    ready(id, 20);
    const view = ask(id);
    expect(view.deadlineAt).toBe(minutes(50));
    expect(row(id)).toEqual({ deadlineAt: minutes(50), used: 1 });
    expect(audits(id)).toEqual([{ actor: 'participant:ada@example.com', details: JSON.stringify({ minutes: 30, deadline: minutes(50) }) }]);
    expect(refused(id)).toEqual({ code: 'already-extended', reason: 'you already had more time once; this workshop allows it once' });
    expect(audits(id)).toHaveLength(1);
  });

  test('refused: not allowed for the workshop, clock not running, too early', () => {
    const { register, ready, refused } = setup();
    const fixed = register('bob@example.com', 'WKSHP-Fixed');
    ready(fixed, 20);
    expect(refused(fixed)).toEqual({ code: 'not-allowed', reason: 'this workshop does not allow more time' });
    const waiting = register('cy@example.com', 'WKSHP-More');
    expect(refused(waiting)).toEqual({ code: 'not-running', reason: "your workshop's clock is not running (registered)" });
    const early = register('dee@example.com', 'WKSHP-More');
    ready(early, 61);
    expect(refused(early)).toEqual({ code: 'too-early', reason: 'too early: ask in the last 60 minutes' });
  });

  test('refused once the deadline has passed, during the end grace too: the workshop does not come back', () => {
    const { register, ready, refused } = setup();
    const late = register('ada@example.com', 'WKSHP-More');
    ready(late, -1);
    expect(refused(late)).toEqual({ code: 'not-running', reason: "your workshop's time is up: it is ending" });
    const due = register('bob@example.com', 'WKSHP-More');
    ready(due, 0);
    expect(refused(due).code).toBe('not-running');
  });

  test('a full class with a registration still deploying and no event is granted: that registration holds its seat, nobody waits', () => {
    const { db, register, ready, row, ask } = setup();
    const id = register('ada@example.com', 'WKSHP-More');
    ready(id, 5);
    const other = register('bob@example.com', 'WKSHP-More');
    db.prepare(`UPDATE registrations SET state = 'deploying' WHERE id = ?`).run(other);
    // full (2 of 2), bob's lab still being prepared
    expect(extensionNow(db, id, WINDOW, NOW)).toEqual({ allowed: true, minutes: 30 });
    expect(ask(id).deadlineAt).toBe(minutes(35));
    expect(row(id).used).toBe(1);
  });

  test("the seat is needed when the workshop is full and a running warm event's seats are not taken yet", () => {
    const { db, register, ready, row, refused, ask } = setup();
    const id = register('ada@example.com', 'WKSHP-More');
    ready(id, 5);
    const other = register('bob@example.com', 'WKSHP-More');
    ready(other, 100);
    // full, and a class of one expected now
    const event = scheduleWarm(db, { workshop: 'WKSHP-More', seats: 1, startsAt: new Date(NOW - 60_000), endsAt: new Date(NOW + 3_600_000) }, 'admin', new Date(NOW - 120_000));
    const scheduledAt = (at: string) => db.prepare('UPDATE warm_events SET created_at = ? WHERE id = ?').run(at, event.id);
    scheduledAt(minutes(-2));
    expect(refused(id)).toEqual({ code: 'seat-needed', reason: 'the seat is needed: people are waiting for this workshop' });
    // bob registered during the event: he took its seat, nobody else is expected
    db.prepare('UPDATE registrations SET created_at = ? WHERE id = ?').run(minutes(-0.5), other);
    expect(extensionNow(db, id, WINDOW, NOW)).toEqual({ allowed: true, minutes: 30 });
    // the event was scheduled after bob registered: he is no part of its class
    scheduledAt(minutes(-0.2));
    expect(refused(id).code).toBe('seat-needed');
    // a free seat again: the event's people find one, so the seat is not needed
    db.prepare(`UPDATE registrations SET state = 'ended' WHERE id = ?`).run(other);
    db.prepare(`UPDATE students SET state = 'free', registration_id = NULL WHERE name = 'student2'`).run();
    expect(ask(id).deadlineAt).toBe(minutes(35));
    expect(row(id).used).toBe(1);
  });

  test("one read, of this registration's workshop only; a spec stored before extend existed allows none", () => {
    const { db, register, ready } = setup();
    const id = register('ada@example.com', 'WKSHP-More');
    ready(id, 5);
    const prepare = jest.spyOn(db, 'prepare');
    expect(extensionNow(db, id, WINDOW, NOW)).toEqual({ allowed: true, minutes: 30 });
    expect(prepare).toHaveBeenCalledTimes(1);
    prepare.mockRestore();
    db.prepare(`UPDATE workshops SET spec = json_remove(spec, '$.extend') WHERE folder = 'WKSHP-More'`).run();
    expect(extensionNow(db, id, WINDOW, NOW)).toEqual(expect.objectContaining({ allowed: false, code: 'not-allowed' }));
  });

  test('a registration that does not exist has no answer', () => {
    expect(extensionNow(setup().db, 999, WINDOW, NOW)).toBeNull();
  });
});

describe("the lab clock's offer", () => {
  const extension = (possible: boolean, minutes: number | null) => ({
    extension: { possible, minutes, code: possible ? null : 'too-early', reason: possible ? null : 'too early' },
  });

  test('offered only when the service says asking would be granted', () => {
    expect(extensionOffer(extension(true, 30))).toBe('Ask for 30 more minutes');
    expect(extensionOffer(extension(true, 1))).toBe('Ask for 1 more minute');
    expect(extensionOffer(extension(false, 30))).toBeNull();
    expect(extensionOffer(null)).toBeNull();
  });

  test('the ten-minute call is due again once more time came, not before', () => {
    const shown = new Set<Alert>(['ten-minutes']);
    expect(staleAlerts(9 * 60, shown)).toEqual([]);
    expect(staleAlerts(39 * 60, shown)).toEqual(['ten-minutes']);
    expect(staleAlerts(39 * 60, new Set<Alert>(['ended']))).toEqual([]);
  });

  test('says the new end, or the reason for refusing', () => {
    const at = (d: Date) => d.toISOString().slice(11, 16);
    expect(extensionResult({ deadline: new Date('2026-12-02T10:50:00Z') }, at)).toEqual({ title: 'More time granted', body: 'Your workshop now ends at 10:50.' });
    expect(extensionResult({ refused: 'the seat is needed: people are waiting for this workshop', code: 'seat-needed' }, at)).toEqual({
      title: 'No more time',
      body: 'Your seat is needed by someone waiting for this workshop.',
    });
    // a reason the lab has no words for: the service's own
    expect(extensionResult({ refused: 'something new', code: 'new-reason' }, at)).toEqual({ title: 'No more time', body: 'Something new.' });
  });

  test("the lab words every one of the service's refusals", () => {
    expect(LAB_REFUSALS).toEqual(EXTENSION_REFUSALS);
    const bodies = LAB_REFUSALS.map((code) => extensionResult({ refused: 'x', code }, () => '').body);
    expect(bodies.every((b) => b !== 'X.')).toBe(true);
    expect(new Set(bodies).size).toBe(LAB_REFUSALS.length);
  });
});
