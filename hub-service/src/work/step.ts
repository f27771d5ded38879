/**
 * CLEANUP's `work-archived` step: after the student's server and processes are stopped, before the
 * home is wiped. Stopped is not frozen: what the student left (a process started again, a job of
 * theirs) may still change the home, so the archive is made by a child running as the student
 * (work/archive.ts), off the service's event loop; in remote mode the student's server reads it
 * (work/remote.ts), started again for it. Resumable: an archive already recorded is kept, a
 * half-written zip is written again. An archive that cannot be made is logged and skipped.
 */
import fs from 'node:fs';
import { dataPaths } from '../config/paths.js';
import type { Step } from '../jobs/engine.js';
import { isTransient, type Kit } from '../lifecycle/steps.js';
import { findArchive, saveArchive, workFile } from './records.js';

const DAY_MS = 86_400_000;

/** The archive made by the kit's homes (lifecycle/home.ts, remote mode included). */
export function workArchivedStep(kit: Kit): Step {
  const { db, config } = kit;
  return kit.step('work-archived', async (s, ctx) => {
    const days = config.participants.workDays;
    // a mail order's participant hears from its api-db, not from wod: there is no thanks mail to carry the link
    if (!days || !s.registration || !s.workshop || s.registration.externalId !== null) return;
    if (findArchive(db, s.registration.id)) return void ctx.log('work archived already\n');
    const file = workFile(dataPaths(config).work, s.registration.id);
    // a nicety: an archive that cannot be made (a full disk) must not hold the seat; the participant gets no link
    const workshopFolder = s.workshop.folder;
    const made = await kit.files.archive(s.student, { workshopFolder, maxBytes: config.participants.workMaxBytes, file }).catch((e: Error) => {
      fs.rmSync(`${file}.part`, { force: true });
      // a server still starting (a 503) is retried: skipping would let the wipe take the work
      if (isTransient(e)) throw e;
      ctx.log(`work not archived: ${e.message}\n`);
      return null;
    });
    if (!made) return;
    if (!made.files) return void ctx.log('no work to archive\n');
    const expiresAt = new Date(Date.now() + days * DAY_MS).toISOString();
    saveArchive(db, { registrationId: s.registration.id, file, files: made.files, bytes: made.bytes, leftOut: made.leftOut, expiresAt });
    ctx.log(`work archived: ${made.files} file(s), ${made.bytes} bytes, ${made.leftOut} left out, kept until ${expiresAt}\n`);
  });
}
