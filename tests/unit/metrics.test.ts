/**
 * The service's metrics: what lives in the database (seats, jobs, the mail queue) is read from a
 * real SQLite file at each scrape, so a fresh registry (a restarted service) reports the same; the
 * events are counted where they happen (the desk, the request timing, the mail API, the mailer);
 * label values are workshop folders, fixed words and route templates, never what a request carried;
 * the route lets in read:metrics or the wod admin scope only.
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import nodemailer from 'nodemailer';
import { Identities, WOD_ADMIN_SCOPE } from '../../hub-service/src/auth/identity';
import { Sealer } from '../../hub-service/src/auth/seal';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { loadConfig } from '../../hub-service/src/config/load';
import { HubApiError, type HubIdentity } from '../../hub-service/src/hub/client';
import { MailLinks } from '../../hub-service/src/journey/links';
import { createLogger } from '../../hub-service/src/log';
import { acceptMessage } from '../../hub-service/src/mail-in/messages';
import { createMailApi } from '../../hub-service/src/mail-in/server';
import { Mailer } from '../../hub-service/src/mail-out/mailer';
import { handlerLabel, workshopLabel } from '../../hub-service/src/metrics/labels';
import { WodMetrics } from '../../hub-service/src/metrics/metrics';
import { metricsRouter } from '../../hub-service/src/metrics/route';
import { TrustedProxies } from '../../hub-service/src/network/addresses';
import { syncPool } from '../../hub-service/src/pool/pool';
import { RegistrationDesk } from '../../hub-service/src/registrations/desk';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { type Db, openDatabase } from '../../hub-service/src/store/db';
import { createApp } from '../../hub-service/src/web/app';
import { freePorts } from '../support/ports';
import { samples, valueOf } from '../support/prometheus';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let db: Db;

beforeAll(() => {
  const root = tempWorkshops();
  writeWorkshop(root, 'WKSHP-A', { range: [1, 6], capacity: 6 });
  db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 10);
  importWorkshops(db, scanWorkshops({ dir: root }, 10), 'test');
});
afterAll(() => db.close());

const scrape = async (m: WodMetrics) => (await m.exposition()).text;
const workshopId = () => (db.prepare(`SELECT id FROM workshops WHERE folder = 'WKSHP-A'`).get() as { id: number }).id;

describe('gauges read from the database at scrape time', () => {
  test('seats by state: a free seat prepared for a workshop is warm, not free', async () => {
    db.prepare(`UPDATE students SET state = 'allocated' WHERE id IN (1, 2, 3)`).run();
    db.prepare(`UPDATE students SET state = 'cleanup' WHERE id = 4`).run();
    db.prepare(`UPDATE students SET warm_workshop_id = ? WHERE id IN (5, 6)`).run(workshopId());
    // a seat allocated from the warm ones keeps its mark until its home is wiped: it is allocated
    db.prepare(`UPDATE students SET warm_workshop_id = ? WHERE id = 3`).run(workshopId());
    const text = await scrape(new WodMetrics(db));
    expect(['free', 'warm', 'allocated', 'cleanup'].map((state) => valueOf(text, 'wod_seats', { state }))).toEqual([4, 2, 3, 1]);
  });

  test('jobs by verb and state, every pair reported, zero included', async () => {
    const job = (verb: string, state: string) => db.prepare(`INSERT INTO jobs (verb, student_id, source, state) VALUES (?, 1, 'admin', ?)`).run(verb, state);
    job('CREATE', 'done');
    job('CREATE', 'done');
    job('CREATE', 'queued');
    job('CLEANUP', 'failed');
    const text = await scrape(new WodMetrics(db));
    expect(valueOf(text, 'wod_jobs', { verb: 'CREATE', state: 'done' })).toBe(2);
    expect(valueOf(text, 'wod_jobs', { verb: 'CREATE', state: 'queued' })).toBe(1);
    expect(valueOf(text, 'wod_jobs', { verb: 'CLEANUP', state: 'failed' })).toBe(1);
    const series = samples(text).filter((s) => s.name === 'wod_jobs');
    expect(series).toHaveLength(16);
    expect(series.find((s) => s.labels.verb === 'PURGE' && s.labels.state === 'running')?.value).toBe(0);
  });

  test('the mail queue counts what waits for the transport, not what went or can never go', async () => {
    const mail = (key: string, state: string, text: string | null) =>
      db
        .prepare(`INSERT INTO mails (key, kind, to_address, subject, text, message_id, state) VALUES (?, 'welcome', 'a@example.com', 's', ?, ?, ?)`)
        .run(key, text, `<${key}>`, state);
    mail('q1', 'queued', 'hello');
    mail('q2', 'queued', 'hello');
    mail('sent', 'sent', null);
    mail('dropped', 'queued', null); // a relayed mail whose body cannot be opened
    expect(valueOf(await scrape(new WodMetrics(db)), 'wod_mail_queue_depth')).toBe(2);
  });

  test('a scrape follows the rows: the same registry reads again, a new one (after a restart) reads the same', async () => {
    const metrics = new WodMetrics(db);
    const before = valueOf(await scrape(metrics), 'wod_seats', { state: 'allocated' });
    db.prepare(`UPDATE students SET state = 'allocated' WHERE id = 7`).run();
    expect(valueOf(await scrape(metrics), 'wod_seats', { state: 'allocated' })).toBe(before + 1);
    expect(valueOf(await scrape(new WodMetrics(db)), 'wod_seats', { state: 'allocated' })).toBe(before + 1);
  });
});

test('each registry counts on its own, and carries the process metrics', async () => {
  const one = new WodMetrics();
  const other = new WodMetrics();
  one.login('refused');
  expect(valueOf(await scrape(one), 'wod_logins_total', { outcome: 'refused' })).toBe(1);
  expect(samples(await scrape(other)).some((s) => s.name === 'wod_logins_total')).toBe(false);
  expect(samples(await scrape(other)).some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
});

describe('label values', () => {
  test('a workshop label is a folder name or unknown, never anything else', () => {
    expect(workshopLabel('WKSHP-A')).toBe('WKSHP-A');
    expect(workshopLabel('CHLG-A')).toBe('CHLG-A');
    for (const other of [null, '', 'ada@example.com', 'Ada Lovelace', '../etc', 'WKSHP-']) expect(workshopLabel(other)).toBe('unknown');
  });

  test('the handler is the route template below the prefix, not the URL', () => {
    const prefix = '/services/wod/';
    expect(handlerLabel({ baseUrl: '/services/wod', route: { path: '/status/:token' } }, prefix)).toBe('/status/:token');
    expect(handlerLabel({ baseUrl: '/services/wod/api/v1', route: { path: '/registrations/:id' } }, prefix)).toBe('/api/v1/registrations/:id');
    // answered by a router's middleware before any route (a 401 of the admin router)
    expect(handlerLabel({ baseUrl: '/services/wod/admin' }, prefix)).toBe('/admin/*');
    expect(handlerLabel({ baseUrl: '' }, prefix)).toBe('none');
  });

  test('the desk counts each outcome; a made-up workshop and the participant are no label', async () => {
    const metrics = new WodMetrics();
    const desk = new RegistrationDesk(
      new Registrations(db),
      { denyList: ['@denied.example'], refuseDisposable: false },
      { perIpPerMinute: 5, perEmailPerHour: 5 },
      Date.now,
      metrics,
    );
    const person = { email: 'grace.hopper@example.org', name: 'Grace Hopper', company: 'Navy', workshop: 'WKSHP-A', acceptTerms: true };
    const meta = { ip: '192.0.2.1', source: 'api' as const };
    expect(desk.submit(person, meta).status).toBe(201);
    expect(desk.submit({ ...person, email: 'x@denied.example' }, meta).status).toBe(422);
    expect(desk.submit({ ...person, email: 'not an address' }, meta).status).toBe(422);
    expect(desk.submit({ ...person, email: 'z@example.org', workshop: 'WKSHP-Grace-Hopper' }, meta).status).toBe(404);
    expect(desk.submit(person, meta).status).toBe(409);
    expect(desk.submit(person, meta).status).toBe(429); // the sixth from this network in a minute
    const text = await scrape(metrics);
    const count = (outcome: string, workshop: string) => valueOf(text, 'wod_registrations_total', { outcome, workshop });
    expect(count('registered', 'WKSHP-A')).toBe(1);
    expect(count('address-refused', 'unknown')).toBe(1);
    expect(count('invalid', 'unknown')).toBe(1);
    expect(count('unknown-workshop', 'unknown')).toBe(1);
    expect(count('already-registered', 'WKSHP-A')).toBe(1);
    expect(count('rate-limited', 'unknown')).toBe(1);
    expect(text).not.toMatch(/grace|hopper|denied|navy/i);
  });

  test('request durations are labelled with the route template, never the token in the path', async () => {
    const metrics = new WodMetrics();
    const app = createApp({
      prefix: '/services/wod/',
      log: createLogger('error'),
      proxies: new TrustedProxies([]),
      ownUid: null,
      peerUid: async () => 'unsupported',
      metrics,
      mount: (r) => {
        r.get('/status/:token', (_req, res) => void res.send('ok'));
        const admin = express.Router();
        admin.use((_req, res) => void res.status(401).json({ status: 401, message: 'log in' }));
        r.use('/admin', admin);
      },
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${base}/services/wod/status/s3cr3t-status-token`)).status).toBe(200);
      expect((await fetch(`${base}/services/wod/admin/registrations?q=ada@example.com`)).status).toBe(401);
      expect((await fetch(`${base}/nowhere/s3cr3t-path`)).status).toBe(404);
    } finally {
      server.close();
    }
    const text = await scrape(metrics);
    const count = (handler: string, code: string) => valueOf(text, 'wod_request_duration_seconds_count', { handler, code, method: 'GET' });
    expect(count('/status/:token', '200')).toBe(1);
    expect(count('/admin/*', '401')).toBe(1);
    expect(count('none', '404')).toBe(1);
    expect(text).not.toMatch(/s3cr3t|ada@example/);
  });
});

describe('who may scrape', () => {
  /** A hub that knows a few tokens, as GET /hub/api/user answers for them. */
  const hub = {
    identify: async (token: string): Promise<HubIdentity> => {
      const known: Record<string, Pick<HubIdentity, 'kind' | 'name' | 'scopes'>> = {
        scraper: { kind: 'service', name: 'wod-metrics', scopes: ['read:metrics'] },
        admin: { kind: 'user', name: 'admin', scopes: ['access:services!service=wod', WOD_ADMIN_SCOPE] },
        narrowed: { kind: 'user', name: 'admin', scopes: ['access:services!service=wod'] },
      };
      if (!known[token]) throw new HubApiError('GET', '/user', 403, 'Forbidden');
      return { admin: false, groups: [], server: null, pending: null, last_activity: null, ...known[token] };
    },
  };

  test('read:metrics or the wod admin scope, of a user or a service; 401 without a token the hub knows, 403 without the scope', async () => {
    const identities = new Identities(hub, ['access:services!service=wod']);
    const app = express().use(metricsRouter({ metrics: new WodMetrics(), identities, log: createLogger('error') }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const get = (token?: string) => fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    try {
      const scraped = await get('scraper');
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await scraped.text()).toContain('# TYPE wod_logins_total counter');
      expect((await get('admin')).status).toBe(200);
      expect((await get('narrowed')).status).toBe(403);
      expect(await (await get('narrowed')).json()).toMatchObject({ status: 403 });
      expect((await get('revoked')).status).toBe(401);
      expect((await get()).status).toBe(401);
    } finally {
      server.close();
    }
    // the metrics token opens the metrics alone: to the other routes it is nobody
    expect(await identities.resolve('scraper')).toBeNull();
  });
});

describe('mail', () => {
  test('orders by verdict: accepted, duplicate, refused; the address ordered for is no label', async () => {
    const root = tempWorkshops();
    writeWorkshop(root, 'WKSHP-M', { range: [1, 3], capacity: 3 });
    const orders = openDatabase(path.join(root, 'wod.sqlite'));
    syncPool(orders, 3);
    importWorkshops(orders, scanWorkshops({ dir: root }, 3), 'test');
    const metrics = new WodMetrics();
    const deps = { db: orders, poolSize: 3, log: createLogger('error', 't', () => {}), onJobs: () => {}, metrics };
    const envelope = { client: '127.0.0.1', by: 'AUTH' as const, sender: 'api-db@example.net', recipients: ['wod@localhost'] };
    const order = Buffer.from('Subject: CREATE 2 825 ada.byron@example.org\r\nMessage-ID: <o1@example.net>\r\n\r\nWKSHP-M\r\n');
    await acceptMessage(deps, order, envelope);
    await acceptMessage(deps, order, envelope);
    await expect(acceptMessage(deps, Buffer.from('Subject: CREATE 2 825\r\n\r\nWKSHP-M\r\n'), envelope)).rejects.toThrow(/malformed CREATE order/);
    await expect(acceptMessage(deps, Buffer.from('Subject: PURGE 1 0\r\n\r\nWKSHP-Gone\r\n'), envelope)).rejects.toThrow(/unknown workshop/);
    const text = await scrape(metrics);
    expect(['accepted', 'duplicate', 'refused-invalid'].map((verdict) => valueOf(text, 'wod_mail_api_orders_total', { verdict }))).toEqual([1, 1, 2]);
    expect(text).not.toMatch(/ada|byron|WKSHP-Gone/i);
    orders.close();
  });

  test('a mail the transport does not take is a delivery failure, counted at each attempt', async () => {
    const config = loadConfig({ env: {} });
    const metrics = new WodMetrics();
    const down = { send: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:587')) };
    let now = Date.now();
    const mailer = new Mailer(
      db,
      down,
      new MailLinks(db, new Sealer('k'.repeat(64)), config.publicUrl),
      config,
      createLogger('error', 't', () => {}),
      () => now,
      null,
      metrics,
    );
    db.prepare(`DELETE FROM mails`).run();
    mailer.queue({ kind: 'welcome', key: 'welcome:1', registrationId: null, to: 'a@example.com', content: { subject: 'Welcome', preheader: '', blocks: [{ p: 'Hello' }] } });
    expect(await mailer.deliverDue()).toBe(0);
    now += 60_000;
    expect(await mailer.deliverDue()).toBe(0);
    expect(valueOf(await scrape(metrics), 'wod_mail_delivery_failures_total')).toBe(2);
    await expect(
      mailer.sendNow({ kind: 'credentials', key: 'credentials:1', registrationId: null, to: 'a@example.com', content: { subject: 'Ready', preheader: '', blocks: [] } }),
    ).rejects.toThrow(/ECONNREFUSED/);
    expect(valueOf(await scrape(metrics), 'wod_mail_delivery_failures_total')).toBe(3);
  });

  test('refusals at the door count too: a client outside the networks, an order without AUTH, a sender not listed', async () => {
    const metrics = new WodMetrics();
    const PASSWORD = 'a-test-password-of-the-mail-api';
    const base = { ...loadConfig({ env: {} }).mailApi, senders: ['api-db@example.net'] };
    const servers: ReturnType<typeof createMailApi>[] = [];
    const serve = async (config: Partial<typeof base>) => {
      const [port] = await freePorts(1);
      const server = createMailApi({ config: { ...base, ...config }, password: PASSWORD, poolSize: 3, db, log: createLogger('error', 't', () => {}), onJobs: () => {}, metrics });
      servers.push(server);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
      return port;
    };
    const send = (port: number, opts: { auth?: boolean; from?: string }) =>
      nodemailer
        .createTransport({ host: '127.0.0.1', port, ignoreTLS: true, auth: opts.auth ? { user: base.authUser, pass: PASSWORD } : undefined })
        .sendMail({ from: opts.from ?? 'api-db@example.net', to: 'wod@localhost', subject: 'PURGE 1 0', text: 'WKSHP-A' })
        .then(
          () => 0,
          (e: { responseCode?: number }) => e.responseCode,
        );
    try {
      const open = await serve({});
      expect(await send(open, {})).toBe(530);
      expect(await send(open, { auth: true, from: 'intruder@example.org' })).toBe(550);
      expect(await send(await serve({ networks: ['10.0.0.0/8'] }), { auth: true })).toBe(554);
    } finally {
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    }
    const text = await scrape(metrics);
    expect(['refused-unauthenticated', 'refused-sender', 'refused-client'].map((verdict) => valueOf(text, 'wod_mail_api_orders_total', { verdict }))).toEqual([1, 1, 1]);
    expect(text).not.toContain('intruder');
  });
});
