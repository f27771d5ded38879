/**
 * The data folder at start: found open to others, its databases, logs and mails are closed; a
 * secret found readable is refused with its name; students' accounts that cannot reach what their
 * servers need make the start refuse, naming the path and the fix (never a silent wait).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../hub-service/src/config/load';
import { secureDataFolder } from '../../hub-service/src/isolation/data-folder';
import { prepare } from '../../hub-service/src/prepare';
import { openDatabase } from '../../hub-service/src/store/db';
import { attack } from '../support/attacks';

const asRoot = process.getuid?.() === 0;
const modeOf = (f: string) => fs.statSync(f).mode & 0o777;
const temp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'wod-modes-'));

test('a new database and its -wal and -shm are private from the first byte', async () => {
  const dir = temp();
  const old = process.umask(0o022);
  try {
    const db = openDatabase(path.join(dir, 'wod.sqlite'));
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    await attack('the database, its -wal or -shm readable by others', () => {
      for (const f of ['wod.sqlite', 'wod.sqlite-wal', 'wod.sqlite-shm']) expect(modeOf(path.join(dir, f))).toBe(0o600);
    });
    db.close();
  } finally {
    process.umask(old);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a start closes what it finds open to others, and says so', async () => {
  const dir = temp();
  try {
    fs.chmodSync(dir, 0o755);
    for (const f of ['wod.sqlite', 'wod.sqlite-wal', 'jupyterhub.sqlite', 'test-run.log']) fs.writeFileSync(path.join(dir, f), 'x', { mode: 0o644 });
    fs.mkdirSync(path.join(dir, 'outbox'), { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'outbox', 'a.eml'), 'x', { mode: 0o644 });
    fs.mkdirSync(path.join(dir, 'homes'), { mode: 0o755 });
    const fixed = secureDataFolder(dir, { secrets: path.join(dir, 'secrets'), homeRoot: path.join(dir, 'homes'), traversable: false });
    await attack('a world-readable database or mail kept at start', () => {
      expect(modeOf(dir)).toBe(0o700);
      for (const f of ['wod.sqlite', 'wod.sqlite-wal', 'jupyterhub.sqlite', 'test-run.log', 'outbox/a.eml']) expect(modeOf(path.join(dir, f))).toBe(0o600);
      expect(modeOf(path.join(dir, 'outbox'))).toBe(0o700);
      expect(modeOf(path.join(dir, 'homes'))).toBe(0o711);
    });
    expect(fixed).toEqual(expect.arrayContaining(['wod.sqlite was open to others (0644): now 0600', 'outbox/a.eml was open to others (0644): now 0600']));
    expect(secureDataFolder(dir, { secrets: path.join(dir, 'secrets'), homeRoot: path.join(dir, 'homes'), traversable: false })).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a secret found readable by others is refused, by name', async () => {
  const dir = temp();
  try {
    fs.mkdirSync(path.join(dir, 'secrets'), { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'secrets', 'session-key'), 'k'.repeat(64), { mode: 0o644 });
    await attack('a world-readable secret used at start', () => {
      expect(() => secureDataFolder(dir, { secrets: path.join(dir, 'secrets'), homeRoot: path.join(dir, 'homes'), traversable: false })).toThrow(
        /secrets\/session-key is readable by others \(0644\) and may have been read: remove it/,
      );
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

(asRoot ? test : test.skip)('system-users from a private checkout: the start refuses, naming the path and the fix', async () => {
  // A checkout inside a 0700 folder, as a clone in /root is: its .venv is out of the students' reach.
  const outer = temp();
  const checkout = path.join(outer, 'wod');
  const venv = path.join(checkout, '.venv');
  fs.mkdirSync(path.join(venv, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(venv, 'bin', 'jupyterhub-singleuser'), '#!/bin/sh\n', { mode: 0o755 });
  const ext = path.join(venv, 'share', 'jupyter', 'labextensions', '@wod', 'labextension');
  fs.mkdirSync(ext, { recursive: true });
  fs.writeFileSync(path.join(ext, 'package.json'), '{}', { mode: 0o644 });
  for (const d of [
    checkout,
    venv,
    path.join(venv, 'bin'),
    path.join(venv, 'share'),
    path.join(venv, 'share', 'jupyter'),
    path.join(venv, 'share', 'jupyter', 'labextensions'),
    path.dirname(ext),
    ext,
  ])
    fs.chmodSync(d, 0o755);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-data-'));
  const homeRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-homes-'));
  const env = { WOD_DATA_DIR: dataDir, WOD_STUDENTS_MODE: 'system-users', WOD_STUDENTS_HOME_ROOT: homeRoot, WOD_ADMIN_PASSWORD: 'a-long-enough-password' };
  const config = loadConfig({ projectRoot: checkout, env });
  try {
    fs.chmodSync(outer, 0o700);
    await attack('system-users from a private checkout waits silently for servers that never start', async () => {
      await expect(prepare(config, env)).rejects.toThrow(
        new RegExp(`student accounts cannot reach ${venv}/bin/jupyterhub-singleuser, which their servers need: run 'bash scripts/setup' as root`),
      );
    });
    fs.chmodSync(outer, 0o755); // the same checkout, reachable: the start goes on
    // the admin is made with the operator's own password, which is theirs already: nothing to print
    await expect(prepare(config, env)).resolves.toEqual([]);
  } finally {
    for (const d of [outer, dataDir, homeRoot]) fs.rmSync(d, { recursive: true, force: true });
  }
});
