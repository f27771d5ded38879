/**
 * The archives kept (work_archives): one per registration, found by the thanks mail's link, deleted
 * with their file when they expire (the service's 5-second sweep) or when the participant is erased.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/db.js';

export interface WorkArchive {
  registrationId: number;
  /** the zip, under the data folder's work/ */
  file: string;
  files: number;
  bytes: number;
  leftOut: number;
  expiresAt: string;
}

const COLUMNS = 'registration_id AS registrationId, file, files, bytes, left_out AS leftOut, expires_at AS expiresAt';

/** Named by registration id, never by name or address. */
export const workFile = (workDir: string, registrationId: number) => path.join(workDir, `${registrationId}.zip`);

export function saveArchive(db: Db, a: WorkArchive): void {
  db.prepare(
    `INSERT INTO work_archives (registration_id, file, files, bytes, left_out, expires_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (registration_id) DO UPDATE SET file = excluded.file, files = excluded.files, bytes = excluded.bytes, left_out = excluded.left_out, expires_at = excluded.expires_at`,
  ).run(a.registrationId, a.file, a.files, a.bytes, a.leftOut, a.expiresAt);
}

export function findArchive(db: Db, registrationId: number): WorkArchive | null {
  return (db.prepare(`SELECT ${COLUMNS} FROM work_archives WHERE registration_id = ?`).get(registrationId) as WorkArchive | undefined) ?? null;
}

/** The archives whose time is up (the expiry index: cheap every 5 seconds). */
export function expiredArchives(db: Db, now = Date.now()): WorkArchive[] {
  return db.prepare(`SELECT ${COLUMNS} FROM work_archives WHERE expires_at <= ? ORDER BY expires_at`).all(new Date(now).toISOString()) as WorkArchive[];
}

/**
 * The files of these registrations' archives deleted (an erasure): returns how many. Their rows go
 * in the caller's transaction, with deleteArchiveRows.
 */
export function removeArchiveFiles(db: Db, registrationIds: number[]): number {
  let removed = 0;
  for (const id of registrationIds) {
    const a = findArchive(db, id);
    if (!a || !fs.existsSync(a.file)) continue;
    fs.rmSync(a.file, { force: true });
    removed++;
  }
  return removed;
}

export function deleteArchiveRows(db: Db, registrationIds: number[]): number {
  const del = db.prepare('DELETE FROM work_archives WHERE registration_id = ?');
  return registrationIds.reduce((n, id) => n + del.run(id).changes, 0);
}

/** The expired archives deleted, files then rows; returns how many files there were. */
export function sweepArchives(db: Db, now = Date.now()): number {
  const ids = expiredArchives(db, now).map((a) => a.registrationId);
  if (!ids.length) return 0;
  const removed = removeArchiveFiles(db, ids);
  db.transaction(() => deleteArchiveRows(db, ids))();
  return removed;
}
