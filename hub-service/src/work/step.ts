/**
 * CLEANUP's `work-archived` step: after the student's server and processes are stopped, before the
 * home is wiped. Stopped is not frozen: what the student left (a process started again, a job of
 * theirs) may still change the home, so the archive is made by a child running as the student
 * (work/archive.ts), off the service's event loop. Resumable: an archive already recorded is kept, a
 * half-written zip is written again. An archive that cannot be made is logged and skipped.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { dataPaths } from '../config/paths.js';
import type { Step } from '../jobs/engine.js';
import type { Kit } from '../lifecycle/steps.js';
import { ensureLocalAccount, type Ids, studentsRunAs } from '../isolation/student-side.js';
import { archiveWork } from './archive.js';
import { findArchive, saveArchive, workFile } from './records.js';

const DAY_MS = 86_400_000;
const run = promisify(execFile);

/** Whom the archive's child runs as: the student's account, the local mode's account, or (null) this process's user. */
export async function archiverIds(kit: Kit, student: string): Promise<Ids | null> {
  if (kit.host.mode === 'system-users') {
    const [u, g] = await Promise.all([run('id', ['-u', student]), run('id', ['-g', student])]);
    return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  const runAs = studentsRunAs(kit.config.students);
  return runAs.kind === 'account' ? ensureLocalAccount(runAs.name) : null;
}

export function workArchivedStep(kit: Kit, idsOf: (kit: Kit, student: string) => Promise<Ids | null> = archiverIds): Step {
  const { db, config, host } = kit;
  return kit.step('work-archived', async (s, ctx) => {
    const days = config.participants.workDays;
    // a mail order's participant hears from its api-db, not from wod: there is no thanks mail to carry the link
    if (!days || !s.registration || !s.workshop || s.registration.externalId !== null) return;
    if (findArchive(db, s.registration.id)) return void ctx.log('work archived already\n');
    const file = workFile(dataPaths(config).work, s.registration.id);
    // a nicety: an archive that cannot be made (a full disk) must not hold the seat; the participant gets no link
    const workshopFolder = s.workshop.folder;
    const made = await idsOf(kit, s.student)
      .then((ids) => archiveWork({ home: host.home(s.student), workshopFolder, maxBytes: config.participants.workMaxBytes, file, ids }))
      .catch((e: Error) => {
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
