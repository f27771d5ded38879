import fs from 'node:fs';
import path from 'node:path';
import { Accounts } from './accounts/accounts.js';
import { dataPaths } from './config/paths.js';
import type { WodConfig } from './config/schema.js';
import { dataFolderRules, secureDataFolder } from './isolation/data-folder.js';
import { othersCanReach, probeIds, type Reach, studentsRunAs, unreachable } from './isolation/student-side.js';
import { ensureSecretFile } from './secrets.js';
import { openDatabase } from './store/db.js';

export interface Credentials {
  name: string;
  password: string;
}

/**
 * Everything that must exist before the hub starts, done idempotently: the data folder (private,
 * its modes checked), the secrets, the database schema, an account for every configured admin,
 * and a check that student accounts reach what their servers need. An admin account is created
 * once, with `WOD_ADMIN_PASSWORD` when set, else a generated password that is returned here and
 * never stored in clear.
 */
export async function prepare(config: WodConfig, env: NodeJS.ProcessEnv = process.env): Promise<Credentials[]> {
  const paths = dataPaths(config);
  const fixed = secureDataFolder(config.dataDir, dataFolderRules(config));
  for (const line of fixed) process.stderr.write(`wod: data folder: ${line}\n`);
  ensureSecretFile(paths.authSecret);
  ensureSecretFile(paths.sessionKey);
  ensureSecretFile(paths.mailApiPassword);
  ensureSecretFile(paths.metricsToken);
  checkStudentSide(config);
  const db = openDatabase(paths.database);
  try {
    const accounts = new Accounts(db);
    const created: Credentials[] = [];
    for (const name of new Set([...config.accounts.admins, ...config.accounts.wodAdmins])) {
      if (accounts.exists(name)) continue;
      const given = env.WOD_ADMIN_PASSWORD;
      if (given !== undefined && given.length < 12) throw new Error('WOD_ADMIN_PASSWORD must be at least 12 characters');
      // the operator's own password is theirs already: never printed into a log
      if (given) await accounts.setPassword(name, given);
      else created.push({ name, password: await accounts.resetPassword(name) });
    }
    return created;
  } finally {
    db.close();
  }
}

/**
 * Students' servers run as accounts other than wod's: as one of them would, reach the student-side
 * environment (.venv, the lab extension) and the homes; refuse with the path and the fix otherwise.
 */
function checkStudentSide(config: WodConfig): void {
  const ids = probeIds(studentsRunAs(config.students));
  if (!ids) return;
  const venv = fs.realpathSync(dataPaths(config).venv);
  fs.mkdirSync(config.students.homeRoot, { recursive: true, mode: 0o711 });
  fs.chmodSync(config.students.homeRoot, 0o711);
  const setup = `run 'bash scripts/setup' as root (npm start does it): it places the environment where every account can read it when the checkout is private`;
  const targets: Reach[] = [
    { path: path.join(venv, 'bin', 'jupyterhub-singleuser'), need: 'x', fix: setup },
    { path: path.join(venv, 'share', 'jupyter', 'labextensions', '@wod', 'labextension', 'package.json'), need: 'r', fix: setup },
    {
      path: config.students.homeRoot,
      need: 'x',
      fix: `set students.homeRoot (WOD_STUDENTS_HOME_ROOT) to a folder every account can reach${othersCanReach(config.students.homeRoot) ? '' : ` (a folder above ${config.students.homeRoot} is private)`}, e.g. /srv/wod/homes`,
    },
  ];
  const missed = unreachable(ids, targets);
  if (missed) throw new Error(`student accounts cannot reach ${missed.path}, which their servers need: ${missed.fix}`);
}
