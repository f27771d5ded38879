/**
 * CLEANUP's `work-archived` step: after the student's server and processes are stopped (nothing
 * writes any more), before the home is wiped. Resumable: an archive already recorded is kept, a
 * half-written zip is written again. An archive that cannot be made is logged and skipped.
 */
import fs from 'node:fs';
import { dataPaths } from '../config/paths.js';
import type { Step } from '../jobs/engine.js';
import type { Kit } from '../lifecycle/steps.js';
import { archiveWork } from './archive.js';
import { findArchive, saveArchive, workFile } from './records.js';

const DAY_MS = 86_400_000;

export function workArchivedStep(kit: Kit): Step {
  const { db, config, host } = kit;
  return kit.step('work-archived', async (s, ctx) => {
    const days = config.participants.workDays;
    // a mail order's participant hears from its api-db, not from wod: there is no thanks mail to carry the link
    if (!days || !s.registration || !s.workshop || s.registration.externalId !== null) return;
    if (findArchive(db, s.registration.id)) return void ctx.log('work archived already\n');
    const file = workFile(dataPaths(config).work, s.registration.id);
    // a nicety: an archive that cannot be made (a full disk) must not hold the seat; the participant gets no link
    const made = await archiveWork({ home: host.home(s.student), workshopFolder: s.workshop.folder, maxBytes: config.participants.workMaxBytes, file }).catch((e: Error) => {
      ctx.log(`work not archived: ${e.message}\n`);
      fs.rmSync(`${file}.part`, { force: true });
      return null;
    });
    if (!made) return;
    if (!made.files) return void ctx.log('no work to archive\n');
    const expiresAt = new Date(Date.now() + days * DAY_MS).toISOString();
    saveArchive(db, { registrationId: s.registration.id, file, files: made.files, bytes: made.bytes, leftOut: made.leftOut, expiresAt });
    ctx.log(`work archived: ${made.files} file(s), ${made.bytes} bytes, ${made.leftOut} left out, kept until ${expiresAt}\n`);
  });
}
