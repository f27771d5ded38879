import type { Db } from '../store/db.js';

/** Who did it: `participant:<email>`, `admin:<user>`, `cli`, `system`. */
export type Actor = string;

export function audit(db: Db, actor: Actor, action: string, subject: { type: string; id: string | number }, details?: unknown): void {
  db.prepare('INSERT INTO audit (actor, action, subject_type, subject_id, details) VALUES (?, ?, ?, ?, ?)').run(
    actor,
    action,
    subject.type,
    String(subject.id),
    details === undefined ? null : JSON.stringify(details),
  );
}

/** One entry of a subject's audit trail; `details` is the JSON the action stored, if any. */
export interface AuditEntry {
  at: string;
  actor: Actor;
  action: string;
  details: string | null;
}

/** What was done to a subject (a registration, a student, a workshop), oldest first. */
export function auditTrail(db: Db, subject: { type: string; id: string | number }): AuditEntry[] {
  return db.prepare('SELECT at, actor, action, details FROM audit WHERE subject_type = ? AND subject_id = ? ORDER BY id').all(subject.type, String(subject.id)) as AuditEntry[];
}
