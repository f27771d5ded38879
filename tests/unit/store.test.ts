import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Accounts } from '../../hub-service/src/accounts/accounts';
import { migrate, openDatabase, schemaVersion } from '../../hub-service/src/store/db';
import { migrations } from '../../hub-service/src/store/migrations';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-store-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a new database is in WAL mode with every migration applied, once', () => {
  const file = path.join(dir, 'a.sqlite');
  const db = openDatabase(file);
  expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  expect(schemaVersion(db)).toBe(Math.max(...migrations.map((m) => m.version)));
  expect(migrate(db, migrations)).toEqual([]);
  db.close();
  const again = openDatabase(file);
  expect(schemaVersion(again)).toBe(Math.max(...migrations.map((m) => m.version)));
  again.close();
});

test('a failing migration leaves nothing half-applied', () => {
  const db = openDatabase(path.join(dir, 'b.sqlite'));
  const broken = [...migrations, { version: 999, name: 'broken', sql: 'CREATE TABLE t (x); INSERT INTO nope VALUES (1);' }];
  expect(() => migrate(db, broken)).toThrow(/nope/);
  expect(schemaVersion(db)).toBeLessThan(999);
  expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 't'").get()).toBeUndefined();
  db.close();
});

test('accounts keep only a hash and verify passwords', async () => {
  const db = openDatabase(path.join(dir, 'c.sqlite'));
  const accounts = new Accounts(db);
  const pw = await accounts.resetPassword('alice');
  expect(accounts.exists('alice')).toBe(true);
  expect(await accounts.verify('alice', pw)).toBe(true);
  expect(await accounts.verify('alice', pw + 'x')).toBe(false);
  expect(await accounts.verify('bob', pw)).toBe(false);
  const stored = JSON.stringify(db.prepare('SELECT * FROM accounts').all());
  expect(stored).not.toContain(pw);
  const next = await accounts.resetPassword('alice');
  expect(await accounts.verify('alice', pw)).toBe(false);
  expect(await accounts.verify('alice', next)).toBe(true);
  db.close();
});
