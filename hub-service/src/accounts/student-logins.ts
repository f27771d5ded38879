/**
 * Who may log in as a student: only the holder of a registration that is ready (or reminded) and
 * before its deadline. The deadline is enforced here, by the service, not by the browser.
 */
import type { Db } from '../store/db.js';
import { verifyPassword } from './passwords.js';
import { CLOCK_RUNNING, sqlList } from '../registrations/states.js';

export const STUDENT_NAME = /^student\d{1,6}$/;

export interface StudentSession {
  student: string;
  registrationId: number;
  folder: string;
  deadlineAt: string;
  passwordHash: string | null;
}

export function activeStudentSession(db: Db, student: string, now = Date.now()): StudentSession | null {
  const row = db
    .prepare(
      `SELECT s.name AS student, r.id AS registrationId, w.folder, r.deadline_at AS deadlineAt, s.password_hash AS passwordHash
       FROM students s JOIN registrations r ON r.id = s.registration_id JOIN workshops w ON w.id = r.workshop_id
       WHERE s.name = ? AND r.state IN (${sqlList(CLOCK_RUNNING)}) AND r.deadline_at IS NOT NULL`,
    )
    .get(student) as StudentSession | undefined;
  return row && Date.parse(row.deadlineAt) > now ? row : null;
}

export async function verifyStudentLogin(db: Db, student: string, password: string, now = Date.now()): Promise<StudentSession | null> {
  const session = activeStudentSession(db, student, now);
  return session?.passwordHash && (await verifyPassword(password, session.passwordHash)) ? session : null;
}

/** Where a student lands: the workshop's first notebook in JupyterLab. */
export function landingPath(student: string, folder: string): string {
  return `/user/${student}/lab/tree/${encodeURIComponent(folder)}/0-ReadMeFirst.ipynb`;
}
