/**
 * Numbered schema migrations, applied in order at start, each in its own transaction. Never edit
 * one that has shipped: add the next number.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'accounts',
    sql: `
      -- Hub logins that are not students: the configured admins and operators.
      CREATE TABLE accounts (
        name          TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'catalog, pool, registrations, jobs, audit',
    sql: `
      -- Workshops, keyed by folder name (WKSHP-Name). Display fields live in spec (JSON, from wod.yml);
      -- what SQL filters or allocates on has its own column. pinned lists the fields an admin set,
      -- which an import leaves alone.
      CREATE TABLE workshops (
        id          INTEGER PRIMARY KEY,
        folder      TEXT NOT NULL UNIQUE,
        source      TEXT NOT NULL CHECK (source IN ('public', 'overlay')),
        path        TEXT NOT NULL,
        name        TEXT NOT NULL,
        active      INTEGER NOT NULL CHECK (active IN (0, 1)),
        capacity    INTEGER NOT NULL CHECK (capacity >= 0),
        priority    INTEGER NOT NULL,
        range_min   INTEGER NOT NULL,
        range_max   INTEGER NOT NULL,
        duration_minutes INTEGER NOT NULL,
        spec        TEXT NOT NULL,
        pinned      TEXT NOT NULL DEFAULT '[]',
        removed_at  TEXT,
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        CHECK (range_min >= 1 AND range_max >= range_min)
      ) STRICT;

      -- The pool: student N is the hub user studentN.
      CREATE TABLE students (
        id              INTEGER PRIMARY KEY,
        name            TEXT NOT NULL UNIQUE,
        state           TEXT NOT NULL DEFAULT 'free' CHECK (state IN ('free', 'allocated', 'cleanup')),
        registration_id INTEGER REFERENCES registrations (id),
        updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      ) STRICT;
      CREATE INDEX students_free ON students (state, id);

      CREATE TABLE participants (
        id         INTEGER PRIMARY KEY,
        email      TEXT NOT NULL UNIQUE,
        name       TEXT NOT NULL,
        company    TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      ) STRICT;

      -- registered → deploying → ready → reminded → ended → cleaned, or deploying → failed.
      CREATE TABLE registrations (
        id             INTEGER PRIMARY KEY,
        participant_id INTEGER NOT NULL REFERENCES participants (id),
        workshop_id    INTEGER NOT NULL REFERENCES workshops (id),
        student_id     INTEGER REFERENCES students (id),
        state          TEXT NOT NULL DEFAULT 'registered'
                       CHECK (state IN ('registered', 'deploying', 'ready', 'reminded', 'ended', 'cleaned', 'failed')),
        created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        ready_at       TEXT,
        deadline_at    TEXT,
        ended_at       TEXT,
        end_reason     TEXT,
        completion     REAL,
        survey         TEXT,
        badge          TEXT,
        client_ip      TEXT
      ) STRICT;
      -- One running registration per participant and per student, enforced by the database itself.
      CREATE UNIQUE INDEX registrations_one_active_per_participant ON registrations (participant_id)
        WHERE state IN ('registered', 'deploying', 'ready', 'reminded');
      CREATE UNIQUE INDEX registrations_one_active_per_student ON registrations (student_id)
        WHERE state IN ('registered', 'deploying', 'ready', 'reminded', 'ended');
      CREATE INDEX registrations_workshop_state ON registrations (workshop_id, state);
      CREATE INDEX registrations_state ON registrations (state);

      -- Durable jobs run by the lifecycle engine: one verb on one student (and its registration).
      CREATE TABLE jobs (
        id              INTEGER PRIMARY KEY,
        verb            TEXT NOT NULL CHECK (verb IN ('CREATE', 'CLEANUP', 'RESET', 'PURGE')),
        student_id      INTEGER NOT NULL REFERENCES students (id),
        registration_id INTEGER REFERENCES registrations (id),
        workshop_id     INTEGER REFERENCES workshops (id),
        source          TEXT NOT NULL CHECK (source IN ('portal', 'api', 'mail', 'admin', 'timer', 'cli')),
        state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        run_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        last_step       TEXT,
        error           TEXT,
        idempotency_key TEXT UNIQUE,
        created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        started_at      TEXT,
        finished_at     TEXT
      ) STRICT;
      CREATE INDEX jobs_runnable ON jobs (state, run_at);
      CREATE INDEX jobs_student ON jobs (student_id, state);

      CREATE TABLE job_steps (
        id          INTEGER PRIMARY KEY,
        job_id      INTEGER NOT NULL REFERENCES jobs (id),
        step        TEXT NOT NULL,
        attempt     INTEGER NOT NULL,
        started_at  TEXT NOT NULL,
        finished_at TEXT,
        ok          INTEGER,
        output      TEXT
      ) STRICT;
      CREATE INDEX job_steps_job ON job_steps (job_id);

      -- Who changed what, for every change.
      CREATE TABLE audit (
        id           INTEGER PRIMARY KEY,
        at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        actor        TEXT NOT NULL,
        action       TEXT NOT NULL,
        subject_type TEXT NOT NULL,
        subject_id   TEXT NOT NULL,
        details      TEXT
      ) STRICT;
      CREATE INDEX audit_subject ON audit (subject_type, subject_id);
    `,
  },
  {
    version: 3,
    name: 'student passwords, external registrations',
    sql: `
      -- The hub password of the student's current holder, scrypt-hashed; NULL means no login.
      ALTER TABLE students ADD COLUMN password_hash TEXT;
      -- Orders from an external api-db (the mail API) carry its participant id.
      ALTER TABLE registrations ADD COLUMN external_id TEXT;
    `,
  },
  {
    version: 4,
    name: 'mails',
    sql: `
      -- Every participant mail, queued in the same transaction as what caused it, sent by the mailer
      -- and retried until the transport takes it. key: one per registration and kind of mail.
      -- Credentials mails are recorded here without their body: the password is never stored.
      CREATE TABLE mails (
        id              INTEGER PRIMARY KEY,
        key             TEXT NOT NULL UNIQUE,
        kind            TEXT NOT NULL,
        registration_id INTEGER REFERENCES registrations (id),
        to_address      TEXT NOT NULL,
        subject         TEXT NOT NULL,
        text            TEXT,
        html            TEXT,
        message_id      TEXT NOT NULL,
        state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        error           TEXT,
        created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        sent_at         TEXT
      ) STRICT;
      CREATE INDEX mails_due ON mails (state, next_at);
      CREATE INDEX mails_registration ON mails (registration_id);
      ALTER TABLE participants ADD COLUMN milestone TEXT;
    `,
  },
  {
    version: 5,
    name: 'live progress',
    sql: `
      -- What the JupyterLab extension reports while the student works (the ratio at CLEANUP stays in completion).
      ALTER TABLE registrations ADD COLUMN progress_executed INTEGER;
      ALTER TABLE registrations ADD COLUMN progress_total INTEGER;
      ALTER TABLE registrations ADD COLUMN progress_at TEXT;
    `,
  },
  {
    version: 6,
    name: 'servers reconciled',
    sql: `
      -- The student's server as the reconciler (lifecycle/reconcile.ts) last saw it: when it looked,
      -- the restarts that failed in a row, when the next may be tried, and why it gave up (NULL: fine).
      ALTER TABLE registrations ADD COLUMN server_checked_at TEXT;
      ALTER TABLE registrations ADD COLUMN server_failures INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE registrations ADD COLUMN server_retry_at TEXT;
      ALTER TABLE registrations ADD COLUMN server_problem TEXT;
    `,
  },
  {
    version: 7,
    name: 'no live links in stored mails',
    sql: `
      -- Mails are now stored with placeholders and get their links when sent (journey/links.ts).
      -- Bodies sent before kept live status and start links: forget them (the subject stays).
      UPDATE mails SET text = NULL, html = NULL
      WHERE state = 'sent' AND (text LIKE '%/services/wod/status/%' OR text LIKE '%/hub/wod-login?token=%');
    `,
  },
  {
    version: 8,
    name: 'order participants, challenge mode, stuck students',
    sql: `
      -- A mail or operator order names its participant by the order's participant id, not by the
      -- address: every operator order shares the operator's address, so one running registration per
      -- address holds for the portal's registrations only (registrations/states.ts: HOLDS_SEAT).
      DROP INDEX registrations_one_active_per_participant;
      CREATE UNIQUE INDEX registrations_one_active_per_participant ON registrations (participant_id)
        WHERE state IN ('registered', 'deploying', 'ready', 'reminded') AND external_id IS NULL;
      -- WKSHP or CHLG: the MODEWS the content is deployed with, as the order or the catalog said.
      ALTER TABLE registrations ADD COLUMN mode TEXT NOT NULL DEFAULT 'WKSHP' CHECK (mode IN ('WKSHP', 'CHLG'));
      -- Why the last CLEANUP, RESET or PURGE of this student gave up (NULL: fine). A stuck student
      -- keeps its seat until an admin retries the verb.
      ALTER TABLE students ADD COLUMN problem TEXT;
      ALTER TABLE students ADD COLUMN problem_job_id INTEGER REFERENCES jobs (id);
    `,
  },
  {
    version: 9,
    name: 'warm seats',
    sql: `
      -- A free student whose home is reset and whose server runs, ready for a registration of this
      -- workshop (lifecycle/warm.ts); cleared when the home is wiped.
      ALTER TABLE students ADD COLUMN warm_workshop_id INTEGER REFERENCES workshops (id);
      -- How many seats of the workshop are kept warm (wod.yml warm:, or an admin's pin).
      ALTER TABLE workshops ADD COLUMN warm INTEGER NOT NULL DEFAULT 0 CHECK (warm >= 0);
      -- An event: so many more seats of a workshop warm from a time to a time (a class at nine).
      CREATE TABLE warm_events (
        id          INTEGER PRIMARY KEY,
        workshop_id INTEGER NOT NULL REFERENCES workshops (id),
        seats       INTEGER NOT NULL CHECK (seats > 0),
        starts_at   TEXT NOT NULL,
        ends_at     TEXT NOT NULL CHECK (ends_at > starts_at),
        note        TEXT NOT NULL DEFAULT '',
        created_by  TEXT NOT NULL,
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      ) STRICT;
      CREATE INDEX warm_events_ends ON warm_events (ends_at);
    `,
  },
  {
    version: 10,
    name: 'participant extensions',
    sql: `
      -- How many times the participant took more time themselves (wod.yml extend.times bounds it;
      -- an admin's extension does not count): registrations/extension.ts.
      ALTER TABLE registrations ADD COLUMN extensions_used INTEGER NOT NULL DEFAULT 0 CHECK (extensions_used >= 0);
    `,
  },
  {
    version: 11,
    name: 'work archives',
    sql: `
      -- The zip of a participant's notebooks and files made at CLEANUP (work/archive.ts): the thanks
      -- mail links to it until expires_at, when the sweep deletes the file and the row.
      CREATE TABLE work_archives (
        registration_id INTEGER PRIMARY KEY REFERENCES registrations (id),
        file            TEXT NOT NULL,
        files           INTEGER NOT NULL CHECK (files >= 0),
        bytes           INTEGER NOT NULL CHECK (bytes >= 0),
        left_out        INTEGER NOT NULL DEFAULT 0 CHECK (left_out >= 0),
        created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        expires_at      TEXT NOT NULL
      ) STRICT;
      CREATE INDEX work_archives_expires ON work_archives (expires_at);
    `,
  },
  {
    version: 12,
    name: 'exercise checks',
    sql: `
      -- Check cells (tagged wod-check) passed over check cells: live as the JupyterLab extension
      -- reports them (web/me.ts), then the saved notebooks' figures at CLEANUP (content/checks.ts).
      ALTER TABLE registrations ADD COLUMN checks_passed INTEGER CHECK (checks_passed >= 0);
      ALTER TABLE registrations ADD COLUMN checks_total INTEGER CHECK (checks_total >= checks_passed);
    `,
  },
  {
    version: 13,
    name: 'the participant language',
    sql: `
      -- The language the participant registered in (i18n/i18n.ts: a folder of hub-service/locales):
      -- their mails, status page and JupyterLab speak it. NULL: the site's defaultLanguage.
      ALTER TABLE registrations ADD COLUMN language TEXT CHECK (length(language) BETWEEN 2 AND 3 AND language NOT GLOB '*[^a-z]*');
    `,
  },
  {
    version: 14,
    name: 'locations',
    sql: `
      -- Portal side (locations/router.ts): a registration whose seat is at another wod. location: that
      -- backend (NULL: here); routing: pending until the backend has accepted it; routed_at: since when
      -- it is at that location (failover counts from it); reroutes: how often it moved; routing_note:
      -- why it waits; remote_student: the backend's student, as its updates say.
      ALTER TABLE registrations ADD COLUMN location TEXT;
      ALTER TABLE registrations ADD COLUMN routing TEXT CHECK (routing IN ('pending', 'accepted'));
      ALTER TABLE registrations ADD COLUMN routed_at TEXT;
      ALTER TABLE registrations ADD COLUMN reroutes INTEGER NOT NULL DEFAULT 0 CHECK (reroutes >= 0);
      ALTER TABLE registrations ADD COLUMN routing_note TEXT;
      ALTER TABLE registrations ADD COLUMN remote_student TEXT;
      CREATE INDEX registrations_routing ON registrations (routing) WHERE routing = 'pending';
      -- Backend side: the portal that routed it here; its registration id there is external_id.
      ALTER TABLE registrations ADD COLUMN portal TEXT;
      CREATE UNIQUE INDEX registrations_routed_from ON registrations (portal, external_id) WHERE portal IS NOT NULL;
      -- Backend side (locations/updates.ts): routed registrations changed since their portal last
      -- heard of them, filled by the database itself on every write, so no change is ever missed.
      CREATE TABLE location_updates (
        registration_id INTEGER PRIMARY KEY REFERENCES registrations (id),
        version         INTEGER NOT NULL
      ) STRICT;
      CREATE TRIGGER location_update_on_insert AFTER INSERT ON registrations WHEN NEW.portal IS NOT NULL BEGIN
        INSERT OR REPLACE INTO location_updates (registration_id, version)
          VALUES (NEW.id, COALESCE((SELECT version FROM location_updates WHERE registration_id = NEW.id), 0) + 1);
      END;
      CREATE TRIGGER location_update_on_update AFTER UPDATE ON registrations WHEN NEW.portal IS NOT NULL BEGIN
        INSERT OR REPLACE INTO location_updates (registration_id, version)
          VALUES (NEW.id, COALESCE((SELECT version FROM location_updates WHERE registration_id = NEW.id), 0) + 1);
      END;
      -- Portal side: what a backend must be told (end, more time, new credentials, forget a
      -- registration that moved away), kept until it has answered.
      CREATE TABLE location_commands (
        id              INTEGER PRIMARY KEY,
        location        TEXT NOT NULL,
        registration_id INTEGER NOT NULL REFERENCES registrations (id),
        command         TEXT NOT NULL CHECK (command IN ('end', 'extend', 'credentials', 'cancel')),
        minutes         INTEGER CHECK (minutes > 0),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        error           TEXT,
        created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      ) STRICT;
      CREATE INDEX location_commands_due ON location_commands (next_at);
    `,
  },
];
