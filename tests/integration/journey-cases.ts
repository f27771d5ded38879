/**
 * The journey's cases, run by journey.test.ts in the default student mode and by
 * journey-remote.test.ts in remote mode (the same assertions, another hub).
 *
 * A participant's whole journey by mail, through a real SMTP relay that this test runs: welcome,
 * credentials, reminder, thanks with the badge, the milestone on the third finished workshop; the
 * apology when a deployment fails; a relay down then back loses nothing and sends nothing twice.
 * "Once" is checked after the event that would have brought the second (the job finished, the
 * mailer or the timers having passed again), on the relay and in the mails table: never after a sleep.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { findProcesses } from '../../hub-service/src/lifecycle/processes';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { Browser } from '../support/browser';
import { type RunningHub, sealerOf, startHub } from '../support/hub';
import { credentialsIn } from '../support/outbox';
import { freePorts } from '../support/ports';
import { jobsOf, jobsSettled, mailsTo, query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

/** The journey against a hub started with `env` on top of the journey's own settings; returns the running hub, for a mode's own checks. */
export function journeyCases(env: Record<string, string> = {}): () => RunningHub {
  let hub: RunningHub;
  let relayPort: number;
  let relay: SMTPServer | null = null;
  const received: ParsedMail[] = [];
  const workshops = tempWorkshops();

  function startRelay(): Promise<void> {
    relay = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => void simpleParser(Buffer.concat(chunks)).then((m) => (received.push(m), cb()), cb));
      },
    });
    return new Promise((r) => relay!.listen(relayPort, '127.0.0.1', r));
  }
  const stopRelay = () => new Promise<void>((r) => relay!.close(() => r()));

  beforeAll(async () => {
    [relayPort] = await freePorts(1);
    await startRelay();
    for (const [i, name] of ['One', 'Two', 'Three'].entries()) {
      const dir = writeWorkshop(workshops, `WKSHP-${name}`, { name: `Workshop ${name}`, range: [1 + i * 5, 5 + i * 5], capacity: 5, badgeImg: 'badge.svg' });
      fs.writeFileSync(path.join(dir, 'badge.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    }
    // Their create hook was to hand MISSING over (lint can only warn) and does not: every CREATE fails.
    const failing = JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'markdown', id: 'm', metadata: {}, source: '{{ MISSING }}' }] });
    const forgetful = (dir: string) => fs.writeFileSync(path.join(dir, 'create'), '#!/bin/sh\n# TODO: echo MISSING=1 >> "$WOD_VARS_FILE"\n', { mode: 0o755 });
    forgetful(writeWorkshop(workshops, 'WKSHP-Broken', { range: [20, 22], capacity: 3 }, { notebook: failing }));
    // Registered for by mailerPassed(): its welcome is the probe; its deployment fails at once (no server to start).
    forgetful(writeWorkshop(workshops, 'WKSHP-Probe', { name: 'Workshop Probe', range: [23, 30], capacity: 8 }, { notebook: failing }));
    hub = await startHub({
      env: {
        WOD_WORKSHOPS_DIR: workshops,
        WOD_MAIL_TRANSPORT: 'smtp',
        WOD_MAIL_SMTP_HOST: '127.0.0.1',
        WOD_MAIL_SMTP_PORT: String(relayPort),
        WOD_MAIL_FROM: 'Academy <academy@example.org>',
        WOD_REGISTRATION_PER_EMAIL_PER_HOUR: '100',
        ...env,
      },
    });
  });
  afterAll(async () => {
    await hub?.stop();
    await relay?.close();
    fs.rmSync(workshops, { recursive: true, force: true });
  });

  const to = (m: ParsedMail) => (m.to as { text: string }).text;
  async function mailFor(email: string, subject: RegExp, timeoutMs = 60_000): Promise<ParsedMail> {
    const match = (x: ParsedMail) => to(x) === email && subject.test(x.subject ?? '');
    await until(
      () => received.some(match),
      (v) => v,
      `mail "${subject}" for ${email}`,
      timeoutMs,
      200,
    ).catch((e: Error) => {
      throw new Error(`no mail "${subject}" for ${email}; got ${received.map((x) => `${to(x)}: ${x.subject}`).join(' | ')} (${e.message.split(':')[0]})`);
    });
    return received.find(match)!;
  }
  const register = async (email: string, workshop: string) => {
    const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, name: 'Grace Hopper', company: 'Navy', workshop, acceptTerms: true }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { registration: { id: number } }).registration.id;
  };
  const db = () => new Database(path.join(hub.dataDir, 'wod.sqlite'));
  let probes = 0;
  /**
   * Proof that the mailer's delivery loop has passed over every mail queued until now: it sends the
   * due mails in the order they were queued, so once the welcome of a registration made now has
   * reached the relay, a duplicate queued before it has too. (The loop writes nothing when it has
   * nothing to send: a second mail of the same kind is the observable pass.)
   */
  async function mailerPassed(): Promise<void> {
    const email = `probe${++probes}@example.com`;
    await register(email, 'WKSHP-Probe');
    await mailFor(email, /Workshop Probe workshop is being prepared/);
  }
  /** The mails table's rows for an address, as [kind, state]. */
  const stored = (email: string) => mailsTo(hub.dataDir, email).map((m) => [m.kind, m.state]);
  const sealer = () => sealerOf(hub);

  test('one registration left alone: welcome, credentials, reminder, thanks, with proper headers and both alternatives', async () => {
    const id = await register('grace@example.com', 'WKSHP-One');
    const welcome = await mailFor('grace@example.com', /being prepared/);
    expect(welcome.from?.text).toBe('"Academy" <academy@example.org>');
    expect(welcome.messageId).toMatch(/^<welcome-\d+\.[0-9a-f]+@127\.0\.0\.1>$/);
    expect(welcome.date).toBeInstanceOf(Date);
    expect(welcome.text).toMatch(/status page/);
    expect(welcome.html).toMatch(/<a href="http:\/\/127\.0\.0\.1:\d+\/services\/wod\/status\//);

    const creds = await mailFor('grace@example.com', /is ready/);
    const { password, startUrl } = credentialsIn(creds);
    expect(creds.html).toContain(password);
    expect((await new Browser(hub.url).request(new URL(startUrl!).pathname + new URL(startUrl!).search)).status).toBe(200);

    // the clock moves on: 30 minutes left → the reminder; then past the deadline → CLEANUP and the thanks
    const d = db();
    d.prepare('UPDATE registrations SET deadline_at = ? WHERE id = ?').run(new Date(Date.now() + 30 * 60_000).toISOString(), id);
    const reminder = await mailFor('grace@example.com', /minutes left/);
    expect(reminder.text).toMatch(/wod-login\?token=/);
    d.prepare('UPDATE registrations SET deadline_at = ? WHERE id = ?').run(new Date(Date.now() - 1000).toISOString(), id);
    d.close();
    const thanks = await mailFor('grace@example.com', /Thank you for taking Workshop One/);
    expect(thanks.html).toMatch(/WKSHP-One\/assets\/badge\.svg/);
    const badgePage = thanks.text!.match(/(http\S+\/badges\/workshop\/WKSHP-One)/)![1];
    const page = await new Browser(hub.url).request(new URL(badgePage).pathname);
    expect(page.text).toContain('<meta property="og:image"');

    // The CLEANUP that queued the thanks is over, and the mailer has passed since: a second reminder or thanks would be here.
    expect((await jobsSettled(hub.dataDir, id, ['CREATE', 'CLEANUP'])).map((j) => [j.verb, j.state])).toEqual([
      ['CREATE', 'done'],
      ['CLEANUP', 'done'],
    ]);
    await mailerPassed();
    expect(stored('grace@example.com')).toEqual([
      ['welcome', 'sent'],
      ['credentials', 'sent'],
      ['reminder', 'sent'],
      ['thanks', 'sent'],
    ]);
    const mine = received.filter((m) => to(m) === 'grace@example.com').map((m) => m.subject);
    expect(mine).toEqual([
      'Your Workshop One workshop is being prepared',
      'Your Workshop One workshop is ready',
      'Workshop One: 30 minutes left',
      'Thank you for taking Workshop One',
    ]);
  });

  test('the third finished workshop brings the Apprentice milestone, in its own mail, once', async () => {
    let third = 0;
    for (const w of ['WKSHP-Two', 'WKSHP-Three']) {
      const id = (third = await register('grace@example.com', w));
      await mailFor('grace@example.com', new RegExp(`Workshop ${w.slice(6)} workshop is ready`));
      const ended = await fetch(`${hub.url}/services/wod/api/v1/status/${statusToken(sealer(), id)}/end`, { method: 'POST' });
      expect(ended.status).toBe(200);
      await mailFor('grace@example.com', new RegExp(`Thank you for taking Workshop ${w.slice(6)}`));
    }
    const milestone = await mailFor('grace@example.com', /You are now an Apprentice/);
    expect(milestone.text).toMatch(/completed 3 workshops/);
    const svg = await fetch(`${hub.url}/services/wod/badges/apprentice.svg`);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    // The third CLEANUP (which queued the thanks and the milestone) is over, and the mailer has passed since.
    await jobsSettled(hub.dataDir, third, ['CREATE', 'CLEANUP']);
    await mailerPassed();
    expect(received.filter((m) => /Apprentice/.test(m.subject ?? ''))).toHaveLength(1);
    expect(stored('grace@example.com').filter(([kind]) => kind === 'milestone')).toEqual([['milestone', 'sent']]);
    expect(stored('grace@example.com').filter(([, state]) => state !== 'sent')).toEqual([]);
  });

  test('a failed deployment: the apology, and the seat is free again', async () => {
    await register('ken@example.com', 'WKSHP-Broken');
    const apology = await mailFor('ken@example.com', /could not prepare/);
    expect(apology.text).toMatch(/register again/i);
    // the apology goes with the failure; the PURGE it queued frees the seat right after (remote mode: through the student's server)
    await until(
      () => query(hub.dataDir, `SELECT COUNT(*) AS n FROM students WHERE id BETWEEN 20 AND 22 AND state = 'free'`),
      (rows) => (rows[0] as { n: number }).n === 3,
      'the seat of the failed CREATE freed',
    );
  });

  test('a relay that is down then back loses nothing and sends nothing twice', async () => {
    await stopRelay();
    const id = await register('ada@example.com', 'WKSHP-One');
    // the mailer has tried the welcome and failed: it is kept, with the error, for a retry
    await until(
      () => mailsTo(hub.dataDir, 'ada@example.com').filter((m) => m.kind === 'welcome'),
      (ms) => ms.length === 1 && ms[0].attempts >= 1 && ms[0].state === 'queued' && /ECONNREFUSED/.test(ms[0].error ?? ''),
      'the mailer to try the welcome and fail',
    );
    expect(received.some((m) => to(m) === 'ada@example.com')).toBe(false);
    await startRelay();
    await mailFor('ada@example.com', /being prepared/, 90_000);
    await mailFor('ada@example.com', /is ready/, 90_000);
    // The CREATE (which sends the credentials itself, retrying while the relay was down) is over, and the mailer has passed since.
    await jobsSettled(hub.dataDir, id, ['CREATE']);
    await mailerPassed();
    expect(
      received
        .filter((m) => to(m) === 'ada@example.com')
        .map((m) => m.subject)
        .sort(),
    ).toEqual(['Your Workshop One workshop is being prepared', 'Your Workshop One workshop is ready']);
    expect(stored('ada@example.com').sort()).toEqual([
      ['credentials', 'sent'],
      ['welcome', 'sent'],
    ]);
    const ids = received.map((m) => m.messageId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('the survey on the status page: stored, changeable, acknowledged by mail once', async () => {
    const token = statusToken(sealer(), 1); // grace's first registration, finished
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      follow: false,
    });
    const browser = new Browser(hub.url);
    const incomplete = await browser.request(`/services/wod/status/${token}/feedback`, form({ good: 'the exercises' }));
    expect(incomplete.status).toBe(422);
    const sent = await browser.request(`/services/wod/status/${token}/feedback`, form({ rating: '5', good: 'the exercises', improve: '', recommend: 'yes' }));
    expect(sent.status).toBe(303);
    await mailFor('grace@example.com', /Thank you for your feedback/);
    const again = await browser.request(`/services/wod/status/${token}/feedback`, form({ rating: '4', good: 'the exercises', improve: 'more time', recommend: 'yes' }));
    expect(again.status).toBe(303);
    const page = await browser.request(`/services/wod/status/${token}`);
    expect(page.text).toContain('more time');
    // The changed answer was stored (with whatever mail it queued) before the redirect; the mailer has passed since.
    await mailerPassed();
    expect(received.filter((m) => /feedback/.test(m.subject ?? ''))).toHaveLength(1);
    expect(query(hub.dataDir, `SELECT state FROM mails WHERE kind = 'feedback' AND registration_id = 1`)).toEqual([{ state: 'sent' }]);
    const d = db();
    expect(JSON.parse((d.prepare('SELECT survey FROM registrations WHERE id = 1').get() as { survey: string }).survey)).toMatchObject({
      rating: 4,
      improve: 'more time',
      recommend: true,
    });
    d.close();
  });

  test('a deadline that passes while the service is down is kept once it is back: thanks, once', async () => {
    const id = await register('linus@example.com', 'WKSHP-Two');
    const next = await register('margaret@example.com', 'WKSHP-Two');
    await mailFor('linus@example.com', /is ready/);
    await mailFor('margaret@example.com', /is ready/);
    const service = findProcesses(hub.hubApiUrl, 'JUPYTERHUB_SERVICE_NAME=wod')[0];
    process.kill(service, 'SIGKILL');
    const d = db();
    d.prepare('UPDATE registrations SET deadline_at = ? WHERE id = ?').run(new Date(Date.now() - 60_000).toISOString(), id);
    d.close();
    await mailFor('linus@example.com', /Thank you for taking Workshop Two/, 120_000);
    await jobsSettled(hub.dataDir, id, ['CREATE', 'CLEANUP']);
    // The timers write nothing when nothing is due: a second deadline, passed now, is kept only by a
    // later sweep, whose CLEANUP and thanks come after any repeat of linus's end.
    const d2 = db();
    d2.prepare('UPDATE registrations SET deadline_at = ? WHERE id = ?').run(new Date(Date.now() - 1000).toISOString(), next);
    d2.close();
    await mailFor('margaret@example.com', /Thank you for taking Workshop Two/, 60_000);
    await jobsSettled(hub.dataDir, next, ['CREATE', 'CLEANUP']);
    expect(jobsOf(hub.dataDir, id).map((j) => [j.verb, j.state])).toEqual([
      ['CREATE', 'done'],
      ['CLEANUP', 'done'],
    ]);
    expect(stored('linus@example.com')).toEqual([
      ['welcome', 'sent'],
      ['credentials', 'sent'],
      ['thanks', 'sent'],
    ]);
    expect(received.filter((m) => to(m) === 'linus@example.com').map((m) => m.subject)).toEqual([
      'Your Workshop Two workshop is being prepared',
      'Your Workshop Two workshop is ready',
      'Thank you for taking Workshop Two',
    ]);
    // Nor did the sweeps since repeat any end before it, or queue any mail twice: one CLEANUP per
    // registration, one mail per registration and kind.
    expect(query(hub.dataDir, `SELECT registration_id, COUNT(*) AS n FROM jobs WHERE verb = 'CLEANUP' GROUP BY registration_id HAVING n > 1`)).toEqual([]);
    expect(query(hub.dataDir, `SELECT registration_id, kind, COUNT(*) AS n FROM mails GROUP BY registration_id, kind HAVING n > 1`)).toEqual([]);
  });

  return () => hub;
}
