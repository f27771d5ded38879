/**
 * Reads and small writes on registrations beside the desk (registrations.ts): the dashboard's
 * figures, a student's own registration and the live progress its JupyterLab reports.
 */
import type { Db } from '../store/db.js';
import { HOLDS_SEAT, type RegistrationState, sqlList } from './states.js';

const RUNNING_SQL = sqlList(HOLDS_SEAT);

/** A workshop's ended registrations whose seat was taken back (cleaned), and their mean completion. */
export interface FinishedByWorkshop {
  folder: string;
  n: number;
  completion: number | null;
}

export interface RegistrationFigures {
  /** registrations holding a seat */
  running: number;
  /** registrations created since the given time */
  createdSince: number;
  finishedByWorkshop: FinishedByWorkshop[];
}

/** The dashboard's registration figures; `since` is an ISO time or date (e.g. today's, `2026-12-01`). */
export function registrationFigures(db: Db, since: string): RegistrationFigures {
  const count = (sql: string, ...params: unknown[]) => (db.prepare(sql).get(...params) as { n: number }).n;
  return {
    running: count(`SELECT COUNT(*) AS n FROM registrations WHERE state IN (${RUNNING_SQL})`),
    createdSince: count(`SELECT COUNT(*) AS n FROM registrations WHERE created_at >= ?`, since),
    finishedByWorkshop: db
      .prepare(
        `SELECT w.folder, COUNT(*) AS n, AVG(r.completion) AS completion FROM registrations r JOIN workshops w ON w.id = r.workshop_id WHERE r.state = 'cleaned' GROUP BY w.folder`,
      )
      .all() as FinishedByWorkshop[],
  };
}

/** The registration holding a student account, as that student's JupyterLab sees it. */
export interface StudentRegistration {
  id: number;
  state: RegistrationState;
  deadlineAt: string | null;
  folder: string;
  name: string;
  email: string;
  /** the workshop's folder on disk */
  path: string;
  /** the workshop's conclusion notebook pattern (wod.yml `conclusion`) */
  pattern: string | null;
  checksPassed: number | null;
  checksTotal: number | null;
}

/** The registration the student (`studentN`) is allocated to, if any. */
export function studentRegistration(db: Db, student: string): StudentRegistration | null {
  const row = db
    .prepare(
      `SELECT r.id, r.state, r.deadline_at AS deadlineAt, w.folder, w.name, p.email, w.path,
       json_extract(w.spec, '$.conclusion') AS pattern,
       r.checks_passed AS checksPassed, r.checks_total AS checksTotal FROM students s
       JOIN registrations r ON r.id = s.registration_id JOIN workshops w ON w.id = r.workshop_id
       JOIN participants p ON p.id = r.participant_id WHERE s.name = ?`,
    )
    .get(student) as StudentRegistration | undefined;
  return row ?? null;
}

/**
 * Stores the progress a student's JupyterLab reports: cells executed out of the workshop's total,
 * and checks passed when it reports them (an older extension does not: the last figures stay).
 */
export function saveProgress(db: Db, registrationId: number, progress: { executed: number; total: number; checks?: { passed: number; total: number } }): void {
  db.prepare(
    `UPDATE registrations SET progress_executed = ?, progress_total = ?, progress_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
     checks_passed = COALESCE(?, checks_passed), checks_total = COALESCE(?, checks_total) WHERE id = ?`,
  ).run(progress.executed, progress.total, progress.checks?.passed ?? null, progress.checks?.total ?? null, registrationId);
}
