/**
 * Which limits a student's pod gets on Kubernetes (students.mode remote with KubeSpawner): those of
 * the workshop the seat is deployed for, over the site's (students.limits), as in system-users mode.
 * The hub asks before every spawn (spawner-config/wod_kubernetes.py, GET /internal/seats/:name):
 * the answer comes from wod's own records, never from what the spawn was asked with.
 */
import type { WorkshopSpec } from '../catalog/spec.js';
import { effectiveLimits, type Limits, type SiteLimits } from '../isolation/limit-rules.js';
import type { Db } from '../store/db.js';

export interface SeatLimits {
  /** the workshop's folder; null: the seat is for none now (site limits) */
  workshop: string | null;
  /** what KubeSpawner can set: memory in bytes and cores, null for no limit (no pids: a pod has none of its own) */
  limits: Pick<Limits, 'memoryBytes' | 'cpu'>;
}

/** Where a seat's workshop is recorded, in order: its registration, a CREATE preparing it now (warm, an order), its warm mark. */
const SOURCES = [
  `SELECT w.folder, w.spec FROM students s JOIN registrations r ON r.id = s.registration_id JOIN workshops w ON w.id = r.workshop_id
    WHERE s.name = ? AND s.state IN ('allocated', 'cleanup')`,
  `SELECT w.folder, w.spec FROM jobs j JOIN students s ON s.id = j.student_id JOIN workshops w ON w.id = j.workshop_id
    WHERE s.name = ? AND j.verb = 'CREATE' AND j.state = 'running' ORDER BY j.id DESC LIMIT 1`,
  `SELECT w.folder, w.spec FROM students s JOIN workshops w ON w.id = s.warm_workshop_id WHERE s.name = ?`,
];

export function seatLimits(db: Db, site: SiteLimits, student: string): SeatLimits {
  for (const sql of SOURCES) {
    const row = db.prepare(sql).get(student) as { folder: string; spec: string } | undefined;
    if (row) {
      const { memoryBytes, cpu } = effectiveLimits(site, (JSON.parse(row.spec) as WorkshopSpec).limits ?? null);
      return { workshop: row.folder, limits: { memoryBytes, cpu } };
    }
  }
  const { memoryBytes, cpu } = effectiveLimits(site, null);
  return { workshop: null, limits: { memoryBytes, cpu } };
}
