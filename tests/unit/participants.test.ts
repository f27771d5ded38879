/**
 * Participants' data against a real SQLite file: the export holds every place the person is
 * named, the erasure removes each of them (down to the raw bytes of the database file, its -wal
 * and the outbox) and keeps the anonymous statistics; retention picks the participants inactive
 * for longer than its days.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { audit, auditTrail } from '../../hub-service/src/audit/audit';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { OutboxTransport } from '../../hub-service/src/mail-out/transport';
import { eraseParticipant, forgetFreedBytes, scrub, SCRUBBED, scrubJson } from '../../hub-service/src/participants/erase';
import { erasedEmail, exportParticipant, findParticipant, isErased, listParticipants, ParticipantError } from '../../hub-service/src/participants/participants';
import { dueForErasure, eraseExpired, retentionCutoff } from '../../hub-service/src/participants/retention';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { saveSurvey, surveySummary } from '../../hub-service/src/registrations/survey';
import { openDatabase } from '../../hub-service/src/store/db';
import { recentStops, WATCHDOG_ACTION } from '../../hub-service/src/watchdog/watchdog';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const ZOE = { email: 'zoe.quillfeather@example.com', name: 'Zoe Quillfeather', company: 'Frobnitz Widgets', comment: 'the marmalade lab was splendid' };
const OTHER = { email: 'other.person@example.com', name: 'Otto Bystander', company: 'Elsewhere Inc' };

function setup() {
  const root = tempWorkshops();
  writeWorkshop(root, 'WKSHP-A', { range: [1, 3], capacity: 3 });
  const file = path.join(root, 'wod.sqlite');
  const db = openDatabase(file);
  syncPool(db, 5);
  importWorkshops(db, scanWorkshops({ dir: root }, 5), 'test');
  const outbox = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-outbox-'));
  const registrations = new Registrations(db);
  const register = (p: { email: string; name: string; company: string }) =>
    registrations.register({ ...p, workshop: 'WKSHP-A', acceptTerms: true }, { source: 'portal', ip: '203.0.113.7' });
  /** Ends and cleans a registration as the lifecycle would, its seat back in the pool. */
  const clean = (id: number) => {
    db.prepare(`UPDATE registrations SET state = 'cleaned', ended_at = '2026-01-02T10:00:00.000Z', completion = 0.5 WHERE id = ?`).run(id);
    db.prepare(`UPDATE students SET state = 'free', registration_id = NULL WHERE registration_id = ?`).run(id);
  };
  const mail = (key: string, registrationId: number | null, to: string, text: string) =>
    db
      .prepare(`INSERT INTO mails (key, kind, registration_id, to_address, subject, text, message_id, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'sent')`)
      .run(key, registrationId === null ? 'relayed' : 'welcome', registrationId, to, `Hello ${text.split(' ')[0]}`, text, `<${key}@test>`);
  return { root, file, db, outbox, registrations, register, clean, mail };
}

/** Whether the raw bytes of these files hold the text (as UTF-8). */
const rawHolds = (files: string[], text: string) => files.filter((f) => fs.existsSync(f)).some((f) => fs.readFileSync(f).includes(Buffer.from(text)));

/** Zoe with a cleaned registration, a survey with a comment, her mails (one in the outbox), a job log naming her; Otto beside her. */
async function withZoe() {
  const t = setup();
  const zoe = t.register(ZOE);
  const otto = t.register(OTHER);
  saveSurvey(t.db, zoe.id, { rating: 4, good: ZOE.comment, improve: '', recommend: true }, `participant:${ZOE.email}`);
  t.mail(`welcome-${zoe.id}`, zoe.id, ZOE.email, `${ZOE.name} of ${ZOE.company}, welcome`);
  t.mail('relayed:abc', null, `${OTHER.email}, ${ZOE.email}`, 'sealed:v1:xyz');
  t.mail(`welcome-${otto.id}`, otto.id, OTHER.email, `${OTHER.name}, welcome`);
  const transport = new OutboxTransport(t.outbox, 'wod@localhost');
  await transport.send({ key: `welcome-${zoe.id}`, to: ZOE.email, subject: 'Welcome', text: `Dear ${ZOE.name}`, messageId: '<w1@test>' });
  await transport.send({ key: `credentials-${zoe.id}-job-9`, to: ZOE.email, subject: 'Ready', text: 'your password', messageId: '<c1@test>' });
  await transport.send({ key: `welcome-${otto.id}`, to: OTHER.email, subject: 'Welcome', text: `Dear ${OTHER.name}`, messageId: '<w2@test>' });
  const job = t.db.prepare('SELECT id FROM jobs WHERE registration_id = ?').get(zoe.id) as { id: number };
  t.db
    .prepare(`INSERT INTO job_steps (job_id, step, attempt, started_at, output) VALUES (?, 'notify', 1, '2026-01-01T10:00:00.000Z', ?)`)
    .run(job.id, `credentials mailed to ${ZOE.email}\n`);
  return { ...t, zoe, otto };
}

describe('export', () => {
  test('finds a participant by id or email (any case), and exports every place they are named', async () => {
    const t = await withZoe();
    const p = findParticipant(t.db, ZOE.email.toUpperCase())!;
    expect(findParticipant(t.db, String(p.id))).toEqual(p);
    expect(findParticipant(t.db, 'nobody@example.com')).toBeNull();
    expect(listParticipants(t.db, { email: ZOE.email, limit: 10, offset: 0 })).toMatchObject({ total: 1, items: [{ id: p.id, registrations: 1, erased: false }] });

    const x = exportParticipant(t.db, p.id)!;
    expect(x.participant).toMatchObject({ email: ZOE.email, name: ZOE.name, company: ZOE.company });
    expect(x.registrations).toEqual([
      expect.objectContaining({
        id: t.zoe.id,
        workshop: expect.objectContaining({ folder: 'WKSHP-A' }),
        clientIp: '203.0.113.7',
        survey: expect.objectContaining({ good: ZOE.comment }),
      }),
    ]);
    expect(x.mails.map((m) => m.key).sort()).toEqual([`welcome-${t.zoe.id}`, 'relayed:abc'].sort());
    // a relayed mail's sealed body is never shown
    expect(x.mails.find((m) => m.key === 'relayed:abc')!.text).toBeNull();
    expect(x.mails.find((m) => m.key === `welcome-${t.zoe.id}`)!.text).toContain(ZOE.name);
    expect(x.audit.map((a) => a.action)).toEqual(expect.arrayContaining(['registration.created', 'registration.survey']));
    expect(x.audit.every((a) => a.subject.id === String(t.zoe.id))).toBe(true);
    expect(exportParticipant(t.db, 9999)).toBeNull();
  });
});

describe('erase', () => {
  test('refuses a participant whose workshop runs, changing nothing', async () => {
    const t = await withZoe();
    const id = t.zoe.participant.id;
    const before = exportParticipant(t.db, id);
    const files = fs.readdirSync(t.outbox).sort();
    const refusal = (() => {
      try {
        eraseParticipant(t.db, id, { actor: 'admin:ada', outboxDir: t.outbox });
        return null;
      } catch (e) {
        return e as ParticipantError;
      }
    })();
    expect(refusal).toBeInstanceOf(ParticipantError);
    expect(refusal).toMatchObject({ status: 409, code: 'participant-active', message: expect.stringMatching(/registration \d+ is registered: end the workshop/) });
    expect(exportParticipant(t.db, id)).toEqual(before);
    expect(fs.readdirSync(t.outbox).sort()).toEqual(files);
    expect(() => eraseParticipant(t.db, 9999, { actor: 'admin:ada', outboxDir: t.outbox })).toThrow('there is no participant 9999');
  });

  test('refuses while their seat is kept for a RESET (the home still holds their files)', async () => {
    const t = await withZoe();
    t.clean(t.zoe.id);
    t.db.prepare(`UPDATE students SET state = 'cleanup', registration_id = ? WHERE name = ?`).run(t.zoe.id, t.zoe.student);
    expect(() => eraseParticipant(t.db, t.zoe.participant.id, { actor: 'cli', outboxDir: t.outbox })).toThrow(/RESET it first/);
  });

  test('removes every trace of the person from the database file, its -wal and the outbox; keeps the statistics and the other participant', async () => {
    const t = await withZoe();
    t.clean(t.zoe.id);
    const id = t.zoe.participant.id;
    const dbFiles = [t.file, `${t.file}-wal`];
    const outboxFiles = () => fs.readdirSync(t.outbox).map((f) => path.join(t.outbox, f));
    // the grep works: before the erasure, the raw bytes hold each of them
    for (const text of [ZOE.email, ZOE.name, ZOE.company, ZOE.comment]) expect(rawHolds(dbFiles, text)).toBe(true);
    expect(rawHolds(outboxFiles(), ZOE.email)).toBe(true);

    const erasure = eraseParticipant(t.db, id, { actor: 'admin:ada', outboxDir: t.outbox });
    expect(erasure).toMatchObject({ participant: id, registrations: 1, mails: 2, outboxFiles: 2, jobSteps: 1 });
    expect(erasure.auditEntries).toBeGreaterThanOrEqual(2);

    for (const text of [ZOE.email, ZOE.name, ZOE.company, ZOE.comment]) {
      expect([text, rawHolds(dbFiles, text)]).toEqual([text, false]);
      expect([text, rawHolds(outboxFiles(), text)]).toEqual([text, false]);
    }
    // the anonymous statistics stay: the registration with its workshop, state, completion and rating
    const r = t.registrations.get(t.zoe.id)!;
    expect(r).toMatchObject({ state: 'cleaned', completion: 0.5, workshop: { folder: 'WKSHP-A' }, survey: { rating: 4, good: '', improve: '', recommend: true } });
    expect(r.participant).toEqual({ id, email: `erased:${id}`, name: '(erased)', company: '(erased)' });
    expect(surveySummary(t.db)).toEqual({ answers: 1, meanRating: 4, recommend: 1 });
    // the other participant is untouched, their outbox file too
    expect(exportParticipant(t.db, t.otto.participant.id)!.mails.map((m) => m.key)).toEqual([`welcome-${t.otto.id}`]);
    expect(rawHolds(outboxFiles(), OTHER.name)).toBe(true);
    // the erasure is audited, with counts and nothing personal
    const entry = auditTrail(t.db, { type: 'participant', id }).find((a) => a.action === 'participant.erased')!;
    expect(entry.actor).toBe('admin:ada');
    expect(JSON.parse(entry.details!)).toEqual(erasure);
    expect(auditTrail(t.db, { type: 'registration', id: t.zoe.id }).map((a) => a.actor)).toContain(`participant:${SCRUBBED}`);
    // once is enough
    expect(() => eraseParticipant(t.db, id, { actor: 'admin:ada', outboxDir: t.outbox })).toThrow('has been erased already');
  });
});

describe('scrub', () => {
  const zoe = { email: 'zoe@example.com', name: 'Zoe Q', company: 'a.b corp' };
  test.each([
    ['credentials mailed to zoe@example.com', zoe, `credentials mailed to ${SCRUBBED}`],
    ['Dear ZOE Q (a.b corp)', zoe, `Dear ${SCRUBBED} (${SCRUBBED})`],
    ['axb stays', { ...zoe, company: 'a.b' }, 'axb stays'],
    ['nothing to do', { email: '', name: '', company: '  ' }, 'nothing to do'],
    // whole words only: Zoe Quillfeather is not Zoe Q
    ['Zoe Quillfeather and zoe q', zoe, `Zoe Quillfeather and ${SCRUBBED}`],
    // shorter than 3 characters, or without a letter: never scrubbed; the email always is
    ['v1.2 at 0.75 by Al of 42, to x@y.z', { email: 'x@y.z', name: 'Al', company: '42' }, `v1.2 at 0.75 by Al of 42, to ${SCRUBBED}`],
    ['the .. team', { email: 'x@y.z', name: 'Ann', company: '..' }, 'the .. team'],
  ])('%s', (text, personal, expected) => {
    expect(scrub(text, personal)).toBe(expected);
  });

  test('JSON details: only inside string values, escaped text matched as it reads', () => {
    const p = { email: 'ann@example.com', name: 'Ann "Jo" Lee', company: 'Lee & Sons' };
    const details = JSON.stringify({ by: 'participant:ann@example.com', note: 'for Ann "Jo" Lee', nested: [{ c: 'lee & sons' }], completion: 0.75, n: 1 });
    expect(JSON.parse(scrubJson(details, p))).toEqual({ by: `participant:${SCRUBBED}`, note: `for ${SCRUBBED}`, nested: [{ c: SCRUBBED }], completion: 0.75, n: 1 });
    // a company "." or "1" never touches the JSON
    const dotted = { email: 'ann@example.com', name: '.', company: '1' };
    expect(scrubJson(details, dotted)).toBe(JSON.stringify({ ...JSON.parse(details), by: `participant:${SCRUBBED}` }));
  });

  test('an erasure with a company "." and a quoted name leaves the audit readable: export and the watchdog block work', async () => {
    const t = await withZoe();
    t.clean(t.zoe.id);
    const id = t.zoe.participant.id;
    t.db.prepare('UPDATE participants SET name = ?, company = ? WHERE id = ?').run('Ann "Jo" Lee', '.', id);
    audit(t.db, 'system', WATCHDOG_ACTION, { type: 'registration', id: t.zoe.id }, { student: t.zoe.student, completion: 0.75, note: 'stopped for Ann "Jo" Lee' });
    eraseParticipant(t.db, id, { actor: 'admin:ada', outboxDir: t.outbox });
    const stops = exportParticipant(t.db, id)!.audit.filter((a) => a.action === WATCHDOG_ACTION);
    expect(stops.map((a) => a.details)).toEqual([{ student: t.zoe.student, completion: 0.75, note: `stopped for ${SCRUBBED}` }]);
    expect(recentStops(t.db)).toEqual([expect.objectContaining({ completion: 0.75, note: `stopped for ${SCRUBBED}` })]);
  });
});

describe('forgetting freed bytes', () => {
  test('a reader on another connection keeps the -wal: the erasure stands, with a warning', async () => {
    const t = await withZoe();
    t.clean(t.zoe.id);
    const reader = openDatabase(t.file);
    reader.exec('BEGIN');
    reader.prepare('SELECT COUNT(*) FROM participants').get();
    try {
      const erasure = eraseParticipant(t.db, t.zoe.participant.id, { actor: 'cli', outboxDir: t.outbox });
      expect(erasure).toMatchObject({ participant: t.zoe.participant.id, warning: expect.stringContaining('-wal') });
    } finally {
      reader.exec('COMMIT');
      reader.close();
    }
    expect(forgetFreedBytes(t.db)).toBeNull();
    expect(rawHolds([t.file, `${t.file}-wal`], ZOE.email)).toBe(false);
  });

  test('a VACUUM that fails after the erasure committed is a warning, not a failed erasure', async () => {
    const t = await withZoe();
    t.clean(t.zoe.id);
    const exec = t.db.exec.bind(t.db);
    jest.spyOn(t.db, 'exec').mockImplementation((sql: string) => {
      if (sql === 'VACUUM') throw new Error('database or disk is full');
      return exec(sql);
    });
    const erasure = eraseParticipant(t.db, t.zoe.participant.id, { actor: 'cli', outboxDir: t.outbox });
    expect(erasure.warning).toMatch(/VACUUM failed \(database or disk is full\)/);
    expect(findParticipant(t.db, ZOE.email)).toBeNull();
  });
});

describe('erased', () => {
  test('only the placeholder `erased:<id>` is an erased participant; an order for `erased:1@x` is a live one', () => {
    expect(isErased(erasedEmail(12))).toBe(true);
    expect(isErased('erased:1@x.org')).toBe(false);
    expect(isErased('erased:')).toBe(false);
    const t = setup();
    const r = t.register({ email: 'someone@example.com', name: 'Some One', company: 'ACME' });
    t.clean(r.id);
    t.db.prepare('UPDATE participants SET email = ? WHERE id = ?').run('erased:1@x.org', r.participant.id);
    expect(listParticipants(t.db, { email: 'erased:1@x.org', limit: 10, offset: 0 }).items).toEqual([expect.objectContaining({ erased: false })]);
    // due like anyone, and erasable
    expect(dueForErasure(t.db, '9999-01-01T00:00:00.000Z')).toEqual([r.participant.id]);
    expect(eraseParticipant(t.db, r.participant.id, { actor: 'cli', outboxDir: t.outbox }).participant).toBe(r.participant.id);
    expect(listParticipants(t.db, { limit: 10, offset: 0 }).items).toEqual([expect.objectContaining({ email: erasedEmail(r.participant.id), erased: true })]);
  });
});

describe('retention', () => {
  const DAY = 86_400_000;
  const now = Date.parse('2026-06-01T00:00:00.000Z');

  test('0 days keeps the data; otherwise the cutoff is that many days back', () => {
    expect(retentionCutoff(now, 0)).toBeNull();
    expect(retentionCutoff(now, 30)).toBe('2026-05-02T00:00:00.000Z');
  });

  test('picks the participants inactive for longer than the days, skips the active and the erased', () => {
    const t = setup();
    const at = (days: number) => new Date(now - days * DAY).toISOString();
    const person = (n: number) => ({ email: `p${n}@example.com`, name: `Person ${n}`, company: 'ACME' });
    const make = (n: number, registeredDaysAgo: number, endedDaysAgo: number | null) => {
      const r = t.register(person(n));
      t.clean(r.id);
      t.db.prepare('UPDATE registrations SET created_at = ?, ended_at = ? WHERE id = ?').run(at(registeredDaysAgo), endedDaysAgo === null ? null : at(endedDaysAgo), r.id);
      t.db.prepare('UPDATE participants SET created_at = ?, updated_at = ? WHERE id = ?').run(at(registeredDaysAgo), at(registeredDaysAgo), r.participant.id);
      return r;
    };
    const old = make(1, 400, 400);
    make(2, 400, 10); // registered long ago, but their workshop ended 10 days ago
    const failed = make(3, 200, null); // never ended (failed): registered 200 days ago
    make(4, 5, 5);
    const running = t.register(person(5));
    t.db.prepare('UPDATE registrations SET created_at = ? WHERE id = ?').run(at(500), running.id);
    t.db.prepare('UPDATE participants SET created_at = ?, updated_at = ? WHERE id = ?').run(at(500), at(500), running.participant.id);

    expect(dueForErasure(t.db, retentionCutoff(now, 90)!)).toEqual([old.participant.id, failed.participant.id, running.participant.id]);
    expect(eraseExpired(t.db, { retentionDays: 90, outboxDir: t.outbox, now })).toEqual({ erased: 2, skipped: 1, left: 0 });
    expect(findParticipant(t.db, 'p1@example.com')).toBeNull();
    expect(findParticipant(t.db, 'p5@example.com')).not.toBeNull();
    expect(auditTrail(t.db, { type: 'participant', id: old.participant.id }).map((a) => [a.actor, a.action])).toEqual([['system', 'participant.erased']]);
    // erased ones are never due again; 0 days erases nothing
    expect(dueForErasure(t.db, retentionCutoff(now, 90)!)).toEqual([running.participant.id]);
    expect(eraseExpired(t.db, { retentionDays: 0, outboxDir: t.outbox, now })).toEqual({ erased: 0, skipped: 0, left: 0 });
  });

  test('a sweep erases a batch, the rest next time; the outbox is read and VACUUM runs once per sweep', async () => {
    const t = setup();
    const transport = new OutboxTransport(t.outbox, 'wod@localhost');
    const ids: number[] = [];
    for (let n = 1; n <= 3; n++) {
      const r = t.register({ email: `b${n}@example.com`, name: `Batch ${n}`, company: 'ACME' });
      t.clean(r.id);
      await transport.send({ key: `other-${n}`, to: `b${n}@example.com`, subject: 'Hi', text: 'hello', messageId: `<b${n}@test>` });
      ids.push(r.participant.id);
    }
    // a seat kept for RESET: skipped, and not a place in the batch
    t.db
      .prepare(`UPDATE students SET state = 'cleanup', registration_id = ? WHERE name = (SELECT name FROM students WHERE state = 'free' LIMIT 1)`)
      .run((t.db.prepare('SELECT id FROM registrations WHERE participant_id = ?').get(ids[0]) as { id: number }).id);
    const later = Date.now() + 400 * DAY;
    const reads = jest.spyOn(fs, 'readFileSync');
    const exec = jest.spyOn(t.db, 'exec');
    expect(eraseExpired(t.db, { retentionDays: 90, outboxDir: t.outbox, now: later, batch: 1 })).toEqual({ erased: 1, skipped: 1, left: 1 });
    expect(reads.mock.calls.filter(([f]) => String(f).endsWith('.eml'))).toHaveLength(3);
    expect(exec.mock.calls.filter(([sql]) => sql === 'VACUUM')).toHaveLength(1);
    expect(fs.readdirSync(t.outbox)).toHaveLength(2);
    expect(eraseExpired(t.db, { retentionDays: 90, outboxDir: t.outbox, now: later, batch: 1 })).toEqual({ erased: 1, skipped: 1, left: 0 });
    expect(dueForErasure(t.db, retentionCutoff(later, 90)!)).toEqual([ids[0]]);
    expect(fs.readdirSync(t.outbox)).toHaveLength(1);
    // nobody due: the outbox is not read at all
    reads.mockClear();
    expect(eraseExpired(t.db, { retentionDays: 90, outboxDir: t.outbox, now: Date.now() })).toEqual({ erased: 0, skipped: 0, left: 0 });
    expect(reads.mock.calls.filter(([f]) => String(f).endsWith('.eml'))).toHaveLength(0);
    reads.mockRestore();
  });
});
