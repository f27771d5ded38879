/**
 * The archive's child (work/archive.ts archiveWork): run as the student, it walks their home and
 * writes the zip to stdout; its last stderr line is the summary, JSON ({ files, bytes, leftOut, uid }).
 * Argument: the WorkOptions, JSON.
 */
import { type WorkOptions, zipWork } from './archive.js';

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] ?? '') as WorkOptions;
  const made = await zipWork(o, process.stdout);
  await new Promise<void>((resolve) => process.stdout.end(resolve));
  process.stderr.write(`\n${JSON.stringify({ ...made, uid: process.getuid?.() ?? null })}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`\n${JSON.stringify({ error: e.message })}\n`);
  process.exitCode = 1;
});
