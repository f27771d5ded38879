/**
 * What the doctor reads from the two databases, opened read-only (the service and the hub keep
 * writing meanwhile): their integrity, wod's schema version, jobs and running registrations, the
 * newest time wod wrote, and from the hub's own database which students have a server, so that no
 * hub token is needed.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { CLOCK_RUNNING, sqlList } from '../registrations/states.js';
import type { DatabaseFacts, FailedJob, RunningJob, SeatedRegistration } from './figures.js';

export interface WodFacts {
  schemaVersion: number;
  newestWriteMs: number | null;
  running: RunningJob[];
  failed: FailedJob[];
  seated: SeatedRegistration[];
}

const DAY_MS = 24 * 3600_000;

/**
 * Opens `file` read-only, runs integrity_check (at most a few errors: the first says enough), then
 * `read`; a failure of either is said in `error` with its `code`, which evaluateDatabase reads to tell
 * damage from a lock or a permission.
 */
function inspect<T>(file: string, timeoutMs: number, read: (db: Database.Database) => T): { db: DatabaseFacts; facts: T | null } {
  if (!fs.existsSync(file)) return { db: { missing: true }, facts: null };
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: timeoutMs });
    const integrity = (db.pragma('integrity_check(5)') as { integrity_check: string }[]).map((r) => r.integrity_check);
    if (integrity.join() !== 'ok') return { db: { integrity }, facts: null };
    return { db: { integrity }, facts: read(db) };
  } catch (e) {
    const err = e as { code?: string; message: string };
    return { db: { error: err.code ? `${err.code}: ${err.message}` : err.message, code: err.code }, facts: null };
  } finally {
    db?.close();
  }
}

export function inspectWodDatabase(file: string, nowMs: number, timeoutMs: number): { db: DatabaseFacts; facts: WodFacts | null } {
  return inspect(file, timeoutMs, (db) => {
    const { v } = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
    // The latest row of each table written as things happen (cheap: by primary key), and the latest migration.
    const { t } = db
      .prepare(
        `SELECT MAX(t) AS t FROM (
           SELECT (SELECT at FROM audit ORDER BY id DESC LIMIT 1) AS t
           UNION ALL SELECT (SELECT created_at FROM jobs ORDER BY id DESC LIMIT 1)
           UNION ALL SELECT (SELECT COALESCE(finished_at, started_at) FROM job_steps ORDER BY id DESC LIMIT 1)
           UNION ALL SELECT (SELECT created_at FROM mails ORDER BY id DESC LIMIT 1)
           UNION ALL SELECT (SELECT created_at FROM registrations ORDER BY id DESC LIMIT 1)
           UNION ALL SELECT MAX(applied_at) FROM schema_migrations)`,
      )
      .get() as { t: string | null };
    const running = db
      .prepare(
        `SELECT j.id, j.verb, s.name AS student,
                COALESCE((SELECT MIN(started_at) FROM job_steps WHERE job_id = j.id AND attempt = j.attempts), j.started_at, j.created_at) AS since
         FROM jobs j JOIN students s ON s.id = j.student_id WHERE j.state = 'running' ORDER BY since`,
      )
      .all() as RunningJob[];
    const failed = db
      .prepare(
        `SELECT j.id, j.verb, s.name AS student, j.finished_at AS finishedAt, j.error
         FROM jobs j JOIN students s ON s.id = j.student_id WHERE j.state = 'failed' AND j.finished_at >= ? ORDER BY j.id DESC`,
      )
      .all(new Date(nowMs - DAY_MS).toISOString()) as FailedJob[];
    const seated = db
      .prepare(
        `SELECT r.id, s.name AS student, r.server_problem AS problem
         FROM registrations r JOIN students s ON s.id = r.student_id WHERE r.state IN (${sqlList(CLOCK_RUNNING)}) ORDER BY r.id`,
      )
      .all() as SeatedRegistration[];
    return { schemaVersion: v ?? 0, newestWriteMs: t ? Date.parse(t) : null, running, failed, seated };
  });
}

/** The hub users whose default server exists (running or starting), from jupyterhub.sqlite. */
export function inspectHubDatabase(file: string, timeoutMs: number): { db: DatabaseFacts; facts: Set<string> | null } {
  return inspect(file, timeoutMs, (db) => {
    const rows = db.prepare(`SELECT u.name FROM users u JOIN spawners sp ON sp.user_id = u.id WHERE sp.name = '' AND sp.server_id IS NOT NULL`).all() as { name: string }[];
    return new Set(rows.map((r) => r.name));
  });
}
