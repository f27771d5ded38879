/**
 * The participant's clock and mailbox with an injected clock and a scripted transport, over a real
 * SQLite file: each timer fires once, mails are neither lost nor sent twice, milestones come once.
 */
import path from 'node:path';
import { Sealer } from '../../hub-service/src/auth/seal';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { loadConfig } from '../../hub-service/src/config/load';
import { Languages } from '../../hub-service/src/i18n/i18n';
import { Letters } from '../../hub-service/src/journey/letters';
import { LINK_SHOWN, MailLinks } from '../../hub-service/src/journey/links';
import { Timers } from '../../hub-service/src/journey/timers';
import { createLogger } from '../../hub-service/src/log';
import { milestoneAt } from '../../hub-service/src/mail-out/content';
import { Mailer } from '../../hub-service/src/mail-out/mailer';
import { getMail } from '../../hub-service/src/mail-out/queries';
import type { MailTransport, Message } from '../../hub-service/src/mail-out/transport';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

class ScriptedTransport implements MailTransport {
  sent: Message[] = [];
  down = false;
  async send(m: Message): Promise<void> {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:587');
    this.sent.push(m);
  }
}

function setup() {
  // registrations take their created_at from SQLite's clock: start the injected one there
  let now = Date.now();
  const root = tempWorkshops();
  writeWorkshop(root, 'WKSHP-A', { range: [1, 10], capacity: 10, badgeImg: 'badge.svg' });
  writeWorkshop(root, 'WKSHP-B', { range: [11, 20], capacity: 10 });
  writeWorkshop(root, 'WKSHP-C', { range: [21, 30], capacity: 10 });
  const db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 30);
  importWorkshops(db, scanWorkshops({ dir: root }, 30), 'test');
  const config = loadConfig({ env: { WOD_PUBLIC_URL: 'https://wod.example.org' } });
  const transport = new ScriptedTransport();
  const clock = () => now;
  const links = new MailLinks(db, new Sealer('k'.repeat(64)), config.publicUrl);
  const mailer = new Mailer(
    db,
    transport,
    links,
    config,
    createLogger('error', 't', () => {}),
    clock,
  );
  const letters = new Letters(db, mailer, links, config, new Languages());
  const registrations = new Registrations(db, { onCreated: (id) => letters.welcome(id) });
  const timers = new Timers(db, registrations, letters, config.timers, () => {}, clock);
  const register = (email: string, workshop = 'WKSHP-A') => registrations.register({ email, name: 'Ada', company: 'ACME', workshop, acceptTerms: true }, { source: 'portal' }).id;
  const ready = (id: number, deadline: number) =>
    db.prepare(`UPDATE registrations SET state = 'ready', ready_at = ?, deadline_at = ? WHERE id = ?`).run(new Date(now).toISOString(), new Date(deadline).toISOString(), id);
  return { db, transport, mailer, letters, registrations, timers, register, ready, advance: (ms: number) => (now += ms), now: () => now };
}

const kinds = (db: ReturnType<typeof setup>['db']) => (db.prepare('SELECT kind FROM mails ORDER BY id').all() as { kind: string }[]).map((m) => m.kind);

test('welcome is queued with the registration, and delivered with HTML and text', async () => {
  const { db, transport, mailer, register } = setup();
  register('ada@example.com');
  expect(kinds(db)).toEqual(['welcome']);
  expect(await mailer.deliverDue()).toBe(1);
  const m = transport.sent[0];
  expect(m).toMatchObject({ to: 'ada@example.com', subject: 'Your A workshop workshop is being prepared' });
  expect(m.text).toMatch(/https:\/\/wod\.example\.org\/services\/wod\/status\/\d+\.[\w-]+/);
  expect(m.html).toMatch(/<a href="https:\/\/wod\.example\.org\/services\/wod\/status\//);
  expect(m.messageId).toMatch(/^<welcome-1\.[0-9a-f]+@wod\.example\.org>$/);
  expect(await mailer.deliverDue()).toBe(0); // sent once
});

test('stored mails hold no link that acts as the participant; each sending makes them afresh', async () => {
  const { db, transport, mailer, timers, register, ready, now } = setup();
  const id = register('ada@example.com');
  ready(id, now() + 30 * 60_000);
  timers.sweep();
  expect(kinds(db)).toEqual(['welcome', 'reminder']);
  const stored = db.prepare('SELECT id, text, html FROM mails').all() as { id: number; text: string; html: string }[];
  for (const m of stored) {
    expect(m.text + m.html).not.toMatch(/status\/\d+\.|wod-login\?token=/);
    expect(getMail(db, m.id)!.text).toContain(LINK_SHOWN);
  }
  expect(await mailer.deliverDue()).toBe(2);
  const reminder = transport.sent.find((m) => m.subject.includes('left'))!;
  expect(reminder.text).toMatch(new RegExp(`/services/wod/status/${id}\\.[\\w-]{20,}`));
  expect(reminder.html).toMatch(/\/hub\/wod-login\?token=\d+\.\d+\.[\w-]{20,}/);
  // send again: the copy is stored with placeholders too, and goes with links made now
  const copy = mailer.resend(stored[1].id)!;
  expect((db.prepare('SELECT text FROM mails WHERE id = ?').get(copy) as { text: string }).text).not.toMatch(/wod-login\?token=/);
  db.prepare('UPDATE registrations SET deadline_at = ? WHERE id = ?').run(new Date(now() + 90 * 60_000).toISOString(), id);
  expect(await mailer.deliverDue()).toBe(1);
  const again = transport.sent[transport.sent.length - 1];
  const token = (text: string) => text.match(/wod-login\?token=(\S+)/)![1];
  expect(token(again.text)).not.toBe(token(reminder.text));
});

test('a relay that is down loses nothing and, once back, sends each mail once', async () => {
  const { db, transport, mailer, register, advance } = setup();
  transport.down = true;
  register('a@example.com');
  register('b@example.com', 'WKSHP-B');
  expect(await mailer.deliverDue()).toBe(0);
  expect(db.prepare(`SELECT state, attempts, error FROM mails WHERE id = 1`).get()).toMatchObject({ state: 'queued', attempts: 1, error: expect.stringMatching(/ECONNREFUSED/) });
  transport.down = false;
  expect(await mailer.deliverDue()).toBe(1); // the one not tried yet; the first waits for its retry time
  advance(6_000);
  expect(await mailer.deliverDue()).toBe(1);
  advance(60_000);
  expect(await mailer.deliverDue()).toBe(0);
  expect(transport.sent.map((m) => m.to).sort()).toEqual(['a@example.com', 'b@example.com']);
});

test('reminder once before the deadline; the end once, a grace after the deadline', () => {
  const { db, timers, register, ready, advance, now } = setup();
  const id = register('ada@example.com');
  ready(id, now() + 120 * 60_000);
  expect(timers.sweep()).toEqual({ reminded: [], ended: [], abandoned: [] });
  advance(61 * 60_000);
  expect(timers.sweep().reminded).toEqual([id]);
  expect(timers.sweep().reminded).toEqual([]);
  expect(db.prepare('SELECT state FROM registrations WHERE id = ?').get(id)).toEqual({ state: 'reminded' });
  advance(59 * 60_000 + 30_000);
  // 30 s past the deadline: still in the grace given to download the work
  expect(timers.sweep().ended).toEqual([]);
  advance(30_000);
  expect(timers.sweep().ended).toEqual([id]);
  expect(timers.sweep().ended).toEqual([]);
  expect(db.prepare('SELECT state, end_reason FROM registrations WHERE id = ?').get(id)).toEqual({ state: 'ended', end_reason: 'deadline' });
  expect(kinds(db)).toEqual(['welcome', 'reminder']);
  expect(db.prepare(`SELECT verb FROM jobs ORDER BY id`).all()).toEqual([{ verb: 'CREATE' }, { verb: 'CLEANUP' }]);
});

test('a timer that fell due while the service was down fires once at the next sweep', () => {
  const { timers, register, ready, advance, now } = setup();
  const id = register('ada@example.com');
  ready(id, now() + 30 * 60_000);
  advance(5 * 3600_000); // the service was down for five hours
  const r = timers.sweep();
  expect(r.ended).toEqual([id]);
  expect(r.reminded).toEqual([]); // no reminder after the end
});

test('the watchdog gives up on a deployment that is never ready: failed, PURGE queued, apology', () => {
  const { db, timers, register, advance, now } = setup();
  const id = register('ada@example.com');
  // the watchdog counts from the CREATE job's start
  db.prepare(`UPDATE jobs SET state = 'running', started_at = ? WHERE registration_id = ?`).run(new Date(now()).toISOString(), id);
  advance(9 * 60_000);
  expect(timers.sweep().abandoned).toEqual([]);
  advance(2 * 60_000);
  expect(timers.sweep().abandoned).toEqual([id]);
  expect(timers.sweep().abandoned).toEqual([]);
  expect(db.prepare('SELECT state, end_reason FROM registrations WHERE id = ?').get(id)).toEqual({ state: 'failed', end_reason: 'watchdog' });
  expect(db.prepare(`SELECT verb, source FROM jobs ORDER BY id`).all()).toEqual([
    { verb: 'CREATE', source: 'portal' },
    { verb: 'PURGE', source: 'timer' },
  ]);
  expect(kinds(db)).toEqual(['welcome', 'apology']);
});

test('thanks with the badge for each finished workshop; the Apprentice milestone on the third, once', () => {
  const { db, letters, register } = setup();
  const finish = (workshop: string) => {
    const id = register('ada@example.com', workshop);
    db.prepare(`UPDATE registrations SET state = 'cleaned', completion = 0.75 WHERE id = ?`).run(id);
    db.prepare(`UPDATE students SET state = 'free', registration_id = NULL WHERE registration_id = ?`).run(id);
    letters.thanks(id);
    return id;
  };
  finish('WKSHP-A');
  finish('WKSHP-B');
  expect(kinds(db).filter((k) => k === 'milestone')).toEqual([]);
  const third = finish('WKSHP-C');
  letters.thanks(third); // again: nothing new
  expect(kinds(db).filter((k) => k !== 'welcome')).toEqual(['thanks', 'thanks', 'thanks', 'milestone']);
  const thanks = db.prepare(`SELECT text FROM mails WHERE kind = 'thanks' ORDER BY id LIMIT 1`).get() as { text: string };
  expect(thanks.text).toMatch(/You ran 75 % of its exercises/);
  expect(thanks.text).toMatch(/badges\/workshop\/WKSHP-A/);
  expect(db.prepare(`SELECT subject FROM mails WHERE kind = 'milestone'`).get()).toEqual({ subject: 'You are now an Apprentice!' });
  // its drawn badge in the mail's language, whatever the mail client sends
  expect((db.prepare(`SELECT html FROM mails WHERE kind = 'milestone'`).get() as { html: string }).html).toContain('/services/wod/badges/apprentice.svg?lang=en"');
  expect([milestoneAt(3), milestoneAt(4), milestoneAt(5), milestoneAt(15)]).toEqual(['Apprentice', null, 'Expert', 'Legend']);
});
