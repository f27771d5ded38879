import type { Db } from '../store/db.js';
import { generatePassword, hashPassword, verifyPassword } from './passwords.js';

/** Hub logins that are not students (admins, operators), stored with hashed passwords only. */
export class Accounts {
  constructor(private readonly db: Db) {}

  exists(name: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM accounts WHERE name = ?').get(name);
  }

  async setPassword(name: string, password: string): Promise<void> {
    const hash = await hashPassword(password);
    this.db
      .prepare(
        `INSERT INTO accounts (name, password_hash) VALUES (?, ?)
         ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash,
           updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
      )
      .run(name, hash);
  }

  /** Gives the account a new random password and returns it: the only time it exists in clear. */
  async resetPassword(name: string): Promise<string> {
    const password = generatePassword();
    await this.setPassword(name, password);
    return password;
  }

  async verify(name: string, password: string): Promise<boolean> {
    const row = this.db.prepare('SELECT password_hash FROM accounts WHERE name = ?').get(name) as { password_hash: string } | undefined;
    return row ? verifyPassword(password, row.password_hash) : false;
  }
}
