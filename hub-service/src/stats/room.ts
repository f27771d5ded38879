/**
 * The live room of one workshop: every participant deploying or working now, with their progress
 * (as their JupyterLab reports it, ../web/me.ts), the time left and the hub's last activity of their
 * student. The hub is asked once for every user; when it does not answer, the room still shows,
 * with the last activity unknown.
 */
import type { HubClient, HubUser } from '../hub/client.js';
import { type RegistrationState, sqlList } from '../registrations/states.js';
import type { Db } from '../store/db.js';

/** Who is in the room: being deployed, or working with the clock running. */
export const IN_ROOM = ['deploying', 'ready', 'reminded'] as const satisfies readonly RegistrationState[];

export interface RoomRow {
  id: number;
  state: RegistrationState;
  student: string | null;
  /** the participant's name */
  name: string;
  progress: { executed: number; total: number; at: string } | null;
  /** check cells passed, as the JupyterLab extension reports them; null before any report */
  checks: { passed: number; total: number } | null;
  readyAt: string | null;
  deadlineAt: string | null;
}

export interface RoomParticipant extends RoomRow {
  /** whole seconds to the deadline, 0 once passed; null while deploying */
  secondsLeft: number | null;
  /** the hub's last activity of the student's server (else of the user); null when never or unknown */
  lastActivity: string | null;
}

export interface Room {
  folder: string;
  name: string;
  now: string;
  /** false when the hub did not answer: every last activity is then unknown */
  hubAnswered: boolean;
  participants: RoomParticipant[];
}

/** The running registrations of a workshop, by student number; null when there is no such workshop. */
export function roomRows(db: Db, folder: string): { name: string; rows: RoomRow[] } | null {
  const w = db.prepare('SELECT id, name FROM workshops WHERE folder = ?').get(folder) as { id: number; name: string } | undefined;
  if (!w) return null;
  const rows = db
    .prepare(
      `SELECT r.id, r.state, s.name AS student, p.name, r.progress_executed AS executed, r.progress_total AS total,
              r.progress_at AS progressAt, r.checks_passed AS checksPassed, r.checks_total AS checksTotal, r.ready_at AS readyAt, r.deadline_at AS deadlineAt
       FROM registrations r JOIN participants p ON p.id = r.participant_id LEFT JOIN students s ON s.id = r.student_id
       WHERE r.workshop_id = ? AND r.state IN (${sqlList(IN_ROOM)}) ORDER BY s.id, r.id`,
    )
    .all(w.id) as (Omit<RoomRow, 'progress' | 'checks'> & {
    executed: number | null;
    total: number | null;
    progressAt: string | null;
    checksPassed: number | null;
    checksTotal: number | null;
  })[];
  return {
    name: w.name,
    rows: rows.map(({ executed, total, progressAt, checksPassed, checksTotal, ...r }) => ({
      ...r,
      progress: executed !== null && total !== null && progressAt !== null ? { executed, total, at: progressAt } : null,
      checks: checksTotal === null ? null : { passed: checksPassed!, total: checksTotal },
    })),
  };
}

/** The last activity of each hub user, by name: of their default server when it runs, else of the user. */
export function lastActivities(users: readonly HubUser[]): Map<string, string | null> {
  return new Map(users.map((u) => [u.name, u.servers?.['']?.last_activity ?? u.last_activity]));
}

/** The room as shown: `activity` is null when the hub did not answer. */
export function roomOf(folder: string, name: string, rows: readonly RoomRow[], activity: Map<string, string | null> | null, now: Date): Room {
  return {
    folder,
    name,
    now: now.toISOString(),
    hubAnswered: activity !== null,
    participants: rows.map((r) => ({
      ...r,
      secondsLeft: r.deadlineAt ? Math.max(0, Math.round((Date.parse(r.deadlineAt) - now.getTime()) / 1000)) : null,
      lastActivity: (r.student && activity?.get(r.student)) ?? null,
    })),
  };
}

/** The room of a workshop now, asking the hub once; null when there is no such workshop. */
export async function workshopRoom(db: Db, hub: Pick<HubClient, 'listUsers'>, folder: string, now = new Date()): Promise<Room | null> {
  const found = roomRows(db, folder);
  if (!found) return null;
  // A hub that does not answer leaves the last activities unknown; the room is the database's.
  const activity = await hub.listUsers().then(lastActivities, () => null);
  return roomOf(folder, found.name, found.rows, activity, now);
}
