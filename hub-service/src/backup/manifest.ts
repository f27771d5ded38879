/**
 * What a backup archive says about itself, and the checks a restore makes before it writes a byte:
 * the manifest is well formed, its schema is one this build can open, every file it lists is there
 * with its size and SHA-256, and nothing else is. Pure: the files are handed in, read elsewhere.
 */
import path from 'node:path';

/** Bumped when the archive's layout changes in a way an older restore could not read. */
export const BACKUP_FORMAT = 1;
export const MANIFEST_FILE = 'manifest.json';

/**
 * What a backup holds, by path inside the data folder: the two databases, the secrets, the
 * per-student values hooks wrote (private/) and the mails kept in the outbox.
 */
const BACKED_UP = [/^wod\.sqlite$/, /^jupyterhub\.sqlite$/, /^secrets\/(?:locations\/)?[^/]+$/, /^private\/.+/, /^outbox\/.+/];
/** Without these the restored folder would not be the same wod (the secrets seal its links and logins). */
export const REQUIRED = ['wod.sqlite', 'secrets/auth-secret', 'secrets/session-key'];

export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: number;
  wodVersion: string;
  /** the wod database's last migration */
  schemaVersion: number;
  createdAt: string;
  host: string;
  files: FileEntry[];
}

export class BackupError extends Error {}

export function isBackedUp(file: string): boolean {
  return path.posix.normalize(file) === file && !file.split('/').includes('..') && BACKED_UP.some((re) => re.test(file));
}

/** The manifest as read from an archive, checked field by field; refuses one this build cannot restore. */
export function parseManifest(text: string, knownSchema: number): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BackupError(`${MANIFEST_FILE} is not JSON: the archive is damaged`);
  }
  const m = raw as Partial<Manifest>;
  const bad = (what: string) => new BackupError(`${MANIFEST_FILE}: ${what}: the archive is damaged or not a wod backup`);
  if (typeof raw !== 'object' || raw === null) throw bad('not an object');
  if (m.format !== BACKUP_FORMAT) throw new BackupError(`backup format ${String(m.format)} is not one this wod reads (${BACKUP_FORMAT}): restore it with the wod that made it`);
  for (const key of ['wodVersion', 'createdAt', 'host'] as const) if (typeof m[key] !== 'string') throw bad(`${key} is missing`);
  if (!Number.isInteger(m.schemaVersion) || m.schemaVersion! < 0) throw bad('schemaVersion is missing');
  if (m.schemaVersion! > knownSchema)
    throw new BackupError(
      `the backup's database schema (${m.schemaVersion}, wod ${m.wodVersion}) is newer than this wod knows (${knownSchema}): restore it with wod ${m.wodVersion} or later`,
    );
  if (!Array.isArray(m.files)) throw bad('files is missing');
  const seen = new Set<string>();
  for (const f of m.files as unknown[]) {
    const e = f as Partial<FileEntry>;
    if (typeof e?.path !== 'string' || !isBackedUp(e.path)) throw bad(`${JSON.stringify(e?.path)} is not a file a backup holds`);
    if (!Number.isInteger(e.size) || e.size! < 0 || typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) throw bad(`${e.path} has no size or sha256`);
    if (seen.has(e.path)) throw bad(`${e.path} is listed twice`);
    seen.add(e.path);
  }
  for (const r of REQUIRED) if (!seen.has(r)) throw bad(`${r} is missing`);
  return m as Manifest;
}

/** What differs between the manifest and the files found in the archive; empty when they agree. */
export function compareFiles(manifest: Manifest, found: FileEntry[]): string[] {
  const problems: string[] = [];
  const byPath = new Map(found.map((f) => [f.path, f]));
  for (const want of manifest.files) {
    const got = byPath.get(want.path);
    if (!got) problems.push(`${want.path} is missing`);
    else if (got.size !== want.size) problems.push(`${want.path} has ${got.size} bytes, not ${want.size}`);
    else if (got.sha256 !== want.sha256) problems.push(`${want.path} does not match its checksum`);
    byPath.delete(want.path);
  }
  for (const extra of byPath.keys()) problems.push(`${extra} is not in the manifest`);
  return problems;
}

/**
 * What to say when a backup is older than the participants' retention: people erased since it was
 * made come back with it. The retention sweep erases those past due again at the next start; an
 * admin's erasures (`participant.erased` in the audit trail) must be run again. Null when fresh.
 */
export function retentionWarning(manifest: Pick<Manifest, 'createdAt'>, retentionDays: number, now = Date.now()): string | null {
  const days = Math.floor((now - Date.parse(manifest.createdAt)) / 864e5);
  if (retentionDays <= 0 || days <= retentionDays) return null;
  return `this backup is ${days} days old, older than participants.retentionDays (${retentionDays}): participants erased since it was made are back; the retention sweep erases those past due at the next start, and an admin's erasures (participant.erased in the audit trail, before ${manifest.createdAt}) must be run again`;
}
