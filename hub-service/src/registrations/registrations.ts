/**
 * Registrations and seat allocation. A seat is a free student inside the workshop's range; free
 * seats = min(capacity − running registrations, free students in range), derived each time, never
 * a counter. Allocation, the registration and its CREATE job are one IMMEDIATE transaction, so
 * concurrent requests cannot share a student or overfill a workshop.
 */
import { type Actor, audit } from '../audit/audit.js';
import { enqueueJob, type JobSource } from '../jobs/store.js';
import type { Db } from '../store/db.js';
import { queueCommand } from '../locations/commands.js';
import { type Availability, choosePlace, HERE, type Place } from '../locations/placement.js';
import type { RegistrationInput } from './input.js';
import { CLOCK_RUNNING, HOLDS_SEAT, moveRegistration, type RegistrationState, sqlList } from './states.js';
import type { SurveyAnswer } from './survey.js';

export type { RegistrationState } from './states.js';
const RUNNING_SQL = sqlList(HOLDS_SEAT);

export class RegistrationError extends Error {
  constructor(
    readonly status: 404 | 409,
    readonly code: 'unknown-workshop' | 'inactive' | 'full' | 'already-registered' | 'not-running' | 'unknown-registration',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface RegistrationView {
  id: number;
  state: RegistrationState;
  workshop: { folder: string; name: string; durationMinutes: number };
  participant: { id: number; email: string; name: string; company: string };
  student: string | null;
  createdAt: string;
  readyAt: string | null;
  deadlineAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  completion: number | null;
  /** live, as the JupyterLab extension reports it */
  progress: { executed: number; total: number; at: string } | null;
  /** check cells passed: live as reported, then the saved notebooks' at CLEANUP */
  checks: { passed: number; total: number } | null;
  survey: SurveyAnswer | null;
  /** the language they registered in; null: the site's default */
  language: string | null;
  /** the backend wod that seats it (locations); null: this one */
  location: string | null;
}

const SELECT_VIEW = `
  SELECT r.id, r.state, r.created_at AS createdAt, r.ready_at AS readyAt, r.deadline_at AS deadlineAt,
         r.ended_at AS endedAt, r.end_reason AS endReason, r.completion,
         r.progress_executed AS pExecuted, r.progress_total AS pTotal, r.progress_at AS pAt, r.survey,
         r.checks_passed AS cPassed, r.checks_total AS cTotal, r.language, r.location,
         w.folder AS wFolder, w.name AS wName, w.duration_minutes AS wDuration,
         p.id AS pId, p.email AS pEmail, p.name AS pName, p.company AS pCompany, COALESCE(s.name, r.remote_student) AS student
  FROM registrations r
  JOIN workshops w ON w.id = r.workshop_id
  JOIN participants p ON p.id = r.participant_id
  LEFT JOIN students s ON s.id = r.student_id`;

type ViewRow = Omit<RegistrationView, 'workshop' | 'participant' | 'progress' | 'checks' | 'survey'> & {
  cPassed: number | null;
  cTotal: number | null;
  survey: string | null;
  wFolder: string;
  wName: string;
  wDuration: number;
  pId: number;
  pEmail: string;
  pName: string;
  pCompany: string;
  pExecuted: number | null;
  pTotal: number | null;
  pAt: string | null;
};

function toView(r: ViewRow): RegistrationView {
  return {
    id: r.id,
    state: r.state,
    workshop: { folder: r.wFolder, name: r.wName, durationMinutes: r.wDuration },
    participant: { id: r.pId, email: r.pEmail, name: r.pName, company: r.pCompany },
    student: r.student,
    createdAt: r.createdAt,
    readyAt: r.readyAt,
    deadlineAt: r.deadlineAt,
    endedAt: r.endedAt,
    endReason: r.endReason,
    completion: r.completion,
    progress: r.pAt ? { executed: r.pExecuted!, total: r.pTotal!, at: r.pAt } : null,
    checks: r.cTotal === null ? null : { passed: r.cPassed!, total: r.cTotal },
    survey: r.survey ? (JSON.parse(r.survey) as SurveyAnswer) : null,
    language: r.language,
    location: r.location,
  };
}

/** One registration as the desk, the API and the admin panel see it. */
export function registrationView(db: Db, id: number): RegistrationView | null {
  const row = db.prepare(`${SELECT_VIEW} WHERE r.id = ?`).get(id) as ViewRow | undefined;
  return row ? toView(row) : null;
}

/** Every registration of a participant, oldest first. */
export function participantRegistrations(db: Db, participantId: number): RegistrationView[] {
  return (db.prepare(`${SELECT_VIEW} WHERE r.participant_id = ? ORDER BY r.id`).all(participantId) as ViewRow[]).map(toView);
}

export interface SearchQuery {
  q?: string;
  state?: RegistrationState;
  workshop?: string;
  limit: number;
  offset: number;
}

export interface RegistrationHooks {
  /** told when a job was queued (the engine looks at once instead of at its next poll) */
  onJob?: () => void;
  /** runs inside the registration's transaction (the welcome mail is queued with it) */
  onCreated?: (registrationId: number) => void;
}

/** Where a workshop's seats may be, for a portal of locations (locations/placement.ts); none: all here. */
export interface RegistrationPlaces {
  placesOf(w: { location: string | null; alternateLocation: string[] }): Place[];
  /** what is known of a backend's seats for this workshop */
  availability(location: string, folder: string): Availability;
  /** told in the registration's transaction that it goes to that backend */
  routed(location: string, folder: string): void;
}

/** A registration a portal routed here (locations/backend.ts): its participant id there, and that portal. */
export interface RoutedFrom {
  portal: string;
  ref: number;
}

/** WKSHP or CHLG: a workshop offered as a challenge (a CHLG- folder, or ordered as CHLG-) deploys with MODEWS=CHLG. */
export type Mode = 'WKSHP' | 'CHLG';
export const modeOf = (folder: string): Mode => (folder.startsWith('CHLG-') ? 'CHLG' : 'WKSHP');

export interface Allocation {
  participantId: number;
  workshopId: number;
  /** the seat here; null with `location`: the seat is at that backend, which its router tells */
  studentId: number | null;
  location?: string;
  /** the portal that routed it here (its id there is externalId) */
  portal?: string;
  mode: Mode;
  /** the order's participant id (an api-db's customer, or one per operator order); null from the portal */
  externalId?: string | null;
  ip?: string | null;
  source: JobSource;
  /** the participant's language (i18n/i18n.ts); null: the site's default */
  language?: string | null;
  /** the CREATE job's idempotency key (default: one per registration) */
  jobKey?: string;
  actor: Actor;
  details?: Record<string, unknown>;
}

/**
 * The one way a registration is made, whoever asks (portal, REST, orders, CLI, admin, a portal of
 * locations): the row, the student allocated to it and its CREATE job, in the caller's
 * transaction; or, seated at another wod, the row waiting for its router (locations/router.ts).
 */
export function allocate(db: Db, a: Allocation & { studentId: number }): { registrationId: number; jobId: number };
export function allocate(db: Db, a: Allocation): { registrationId: number; jobId: number | null };
export function allocate(db: Db, a: Allocation): { registrationId: number; jobId: number | null } {
  const regId = Number(
    db
      .prepare(
        `INSERT INTO registrations (participant_id, workshop_id, student_id, client_ip, external_id, mode, language, portal, location, routing, routed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN ? IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now') END)`,
      )
      .run(
        a.participantId,
        a.workshopId,
        a.studentId,
        a.ip ?? null,
        a.externalId ?? null,
        a.mode,
        a.language ?? null,
        a.portal ?? null,
        a.location ?? null,
        a.location ? 'pending' : null,
        a.location ?? null,
      ).lastInsertRowid,
  );
  if (a.studentId === null) {
    audit(db, a.actor, 'registration.created', { type: 'registration', id: regId }, { ...a.details, location: a.location, source: a.source, mode: a.mode });
    return { registrationId: regId, jobId: null };
  }
  const jobId = seatHere(db, regId, { ...a, studentId: a.studentId });
  audit(db, a.actor, 'registration.created', { type: 'registration', id: regId }, { ...a.details, student: a.studentId, source: a.source, mode: a.mode, job: jobId });
  return { registrationId: regId, jobId };
}

/** Gives a registration this wod's student and queues its CREATE: at registration, or when it comes back here from a backend. */
export function seatHere(db: Db, regId: number, a: Pick<Allocation, 'workshopId' | 'source' | 'jobKey'> & { studentId: number }): number {
  db.prepare(
    `UPDATE students SET state = 'allocated', registration_id = ?, problem = NULL, problem_job_id = NULL,
                updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
  ).run(regId, a.studentId);
  return enqueueJob(db, {
    verb: 'CREATE',
    studentId: a.studentId,
    registrationId: regId,
    workshopId: a.workshopId,
    source: a.source,
    key: a.jobKey ?? `CREATE:registration:${regId}`,
  });
}

/**
 * A free student of the workshop's range for a registration: a warm seat of this workshop first,
 * then a cold one, then one warm for another workshop; never a student a CLEANUP, RESET or PURGE
 * is about to work on. Null when the workshop is full here.
 */
export function freeStudent(db: Db, w: { id: number; capacity: number; range_min: number; range_max: number }): number | null {
  const { n: taken } = db.prepare(`SELECT COUNT(*) AS n FROM registrations WHERE workshop_id = ? AND location IS NULL AND state IN (${RUNNING_SQL})`).get(w.id) as { n: number };
  if (taken >= w.capacity) return null;
  const student = db
    .prepare(
      `SELECT id FROM students s WHERE state = 'free' AND id BETWEEN ? AND ?
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.student_id = s.id AND j.state IN ('queued', 'running') AND j.verb <> 'CREATE')
       ORDER BY (warm_workshop_id IS ?) DESC, (warm_workshop_id IS NULL) DESC, id LIMIT 1`,
    )
    .get(w.range_min, w.range_max, w.id) as { id: number } | undefined;
  return student?.id ?? null;
}

/** Why a registration ended: its participant, an admin, its deadline, or an order (mail, `wod action`, actions). */
export type EndReason = 'participant' | 'admin' | 'deadline' | 'mail';

/**
 * The one way a running registration ends, whoever asks: moved to ended, and its CLEANUP queued
 * (which takes the seat back), in the caller's transaction. Returns the CLEANUP job.
 */
export function endRegistration(
  db: Db,
  r: { id: number; studentId: number; workshopId: number },
  e: { actor: Actor; reason: EndReason; source: JobSource; jobKey?: string; details?: Record<string, unknown> },
): number {
  moveRegistration(db, r.id, {
    to: 'ended',
    actor: e.actor,
    onlyFrom: HOLDS_SEAT,
    set: { end_reason: e.reason, ended_at: new Date().toISOString() },
    details: { reason: e.reason, ...e.details },
  });
  return enqueueJob(db, {
    verb: 'CLEANUP',
    studentId: r.studentId,
    registrationId: r.id,
    workshopId: r.workshopId,
    source: e.source,
    key: e.jobKey ?? `CLEANUP:registration:${r.id}`,
  });
}

export class Registrations {
  private readonly onJob: () => void;
  private readonly onCreated: (registrationId: number) => void;

  constructor(
    private readonly db: Db,
    hooks: RegistrationHooks = {},
    private readonly places?: RegistrationPlaces,
  ) {
    this.onJob = hooks.onJob ?? (() => {});
    this.onCreated = hooks.onCreated ?? (() => {});
  }

  /** `routedFrom`: a portal's registration, seated here (its portal keeps one workshop at a time and tells the participant). */
  register(
    input: Omit<RegistrationInput, 'acceptTerms'> & Partial<Pick<RegistrationInput, 'acceptTerms'>>,
    meta: { source: JobSource; ip?: string; language?: string | null; routedFrom?: RoutedFrom },
  ): RegistrationView {
    const db = this.db;
    const from = meta.routedFrom;
    const id = db
      .transaction((): number => {
        const w = db
          .prepare(
            `SELECT id, name, active, capacity, range_min, range_max, json_extract(spec, '$.location') AS location, json_extract(spec, '$.alternateLocation') AS alternates
                    FROM workshops WHERE folder = ? AND removed_at IS NULL`,
          )
          .get(input.workshop) as
          { id: number; name: string; active: number; capacity: number; range_min: number; range_max: number; location: string | null; alternates: string | null } | undefined;
        if (!w) throw new RegistrationError(404, 'unknown-workshop', `there is no workshop ${input.workshop}`);
        if (!w.active) throw new RegistrationError(409, 'inactive', `${w.name} is not open for registration at the moment`);

        const participantId = (
          db
            .prepare(
              `INSERT INTO participants (email, name, company) VALUES (?, ?, ?)
                    ON CONFLICT (email) DO UPDATE SET name = excluded.name, company = excluded.company,
                      updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                    RETURNING id`,
            )
            .get(input.email, input.name, input.company) as { id: number }
        ).id;

        const running = db
          .prepare(
            `SELECT r.id, r.deadline_at AS deadlineAt, w.name FROM registrations r JOIN workshops w ON w.id = r.workshop_id
                  WHERE r.participant_id = ? AND r.state IN (${RUNNING_SQL}) AND r.external_id IS NULL`,
          )
          .get(participantId) as { id: number; deadlineAt: string | null; name: string } | undefined;
        if (running && !from) {
          throw new RegistrationError(
            409,
            'already-registered',
            `${input.email} is already registered for ${running.name}; one workshop at a time. The link to its status page, where you can end it, is in the mail we sent you.`,
            { workshop: running.name, deadlineAt: running.deadlineAt },
          );
        }

        const student = freeStudent(db, w);
        // A routed registration is seated here or refused: its portal finds another place.
        const places = this.places && !from ? this.places.placesOf({ location: w.location, alternateLocation: JSON.parse(w.alternates ?? '[]') as string[] }) : [HERE];
        const place = choosePlace(places, (p) => (p === HERE ? (student !== null ? 'seats' : 'full') : this.places!.availability(p, input.workshop)));
        if (place === undefined) throw new RegistrationError(409, 'full', `${w.name} is full at the moment; please try again later`);

        const { registrationId: regId } = allocate(db, {
          participantId,
          workshopId: w.id,
          studentId: place === HERE ? student : null,
          location: place ?? undefined,
          mode: modeOf(input.workshop),
          ip: meta.ip ?? null,
          source: meta.source,
          language: meta.language,
          externalId: from ? String(from.ref) : null,
          portal: from?.portal,
          actor: from ? `location:${from.portal}` : `participant:${input.email}`,
          details: { workshop: input.workshop },
        });
        if (place !== HERE) this.places!.routed(place, input.workshop);
        // the portal that routed it here has welcomed its participant
        if (!from) this.onCreated(regId);
        return regId;
      })
      .immediate();
    this.onJob();
    return this.get(id)!;
  }

  get(id: number): RegistrationView | null {
    return registrationView(this.db, id);
  }

  /** Gives a running registration more time (an admin's decision). */
  extend(id: number, minutes: number, actor: Actor): RegistrationView {
    this.db
      .transaction(() => {
        const r = this.db.prepare('SELECT state, deadline_at FROM registrations WHERE id = ?').get(id) as { state: RegistrationState; deadline_at: string | null } | undefined;
        if (!r) throw new RegistrationError(404, 'unknown-registration', `there is no registration ${id}`);
        if (!(CLOCK_RUNNING as readonly string[]).includes(r.state) || !r.deadline_at)
          throw new RegistrationError(409, 'not-running', `registration ${id} has no running clock (${r.state})`);
        const deadline = new Date(Date.parse(r.deadline_at) + minutes * 60_000).toISOString();
        this.db.prepare('UPDATE registrations SET deadline_at = ? WHERE id = ?').run(deadline, id);
        // seated at a backend: its clock is the one that counts
        const at = (this.db.prepare('SELECT location FROM registrations WHERE id = ?').get(id) as { location: string | null }).location;
        if (at) queueCommand(this.db, { location: at, registrationId: id, command: 'extend', minutes });
        audit(this.db, actor, 'registration.extended', { type: 'registration', id }, { minutes, deadline });
      })
      .immediate();
    return this.get(id)!;
  }

  /** Running registrations whose deadline has passed. */
  overdue(now = Date.now()): number[] {
    return (
      // one seated at a backend ends there, by its clock
      (
        this.db.prepare(`SELECT id FROM registrations WHERE state IN (${sqlList(CLOCK_RUNNING)}) AND deadline_at <= ? AND location IS NULL`).all(new Date(now).toISOString()) as {
          id: number;
        }[]
      ).map((r) => r.id)
    );
  }

  search(query: SearchQuery): { items: RegistrationView[]; total: number } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.q) {
      const like = `LIKE ? ESCAPE '\\'`;
      where.push(`(p.email ${like} OR p.name ${like} OR p.company ${like} OR s.name = ? OR CAST(r.id AS TEXT) = ?)`);
      const pattern = `%${query.q.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
      params.push(pattern, pattern, pattern, query.q, query.q);
    }
    if (query.state) {
      where.push('r.state = ?');
      params.push(query.state);
    }
    if (query.workshop) {
      where.push('w.folder = ?');
      params.push(query.workshop);
    }
    const clause = where.length ? ` WHERE ${where.join(' AND ')}` : '';
    const rows = this.db.prepare(`${SELECT_VIEW}${clause} ORDER BY r.id DESC LIMIT ? OFFSET ?`).all(...params, query.limit, query.offset) as ViewRow[];
    const { n } = this.db
      .prepare(
        `SELECT COUNT(*) AS n FROM registrations r JOIN workshops w ON w.id = r.workshop_id
                JOIN participants p ON p.id = r.participant_id LEFT JOIN students s ON s.id = r.student_id${clause}`,
      )
      .get(...params) as { n: number };
    return { items: rows.map(toView), total: n };
  }

  /** Ends a running registration now: the CLEANUP job takes the seat back. */
  end(id: number, actor: Actor, reason: Exclude<EndReason, 'mail'>): RegistrationView {
    const db = this.db;
    db.transaction(() => {
      const r = db.prepare('SELECT id, state, student_id, workshop_id, location, routing FROM registrations WHERE id = ?').get(id) as
        { id: number; state: RegistrationState; student_id: number; workshop_id: number; location: string | null; routing: string | null } | undefined;
      if (!r) throw new RegistrationError(404, 'unknown-registration', `there is no registration ${id}`);
      if (!(HOLDS_SEAT as readonly string[]).includes(r.state)) throw new RegistrationError(409, 'not-running', `registration ${id} has already ended (${r.state})`);
      if (r.location) {
        // Its backend ends it (and takes the seat back) when told; until it has it, it is only forgotten there.
        moveRegistration(db, id, {
          to: 'ended',
          actor,
          onlyFrom: HOLDS_SEAT,
          set: { end_reason: reason, ended_at: new Date().toISOString() },
          details: { reason, location: r.location },
        });
        queueCommand(db, { location: r.location, registrationId: id, command: r.routing === 'accepted' ? 'end' : 'cancel' });
        return;
      }
      endRegistration(
        db,
        { id, studentId: r.student_id, workshopId: r.workshop_id },
        {
          actor,
          reason,
          source: ({ participant: 'portal', admin: 'admin', deadline: 'timer' } as const)[reason],
        },
      );
    }).immediate();
    this.onJob();
    return this.get(id)!;
  }
}
