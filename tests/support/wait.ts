/**
 * Waiting for an event rather than for a while: `until` polls a reading until it passes, within a
 * bound, and names what it waited for when it gives up. A test that asserts that something did
 * not happen first waits, with this, for the event after which it would have happened (a job
 * finished, the mailer's delivery loop or the timers sweep having passed again), then reads the
 * database; never a bare sleep.
 */
import path from 'node:path';
import Database from 'better-sqlite3';

/** Polls `read` until `ok` holds for what it gives, and returns that; fails naming `what` and the last reading. */
export async function until<T>(read: () => T | Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Rows of a query on a test hub's database, opened read-only for just this query (the service may be restarting). */
export function query<T = Record<string, unknown>>(dataDir: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(path.join(dataDir, 'wod.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export interface JobRow {
  id: number;
  verb: string;
  state: string;
}

/** The jobs of a registration, in order. */
export const jobsOf = (dataDir: string, registrationId: number): JobRow[] =>
  query<JobRow>(dataDir, 'SELECT id, verb, state FROM jobs WHERE registration_id = ? ORDER BY id', registrationId);

/** Waits until a registration has a job of each of `verbs` and none queued or running: what those jobs send is sent. */
export function jobsSettled(dataDir: string, registrationId: number, verbs: string[], timeoutMs = 90_000): Promise<JobRow[]> {
  return until(
    () => jobsOf(dataDir, registrationId),
    (jobs) => verbs.every((v) => jobs.some((j) => j.verb === v)) && jobs.every((j) => j.state !== 'queued' && j.state !== 'running'),
    `the ${verbs.join(', ')} job(s) of registration ${registrationId} to finish`,
    timeoutMs,
  );
}

export interface MailRow {
  id: number;
  key: string;
  kind: string;
  to_address: string;
  state: string;
  attempts: number;
  error: string | null;
  sent_at: string | null;
}

/** The mails table's rows for an address, in order. */
export const mailsTo = (dataDir: string, address: string): MailRow[] =>
  query<MailRow>(dataDir, 'SELECT id, key, kind, to_address, state, attempts, error, sent_at FROM mails WHERE to_address = ? ORDER BY id', address);
