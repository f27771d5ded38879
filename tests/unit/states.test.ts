/** The registration state machine (registrations/states.ts): one table, one function, every list derived from it. */
import fs from 'node:fs';
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import {
  canMove,
  CLOCK_RUNNING,
  DEPLOYING,
  FINAL,
  HOLDS_SEAT,
  IllegalTransition,
  moveRegistration,
  REGISTRATION_STATES,
  TRANSITIONS,
} from '../../hub-service/src/registrations/states';
import { openDatabase } from '../../hub-service/src/store/db';
import { CLOCK_RUNNING as LAB_CLOCK_RUNNING } from '../../labextension/src/states';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

function setup() {
  const root = tempWorkshops();
  writeWorkshop(root, 'WKSHP-A', { range: [1, 3], capacity: 3 });
  const db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 3);
  importWorkshops(db, scanWorkshops({ dir: root }, 3), 'test');
  const registrations = new Registrations(db);
  const id = registrations.register({ email: 'ada@example.com', name: 'Ada', company: 'ACME', workshop: 'WKSHP-A', acceptTerms: true }, { source: 'portal' }).id;
  const state = () => (db.prepare('SELECT state FROM registrations WHERE id = ?').get(id) as { state: string }).state;
  const audits = () =>
    db.prepare(`SELECT actor, action, details FROM audit WHERE subject_type = 'registration' AND subject_id = ? ORDER BY id`).all(String(id)) as {
      actor: string;
      action: string;
      details: string;
    }[];
  return { db, registrations, id, state, audits };
}

test('the table: the life of a registration, final states, and the named subsets', () => {
  expect(TRANSITIONS).toEqual({
    registered: ['deploying', 'ready', 'ended', 'failed'],
    deploying: ['ready', 'ended', 'failed'],
    ready: ['reminded', 'ended', 'failed'],
    reminded: ['ended', 'failed'],
    ended: ['cleaned', 'failed'],
    cleaned: [],
    failed: [],
  });
  expect(Object.keys(TRANSITIONS)).toEqual([...REGISTRATION_STATES]);
  expect(FINAL).toEqual(['cleaned', 'failed']);
  expect(HOLDS_SEAT).toEqual(['registered', 'deploying', 'ready', 'reminded']);
  // every subset is made of states, and a running clock holds a seat
  for (const s of [...HOLDS_SEAT, ...CLOCK_RUNNING, ...DEPLOYING]) expect(REGISTRATION_STATES).toContain(s);
  for (const s of CLOCK_RUNNING) expect(HOLDS_SEAT).toContain(s);
  expect(canMove('ready', 'cleaned')).toBe(false);
  expect(canMove('ended', 'cleaned')).toBe(true);
});

test('the lab extension means by running what the service means by a running clock', () => {
  expect([...LAB_CLOCK_RUNNING]).toEqual([...CLOCK_RUNNING]);
});

test("the store's CHECK and its one-running-registration indexes are the table's lists", () => {
  const { db } = setup();
  const sql = (name: string) => (db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(name) as { sql: string }).sql;
  const list = (text: string) => [...text.matchAll(/'(\w+)'/g)].map((m) => m[1]);
  expect(list(sql('registrations').match(/state\s+TEXT[^,]*CHECK \(state IN \(([^)]*)\)\)/)![1])).toEqual([...REGISTRATION_STATES]);
  expect(list(sql('registrations_one_active_per_participant'))).toEqual([...HOLDS_SEAT]);
  expect(list(sql('registrations_one_active_per_student'))).toEqual([...HOLDS_SEAT, 'ended']);
});

test('a legal move changes the state, sets its columns, and writes the audit entry', () => {
  const { db, id, state, audits } = setup();
  expect(moveRegistration(db, id, { to: 'deploying', actor: 'system', details: { job: 1 } })).toBe('registered');
  expect(moveRegistration(db, id, { to: 'ready', actor: 'system', set: { deadline_at: '2030-01-01T00:00:00.000Z' } })).toBe('deploying');
  expect(state()).toBe('ready');
  expect(db.prepare('SELECT deadline_at FROM registrations WHERE id = ?').get(id)).toEqual({ deadline_at: '2030-01-01T00:00:00.000Z' });
  expect(audits().map((a) => [a.action, JSON.parse(a.details)])).toEqual([
    ['registration.created', expect.objectContaining({ source: 'portal' })],
    ['registration.deploying', { from: 'registered', job: 1 }],
    ['registration.ready', { from: 'deploying' }],
  ]);
});

test('an illegal move is refused with a clear error and changes nothing; a repeated or raced move is skipped', () => {
  const { db, id, state, audits } = setup();
  expect(() => moveRegistration(db, id, { to: 'cleaned', actor: 'system' })).toThrow(IllegalTransition);
  expect(() => moveRegistration(db, id, { to: 'cleaned', actor: 'system' })).toThrow(
    `registration ${id} cannot go from registered to cleaned (allowed from registered: deploying, ready, ended, failed)`,
  );
  expect(state()).toBe('registered');
  expect(audits()).toHaveLength(1);
  // the same state again (a step run twice) and a state outside onlyFrom (someone moved it first) do nothing
  expect(moveRegistration(db, id, { to: 'registered', actor: 'system' })).toBeNull();
  expect(moveRegistration(db, id, { to: 'reminded', actor: 'system', onlyFrom: ['ready'] })).toBeNull();
  moveRegistration(db, id, { to: 'failed', actor: 'system' });
  expect(() => moveRegistration(db, id, { to: 'ready', actor: 'system' })).toThrow(/cannot go from failed to ready \(allowed from failed: none, it is final\)/);
});

test('the desk ends a registration through the one function', () => {
  const { registrations, id, state, audits } = setup();
  registrations.end(id, 'admin:root', 'admin');
  expect(state()).toBe('ended');
  expect(audits().at(-1)).toMatchObject({ actor: 'admin:root', action: 'registration.ended' });
  expect(JSON.parse(audits().at(-1)!.details)).toEqual({ from: 'registered', reason: 'admin' });
});

test('no module but states.ts writes a registration state', () => {
  const src = path.join(__dirname, '../../hub-service/src');
  const files = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
  const writers = files(src).filter(
    (f) => /UPDATE registrations SET[^`]*\bstate\s*=/.test(fs.readFileSync(f, 'utf8')) || /INSERT INTO registrations[^`]*\bstate\b/.test(fs.readFileSync(f, 'utf8')),
  );
  expect(writers.map((f) => path.relative(src, f))).toEqual([path.join('registrations', 'states.ts')]);
});
