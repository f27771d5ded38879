/**
 * Erasing a participant: the person goes, the anonymous statistics stay. Their registrations keep
 * workshop, dates, states, completion, progress and the survey's rating and recommendation; the
 * participants row keeps its id with `erased:<id>` and `(erased)` for email, name and company; the
 * mails to them, their outbox files and the archives of their work (work/records.ts) are deleted;
 * client address, api-db id and survey comments are cleared; job logs and audit entries naming
 * them are scrubbed. The erasing transaction runs with `secure_delete`, and forgetFreedBytes()
 * follows, so that the bytes are gone from the database file and its -wal too, not only from the rows.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Actor, audit } from '../audit/audit.js';
import { outboxFile } from '../mail-out/transport.js';
import { HOLDS_SEAT, sqlList } from '../registrations/states.js';
import type { Db } from '../store/db.js';
import { deleteArchiveRows, removeArchiveFiles } from '../work/records.js';
import { auditAbout, ERASED_TEXT, erasedEmail, findParticipant, isErased, mailsTo, type Participant, ParticipantError, registrationIds } from './participants.js';

/** What an erasure changed, row counts only: it is the audit entry's details, and holds nothing personal. */
export interface Erasure {
  participant: number;
  registrations: number;
  mails: number;
  outboxFiles: number;
  /** archives of their work deleted from the data folder's work/ */
  workArchives: number;
  jobSteps: number;
  auditEntries: number;
}

/** What personal text is replaced with in logs and audit details. */
export const SCRUBBED = '[erased]';

/** The personal values of a participant, as scrub() takes them. */
export type Personal = Pick<Participant, 'email' | 'name' | 'company'>;

/**
 * The pattern of their personal values, longest first, whole words only: a name or company is left
 * out when shorter than 3 characters or without a letter (a company "." or "1" would eat every
 * dot or digit), the email never is. Null when there is nothing to look for.
 */
function personalPattern(p: Personal): RegExp | null {
  const kept = [p.name, p.company].map((v) => v.trim()).filter((v) => v.length >= 3 && /\p{L}/u.test(v));
  const words = [...new Set([p.email.trim(), ...kept].filter(Boolean))].sort((a, b) => b.length - a.length);
  if (!words.length) return null;
  const alternatives = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  // not \b: it knows ASCII letters only, and a value may begin or end with a dot or a bracket
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alternatives})(?![\\p{L}\\p{N}_])`, 'giu');
}

/** Plain text (a step log, a job error, an actor) with their personal values replaced, any case. Pure. */
export function scrub(text: string, p: Personal): string {
  const pattern = personalPattern(p);
  return pattern ? text.replace(pattern, SCRUBBED) : text;
}

/**
 * An audit entry's details (JSON text) scrubbed inside its string values only, so that numbers and
 * keys stay whole and escaped text (`Ann \"Jo\" Lee`) is matched as it reads. Details that are
 * not JSON are scrubbed as plain text. Pure.
 */
export function scrubJson(json: string, p: Personal): string {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return scrub(v, p);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  try {
    return JSON.stringify(walk(JSON.parse(json)));
  } catch {
    return scrub(json, p);
  }
}

/**
 * Why this participant cannot be erased now, or null. A running or ended-but-not-cleaned
 * registration still has a seat and files; a seat kept for a RESET (`reset: true`) still holds
 * their files: the workshop must be ended and cleaned (or RESET) first.
 */
export function stillActive(db: Db, participantId: number): string | null {
  const running = db
    .prepare(`SELECT id, state FROM registrations WHERE participant_id = ? AND state IN (${sqlList([...HOLDS_SEAT, 'ended'])}) ORDER BY id LIMIT 1`)
    .get(participantId) as { id: number; state: string } | undefined;
  if (running) return `registration ${running.id} is ${running.state}: end the workshop and wait until it is cleaned, then erase`;
  const kept = db
    .prepare(`SELECT s.name FROM students s JOIN registrations r ON r.id = s.registration_id WHERE r.participant_id = ? AND s.state = 'cleanup' LIMIT 1`)
    .get(participantId) as { name: string } | undefined;
  return kept ? `${kept.name} still holds their files until a RESET: RESET it first, then erase` : null;
}

function erasable(db: Db, id: number): Participant {
  const p = findParticipant(db, String(id));
  if (!p) throw new ParticipantError(404, 'unknown-participant', `there is no participant ${id}`);
  if (isErased(p.email)) throw new ParticipantError(404, 'unknown-participant', `participant ${id} has been erased already`);
  const why = stillActive(db, id);
  if (why) throw new ParticipantError(409, 'participant-active', `participant ${id} cannot be erased now: ${why}`);
  return p;
}

/**
 * The outbox's .eml files naming each of these addresses (lower case), for files whose mail row is
 * gone. One read of the folder for them all: the retention sweep asks for its whole batch at once.
 */
export function outboxFilesNaming(dir: string, emails: string[]): Map<string, string[]> {
  const naming = new Map(emails.map((e) => [e, [] as string[]]));
  // nobody to look for (an hourly sweep with nobody due): the folder is not read at all
  if (!emails.length || !fs.existsSync(dir)) return naming;
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.eml')) continue;
    const file = path.join(dir, f);
    const text = fs.readFileSync(file, 'latin1').toLowerCase();
    for (const [email, files] of naming) if (text.includes(email)) files.push(file);
  }
  return naming;
}

/** The outbox files of these mail keys, and those found naming the address, removed. */
function removeOutboxFiles(dir: string, keys: string[], naming: string[]): number {
  const named = new Set([...keys.map((k) => outboxFile(dir, k)), ...naming]);
  let removed = 0;
  for (const file of named) {
    if (!fs.existsSync(file)) continue;
    fs.rmSync(file);
    removed++;
  }
  return removed;
}

/** How often, and how long each time, the TRUNCATE checkpoint waits for other connections' readers. */
const CHECKPOINT_ATTEMPTS = 3;
const CHECKPOINT_WAIT_MS = 200;

/**
 * Empties the -wal into the database file. A reader on another connection (the CLI, doctor, a
 * backup) keeps it busy, the old pages staying in the -wal: a few short waits (not the connection's
 * busy_timeout, which would hold the service for seconds each), then false if it never cleared.
 */
function truncateWal(db: Db): boolean {
  const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${CHECKPOINT_WAIT_MS}`);
  try {
    for (let attempt = 0; attempt < CHECKPOINT_ATTEMPTS; attempt++) {
      const [r] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
      if (!r.busy) return true;
    }
    return false;
  } finally {
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
}

/**
 * Makes deleted bytes unreadable in the files. secure_delete zeroes what the erasure frees, but
 * not what earlier updates freed while it was off (a mail's row before it was marked sent, a
 * registration before its survey): VACUUM rewrites every page, and the TRUNCATE checkpoint then
 * empties the -wal that held the old ones. Costs a copy of the database: once per erasure, once
 * per retention sweep. Never throws: it runs after the erasure committed, which stands whatever
 * happens here; what went wrong is returned (null when nothing did) for the caller to show or log.
 */
export function forgetFreedBytes(db: Db): string | null {
  try {
    db.exec('VACUUM');
  } catch (e) {
    return `erased, but freed bytes may remain in the database file: VACUUM failed (${(e as Error).message})`;
  }
  return truncateWal(db) ? null : 'erased, but old pages remain in the -wal: another connection was reading; they go at the next erasure or checkpoint';
}

/** An erasure done, and what did not go as it should once it had committed (forgetFreedBytes()): shown or logged by the caller. */
export type ErasureResult = Erasure & { warning?: string };

/**
 * Erases a participant (see the file's comment). Refuses an unknown or already erased one (404)
 * and one still active (409), changing nothing. `outboxDir`: the outbox transport's folder (dataPaths().outbox), searched whatever the transport is now: files written before a switch to SMTP name the participant too. `forget`:
 * false when the caller erases several and calls forgetFreedBytes() once after them. `outboxNaming`:
 * the outbox files naming the address, when the caller searched the folder for several at once.
 */
export function eraseParticipant(db: Db, id: number, opts: { actor: Actor; outboxDir: string; forget?: boolean; outboxNaming?: string[] }): ErasureResult {
  const p = erasable(db, id);
  const regs = registrationIds(db, id);
  const mails = mailsTo(p, regs);
  const keys = (db.prepare(`SELECT key FROM mails WHERE ${mails.where}`).all(...mails.params) as { key: string }[]).map((m) => m.key);
  // Copies of mails only: removed first, so that a failure below leaves nothing half erased in the database.
  const naming = opts.outboxNaming ?? outboxFilesNaming(opts.outboxDir, [p.email]).get(p.email)!;
  const outboxFiles = removeOutboxFiles(opts.outboxDir, keys, naming);
  const workArchives = removeArchiveFiles(db, regs);
  const secureDelete = db.pragma('secure_delete', { simple: true }) as number;
  db.pragma('secure_delete = ON');
  try {
    const erasure = db
      .transaction((): Erasure => {
        erasable(db, id);
        const ids = regs.join(', ') || 'NULL';
        db.prepare(`UPDATE participants SET email = ?, name = ?, company = ?, milestone = NULL, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`).run(
          erasedEmail(id),
          ERASED_TEXT,
          ERASED_TEXT,
          id,
        );
        const registrations = db
          .prepare(
            `UPDATE registrations SET client_ip = NULL, external_id = NULL, badge = NULL,
                    survey = CASE WHEN survey IS NULL THEN NULL ELSE json_set(survey, '$.good', '', '$.improve', '') END
             WHERE participant_id = ?`,
          )
          .run(id).changes;
        const deletedMails = db.prepare(`DELETE FROM mails WHERE ${mails.where}`).run(...mails.params).changes;
        deleteArchiveRows(db, regs);

        let jobSteps = 0;
        const steps = db
          .prepare(
            `SELECT id, output FROM job_steps WHERE output IS NOT NULL AND (job_id IN (SELECT id FROM jobs WHERE registration_id IN (${ids})) OR instr(lower(output), ?) > 0)`,
          )
          .all(p.email) as { id: number; output: string }[];
        for (const s of steps) {
          const output = scrub(s.output, p);
          if (output !== s.output) jobSteps += db.prepare('UPDATE job_steps SET output = ? WHERE id = ?').run(output, s.id).changes;
        }
        const jobs = db.prepare(`SELECT id, error FROM jobs WHERE error IS NOT NULL AND (registration_id IN (${ids}) OR instr(lower(error), ?) > 0)`).all(p.email) as {
          id: number;
          error: string;
        }[];
        for (const j of jobs) db.prepare('UPDATE jobs SET error = ? WHERE id = ?').run(scrub(j.error, p), j.id);

        let auditEntries = 0;
        const about = auditAbout(p, regs);
        const entries = db.prepare(`SELECT id, actor, details FROM audit WHERE ${about.where}`).all(...about.params) as { id: number; actor: string; details: string | null }[];
        for (const e of entries) {
          const actor = scrub(e.actor, p);
          const details = e.details === null ? null : scrubJson(e.details, p);
          if (actor !== e.actor || details !== e.details) auditEntries += db.prepare('UPDATE audit SET actor = ?, details = ? WHERE id = ?').run(actor, details, e.id).changes;
        }
        const done: Erasure = { participant: id, registrations, mails: deletedMails, outboxFiles, workArchives, jobSteps, auditEntries };
        audit(db, opts.actor, 'participant.erased', { type: 'participant', id }, done);
        return done;
      })
      .immediate();
    const warning = (opts.forget ?? true) ? forgetFreedBytes(db) : null;
    return warning ? { ...erasure, warning } : erasure;
  } finally {
    db.pragma(`secure_delete = ${secureDelete}`);
  }
}
