/**
 * Portal side of locations over a real SQLite file, without hubs: the copy of a routed
 * registration follows its backend's updates (locations/mirror.ts) through the allowed moves and
 * never back, a backend is heard only about what is seated there, and what the backend must be
 * told waits in location_commands (locations/commands.ts), whose list of commands is the
 * protocol's (locations/protocol.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import type { Letters } from '../../hub-service/src/journey/letters';
import { queueCommand } from '../../hub-service/src/locations/commands';
import { Mirror } from '../../hub-service/src/locations/mirror';
import { HERE } from '../../hub-service/src/locations/placement';
import { LOCATION_COMMANDS, type SeatUpdate } from '../../hub-service/src/locations/protocol';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { REGISTRATION_STATES } from '../../hub-service/src/registrations/states';
import { migrations } from '../../hub-service/src/store/migrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const roots: string[] = [];
afterAll(() => roots.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function setup() {
  const root = tempWorkshops();
  roots.push(root);
  writeWorkshop(root, 'WKSHP-Lyon', { location: 'lyon', alternateLocation: ['paris'], range: [1, 5], capacity: 5 });
  const db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 5);
  importWorkshops(db, scanWorkshops({ dir: root }, 5), 'test');
  // the portal's desk as main.ts wires it, its backends not heard from yet: a registration waits for lyon
  const registrations = new Registrations(db, {}, { placesOf: () => ['lyon', 'paris'], availability: () => 'unknown', routed: () => {} });
  const calls: [string, ...unknown[]][] = [];
  const letters = {
    reminder: (id: number, minutes: number) => void calls.push(['reminder', id, minutes]),
    thanks: (id: number) => void calls.push(['thanks', id]),
    apology: (id: number) => void calls.push(['apology', id]),
    feedback: (id: number, rating: number) => void calls.push(['feedback', id, rating]),
    credentials: async (c: { key: string; registrationId: number; student: string }) => void calls.push(['credentials', c.registrationId, c.key, c.student]),
  } as unknown as Letters;
  const mirror = new Mirror(db, letters);
  const register = (email: string) => registrations.register({ email, name: 'Ada', company: 'ACME', workshop: 'WKSHP-Lyon' }, { source: 'portal' }).id;
  const row = (id: number) =>
    db.prepare('SELECT state, location, routing, remote_student AS student, deadline_at AS deadlineAt, ended_at AS endedAt FROM registrations WHERE id = ?').get(id) as {
      state: string;
      location: string | null;
      routing: string | null;
      student: string | null;
      deadlineAt: string | null;
      endedAt: string | null;
    };
  const commands = () => db.prepare('SELECT location, registration_id AS id, command, minutes FROM location_commands ORDER BY id').all();
  const moves = (id: number) =>
    (db.prepare(`SELECT action FROM audit WHERE subject_type = 'registration' AND subject_id = ? ORDER BY id`).all(String(id)) as { action: string }[])
      .map((a) => a.action.replace(/^registration\./, ''))
      .filter((s) => (REGISTRATION_STATES as readonly string[]).includes(s));
  return { db, mirror, calls, register, row, commands, moves };
}

const update = (ref: number, u: Partial<SeatUpdate> = {}): SeatUpdate => ({
  ref,
  state: 'ready',
  student: 'student3',
  readyAt: new Date().toISOString(),
  deadlineAt: new Date(Date.now() + 3 * 3600_000).toISOString(),
  endedAt: null,
  endReason: null,
  completion: null,
  progress: null,
  checks: null,
  survey: null,
  ...u,
});

test('the registration waits for its backend: routed to lyon, pending, no seat here', () => {
  const { register, row } = setup();
  expect(row(register('ada@example.com'))).toMatchObject({ state: 'registered', location: 'lyon', routing: 'pending', student: null });
  expect(HERE).toBeNull();
});

test('an update from a backend it is not seated at changes nothing, and that backend is told to let it go, once', () => {
  const { mirror, register, row, commands, calls } = setup();
  const id = register('ada@example.com');
  expect(mirror.apply('lyon', update(id))).toBe('applied');
  const before = row(id);
  expect(
    mirror.apply('paris', update(id, { state: 'ended', student: 'student9', deadlineAt: new Date(Date.now() + 99 * 3600_000).toISOString(), endedAt: new Date().toISOString() })),
  ).toBe('moved-away');
  expect(mirror.apply('paris', update(id, { state: 'reminded' }))).toBe('moved-away');
  expect(row(id)).toEqual(before);
  expect(commands()).toEqual([{ location: 'paris', id, command: 'cancel', minutes: null }]);
  // a backend whose copy is over already needs no telling
  expect(mirror.apply('berlin', update(id, { state: 'cleaned' }))).toBe('moved-away');
  expect(commands()).toHaveLength(1);
  // nor is a registration the portal never had anybody's
  expect(mirror.apply('lyon', update(999))).toBe('unknown');
  expect(commands()).toHaveLength(1);
  expect(calls).toEqual([]);
});

const credentials = (ref: number) => ({ ref, key: 'job-7', student: 'student3', password: 'long-enough', deadlineAt: new Date(Date.now() + 3600_000).toISOString() });

test('credentials from its backend: the copy is ready with their deadline, and they are mailed', async () => {
  const { mirror, register, row, calls } = setup();
  const id = register('ada@example.com');
  const c = credentials(id);
  await expect(mirror.credentials('lyon', c)).resolves.toBe('applied');
  expect(row(id)).toMatchObject({ state: 'ready', routing: 'accepted', student: 'student3', deadlineAt: c.deadlineAt });
  expect(calls).toEqual([['credentials', id, `credentials-${id}-lyon-job-7`, 'student3']]);
});

test('credentials from a backend it is not seated at: refused, nothing mailed, nothing changed', async () => {
  const { mirror, register, row, calls } = setup();
  const id = register('ada@example.com');
  const before = row(id);
  await expect(mirror.credentials('paris', credentials(id))).resolves.toBe('moved-away');
  await expect(mirror.credentials('lyon', credentials(999))).resolves.toBe('unknown');
  expect(row(id)).toEqual(before);
  expect(calls).toEqual([]);
});

// The end is on its way to the backend, whose CREATE still sends the credentials: a seat here would not be mailed then either (lifecycle/create.ts).
test('credentials for a copy ended here meanwhile are not mailed', async () => {
  const { db, mirror, register, calls, row } = setup();
  const id = register('ada@example.com');
  db.prepare(`UPDATE registrations SET state = 'ended', ended_at = ?, end_reason = 'participant' WHERE id = ?`).run(new Date().toISOString(), id);
  const before = row(id);
  await mirror.credentials('lyon', credentials(id));
  expect(calls).toEqual([]);
  expect(row(id)).toEqual(before);
});

test('ready → cleaned moves through ended and thanks them once', () => {
  const { mirror, register, row, moves, calls } = setup();
  const id = register('ada@example.com');
  mirror.apply('lyon', update(id));
  expect(row(id)).toMatchObject({ state: 'ready', routing: 'accepted', student: 'student3' });
  const done = update(id, { state: 'cleaned', endedAt: new Date().toISOString(), endReason: 'participant', completion: 1 });
  expect(mirror.apply('lyon', done)).toBe('applied');
  expect(mirror.apply('lyon', done)).toBe('applied');
  expect(row(id).state).toBe('cleaned');
  expect(moves(id)).toEqual(['ready', 'ended', 'cleaned']);
  expect(calls).toEqual([['thanks', id]]);
});

test('an update never moves a registration back: ended here stays ended when the backend still says ready', () => {
  const { db, mirror, register, row, moves } = setup();
  const id = register('ada@example.com');
  mirror.apply('lyon', update(id));
  // the participant ended it here; the end is on its way to lyon, whose last update is older
  const endedAt = new Date().toISOString();
  db.prepare(`UPDATE registrations SET state = 'ended', ended_at = ?, end_reason = 'participant' WHERE id = ?`).run(endedAt, id);
  expect(mirror.apply('lyon', update(id, { state: 'ready' }))).toBe('applied');
  expect(mirror.apply('lyon', update(id, { state: 'reminded' }))).toBe('applied');
  expect(row(id)).toMatchObject({ state: 'ended', endedAt });
  expect(moves(id)).toEqual(['ready']);
});

test('queueCommand: an end or a cancel not yet delivered is queued once; more time adds up', () => {
  const { db, register, commands } = setup();
  const id = register('ada@example.com');
  for (let i = 0; i < 2; i++) {
    queueCommand(db, { location: 'lyon', registrationId: id, command: 'end' });
    queueCommand(db, { location: 'lyon', registrationId: id, command: 'cancel' });
    queueCommand(db, { location: 'lyon', registrationId: id, command: 'extend', minutes: 30 + i });
  }
  // the same command for another backend is another command
  queueCommand(db, { location: 'paris', registrationId: id, command: 'end' });
  expect(commands()).toEqual([
    { location: 'lyon', id, command: 'end', minutes: null },
    { location: 'lyon', id, command: 'cancel', minutes: null },
    { location: 'lyon', id, command: 'extend', minutes: 30 },
    { location: 'lyon', id, command: 'extend', minutes: 31 },
    { location: 'paris', id, command: 'end', minutes: null },
  ]);
});

test("LOCATION_COMMANDS is the location_commands table's CHECK list", () => {
  const sql = migrations.map((m) => m.sql).join('\n');
  const table = /CREATE TABLE location_commands \(([\s\S]*?)\) STRICT;/.exec(sql)?.[1];
  const list = /command\s+TEXT NOT NULL CHECK \(command IN \(([^)]*)\)\)/.exec(table ?? '')?.[1];
  expect(list).toBeDefined();
  expect(list!.split(',').map((s) => s.trim().replace(/^'|'$/g, ''))).toEqual([...LOCATION_COMMANDS]);
});
