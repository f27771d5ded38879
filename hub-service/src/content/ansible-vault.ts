/**
 * Ansible Vault, read only: the original's private variables hold secrets encrypted with
 * `ansible-vault encrypt_string` (`KEY: !vault |`) or whole files encrypted with `ansible-vault
 * encrypt`, under the password in its `vault_secret`. This opens format 1.1 and 1.2 (AES256):
 * PBKDF2-SHA256 (10000 rounds) gives the AES-256-CTR key, the HMAC-SHA256 key and the counter; the
 * HMAC is checked before anything is decrypted. Pure: text and password in, text out.
 */
import crypto from 'node:crypto';

export class VaultError extends Error {}

const HEADER = /^\$ANSIBLE_VAULT;(1\.[12]);AES256(?:;[^\n]*)?\n/;

export function isVaulted(text: string): boolean {
  return HEADER.test(text.trimStart());
}

export function decryptVault(text: string, password: string): string {
  const trimmed = text.trimStart();
  const header = trimmed.match(HEADER);
  if (!header) throw new VaultError('not an Ansible Vault text ($ANSIBLE_VAULT;1.1;AES256)');
  const envelope = Buffer.from(trimmed.slice(header[0].length).replace(/\s+/g, ''), 'hex').toString('latin1').split('\n');
  if (envelope.length !== 3) throw new VaultError('the vault text is damaged');
  const [salt, mac, ciphertext] = envelope.map((part) => Buffer.from(part, 'hex'));
  const derived = crypto.pbkdf2Sync(Buffer.from(password, 'utf8'), salt, 10_000, 80, 'sha256');
  const expected = crypto.createHmac('sha256', derived.subarray(32, 64)).update(ciphertext).digest();
  if (mac.length !== expected.length || !crypto.timingSafeEqual(mac, expected)) throw new VaultError('wrong vault password, or the vault text is damaged');
  const decipher = crypto.createDecipheriv('aes-256-ctr', derived.subarray(0, 32), derived.subarray(64, 80));
  const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  // PKCS#7 padding to AES's 16-byte blocks, as Ansible pads
  const pad = padded[padded.length - 1];
  if (!pad || pad > 16 || padded.length < pad) throw new VaultError('wrong vault password, or the vault text is damaged');
  return padded.subarray(0, padded.length - pad).toString('utf8');
}
