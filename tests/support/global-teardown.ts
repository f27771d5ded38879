import fs from 'node:fs';
import { ledgerDir, tally } from './attacks';

/** Prints the security suite's line, when any attack ran. */
export default function globalTeardown(): void {
  const { tried, refused, worked } = tally();
  if (tried) process.stdout.write(`\nsecurity: ${tried} attacks tried, ${refused} refused\n${worked.map((w) => `  worked: ${w}\n`).join('')}`);
  fs.rmSync(ledgerDir(), { recursive: true, force: true });
}
