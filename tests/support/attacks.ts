/**
 * The security suite's ledger. Each attack is run through `attack`: it must be refused (the
 * function resolves once it has checked that), or the test fails. Every attempt is written to a
 * ledger shared by all jest workers; the global teardown prints `security: N attacks tried, N refused`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const LEDGER_ENV = 'WOD_SECURITY_LEDGER';

export function ledgerDir(): string {
  return process.env[LEDGER_ENV] ?? path.join(os.tmpdir(), 'wod-security-ledger');
}

/** Runs one attack; `refuse` performs it and asserts it was refused (it throws when the attack worked). */
export async function attack(name: string, refuse: () => Promise<void> | void): Promise<void> {
  let refused = false;
  try {
    await refuse();
    refused = true;
  } finally {
    fs.mkdirSync(ledgerDir(), { recursive: true });
    fs.appendFileSync(path.join(ledgerDir(), `${process.pid}.jsonl`), JSON.stringify({ name, refused }) + '\n');
  }
}

export function tally(dir = ledgerDir()): { tried: number; refused: number; worked: string[] } {
  const rows = fs.existsSync(dir)
    ? fs.readdirSync(dir).flatMap((f) =>
        fs
          .readFileSync(path.join(dir, f), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { name: string; refused: boolean }),
      )
    : [];
  return { tried: rows.length, refused: rows.filter((r) => r.refused).length, worked: rows.filter((r) => !r.refused).map((r) => r.name) };
}
