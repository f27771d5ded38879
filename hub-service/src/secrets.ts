import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Secrets live in files of mode 0600 inside a 0700 folder of the data folder: generated on first
 * start, never in git, never logged.
 */
export function ensureSecretFile(file: string, bytes = 32): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(file), 0o700);
  try {
    fs.writeFileSync(file, crypto.randomBytes(bytes).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  }
}

export function readSecretFile(file: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new Error(`secret file ${file} is missing: run 'npx wod prepare' (npm start does it)`);
  }
  if (stat.mode & 0o077) throw new Error(`secret file ${file} must not be readable by others (chmod 600 it)`);
  const value = fs.readFileSync(file, 'utf8').trim();
  if (value.length < 32) throw new Error(`secret file ${file} is too short to be a secret`);
  return value;
}
