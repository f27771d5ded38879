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
