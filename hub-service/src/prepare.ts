import fs from 'node:fs';
import { Accounts } from './accounts/accounts.js';
import { dataPaths } from './config/paths.js';
import type { WodConfig } from './config/schema.js';
import { ensureSecretFile } from './secrets.js';
import { openDatabase } from './store/db.js';

export interface Credentials {
  name: string;
  password: string;
}

/**
 * Everything that must exist before the hub starts, done idempotently: the data folder, the
 * secrets, the database schema, and an account for every configured admin. An admin account is
 * created once, with `WOD_ADMIN_PASSWORD` when set, else a generated password that is returned here
 * and never stored in clear.
 */
export async function prepare(config: WodConfig, env: NodeJS.ProcessEnv = process.env): Promise<Credentials[]> {
  const paths = dataPaths(config);
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  ensureSecretFile(paths.authSecret);
  ensureSecretFile(paths.sessionKey);
  const db = openDatabase(paths.database);
  try {
    const accounts = new Accounts(db);
    const created: Credentials[] = [];
    for (const name of new Set([...config.accounts.admins, ...config.accounts.wodAdmins])) {
      if (accounts.exists(name)) continue;
      const given = env.WOD_ADMIN_PASSWORD;
      if (given !== undefined && given.length < 12) throw new Error('WOD_ADMIN_PASSWORD must be at least 12 characters');
      if (given) await accounts.setPassword(name, given);
      created.push({ name, password: given ?? (await accounts.resetPassword(name)) });
    }
    return created;
  } finally {
    db.close();
  }
}
