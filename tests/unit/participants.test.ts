/**
 * Participants' data against a real SQLite file: the export holds every place the person is
 * named, the erasure removes each of them (down to the raw bytes of the database file, its -wal
 * and the outbox) and keeps the anonymous statistics; retention picks the participants inactive
 * for longer than its days.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auditTrail } from '../../hub-service/src/audit/audit';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { OutboxTransport } from '../../hub-service/src/mail-out/transport';
import { eraseParticipant, scrub, SCRUBBED } from '../../hub-service/src/participants/erase';
import { exportParticipant, findParticipant, listParticipants, ParticipantError } from '../../hub-service/src/participants/participants';
import { dueForErasure, eraseExpired, retentionCutoff } from '../../hub-service/src/participants/retention';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { saveSurvey, surveySummary } from '../../hub-service/src/registrations/survey';
import { openDatabase } from '../../hub-service/src/store/db';
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
  test.each([
    ['credentials mailed to zoe@example.com', ['zoe@example.com', 'Zoe'], `credentials mailed to ${SCRUBBED}`],
    ['Dear ZOE Q (a.b corp)', ['Zoe Q', 'a.b corp'], `Dear ${SCRUBBED} (${SCRUBBED})`],
    ['axb stays', ['a.b'], 'axb stays'],
    ['nothing to do', ['', '  '], 'nothing to do'],
  ])('%s', (text, personal, expected) => {
    expect(scrub(text, personal)).toBe(expected);
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
    expect(eraseExpired(t.db, { retentionDays: 90, outboxDir: t.outbox, now })).toEqual({ erased: 2, skipped: 1 });
    expect(findParticipant(t.db, 'p1@example.com')).toBeNull();
    expect(findParticipant(t.db, 'p5@example.com')).not.toBeNull();
    expect(auditTrail(t.db, { type: 'participant', id: old.participant.id }).map((a) => [a.actor, a.action])).toEqual([['system', 'participant.erased']]);
    // erased ones are never due again; 0 days erases nothing
    expect(dueForErasure(t.db, retentionCutoff(now, 90)!)).toEqual([running.participant.id]);
    expect(eraseExpired(t.db, { retentionDays: 0, outboxDir: t.outbox, now })).toEqual({ erased: 0, skipped: 0 });
  });
});
