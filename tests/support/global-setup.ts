import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LEDGER_ENV } from './attacks';

/** A fresh ledger for the security suite, inherited by every jest worker. */
export default function globalSetup(): void {
  process.env[LEDGER_ENV] = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-security-'));
}
