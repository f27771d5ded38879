/**
 * The archive's child (work/archive.ts archiveWork): it becomes the student (`runAs`), then walks
 * their home and writes the zip to stdout; its last stderr line is the summary, JSON ({ files,
 * bytes, leftOut, uid }). Argument: the WorkOptions, JSON.
 */
import { type WorkOptions, zipWork } from './archive.js';

/**
 * Gives up this process's rights for the student's, once wod's code is loaded (the imports above,
 * read with the service's rights from a checkout the student may not read): from here on the
 * kernel checks every open against the student's permissions.
 */
function becomeStudent(ids: WorkOptions['runAs']): void {
  if (!ids) return;
  process.setgroups!([ids.gid]);
  process.setgid!(ids.gid);
  process.setuid!(ids.uid);
  if (process.getuid!() !== ids.uid || process.getgid!() !== ids.gid) throw new Error(`could not become uid ${ids.uid}`);
}

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] ?? '') as WorkOptions;
  becomeStudent(o.runAs);
  const made = await zipWork(o, process.stdout);
  await new Promise<void>((resolve) => process.stdout.end(resolve));
  process.stderr.write(`\n${JSON.stringify({ ...made, uid: process.getuid?.() ?? null })}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`\n${JSON.stringify({ error: e.message })}\n`);
  process.exitCode = 1;
});
