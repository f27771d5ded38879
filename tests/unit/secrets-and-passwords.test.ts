import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Sealer, safeEqual } from '../../hub-service/src/auth/seal';
import { UNAMBIGUOUS, generatePassword, hashPassword, verifyPassword } from '../../hub-service/src/accounts/passwords';
import { ensureSecretFile, readSecretFile } from '../../hub-service/src/secrets';

describe('passwords', () => {
  test('a hash verifies its password and nothing else, and never contains it', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(hash).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
    expect(await verifyPassword('x', 'plain-text')).toBe(false);
    expect(await hashPassword('same')).not.toBe(await hashPassword('same')); // salted
  });

  test('generated passwords use the unambiguous alphabet', () => {
    const pw = generatePassword(16);
    expect(pw).toHaveLength(16);
    expect([...pw].every((ch) => UNAMBIGUOUS.includes(ch))).toBe(true);
    expect(UNAMBIGUOUS).not.toMatch(/[0O1lI]/);
    expect(new Set(Array.from({ length: 50 }, () => generatePassword())).size).toBe(50);
  });
});

describe('sealed cookies', () => {
  const sealer = new Sealer('a'.repeat(64));
  test('round-trip, and anything altered or sealed elsewhere is rejected', () => {
    const sealed = sealer.seal({ token: 'abc', n: 1 });
    expect(sealer.unseal(sealed)).toEqual({ token: 'abc', n: 1 });
    expect(sealed).not.toContain('abc');
    const flipped = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'B' : 'A') + sealed.slice(-1);
    expect(sealer.unseal(flipped)).toBeNull();
    expect(new Sealer('b'.repeat(64)).unseal(sealed)).toBeNull();
    expect(sealer.unseal(undefined)).toBeNull();
    expect(sealer.unseal('garbage')).toBeNull();
  });
  test('MACs are stable per key and compared in constant time', () => {
    expect(sealer.mac('x')).toBe(sealer.mac('x'));
    expect(sealer.mac('x')).not.toBe(new Sealer('b'.repeat(64)).mac('x'));
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });
});

describe('secret files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-secrets-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  test('created once with mode 0600 in a 0700 folder, then kept', () => {
    const file = path.join(dir, 'secrets', 'key');
    expect(ensureSecretFile(file)).toBe(true);
    const first = readSecretFile(file);
    expect(ensureSecretFile(file)).toBe(false);
    expect(readSecretFile(file)).toBe(first);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });
  test('a readable or missing secret is refused with the fix', () => {
    const file = path.join(dir, 'loose');
    fs.writeFileSync(file, 'x'.repeat(64), { mode: 0o644 });
    expect(() => readSecretFile(file)).toThrow(/chmod 600/);
    expect(() => readSecretFile(path.join(dir, 'none'))).toThrow(/wod prepare/);
  });
});
