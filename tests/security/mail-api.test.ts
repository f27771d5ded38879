/**
 * The mail API attacked, against one real running product: every participant has a shell on this
 * host, so whoever reaches the port from here must not place an order. No AUTH (with the allowed
 * envelope sender, in the original api-db's own dialogue, spoofing the address with XCLIENT, from
 * this host's interface address that the operator listed as trusted, from another uid), a wrong
 * password or user, a brute force (closed after three failures), the hub's other secrets: each is
 * refused with its 5xx and changes nothing. A trusted network holding a loopback address is refused
 * at start. The right credential does place orders, so none of this is vacuous. The original's
 * lenient dialect and the relay of participant mails: out of reach from this host without AUTH,
 * bounded (recipients, a huge message, an endless line) for the trusted host that reaches them, and
 * a relayed password is neither in the database nor in the service log.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import nodemailer from 'nodemailer';
import { ConfigError, loadConfig } from '../../hub-service/src/config/load';
import { attack } from '../support/attacks';
import { type RunningHub, startHub, WOD_CLI } from '../support/hub';
import { canMakeOtherHost, makeOtherHost, type OtherHost, postfixDialogue, writeAtOnce } from '../support/original-api-db';
import { outboxMails } from '../support/outbox';
import { query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const FOLDER = 'WKSHP-MailSec';
const SENDER = 'wodadmin@localhost';
const asRoot = process.getuid?.() === 0;
const otherPossible = canMakeOtherHost();
/** This host's own non-loopback address, listed by the operator as trusted: it must still not be. */
const own = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && !i.internal && i.family === 'IPv4')?.address;

let hub: RunningHub;
let other: OtherHost | undefined;
let credential: { host: string; port: number; user: string; password: string; source: string };
const workshops = tempWorkshops();

beforeAll(async () => {
  writeWorkshop(workshops, FOLDER, { range: [1, 5], capacity: 5 });
  // Another host (a network namespace) on a trusted network: the only place the original dialect
  // and the relay without AUTH are reachable from. This host's end of its link is inside it too.
  if (otherPossible) other = makeOtherHost('secmail');
  const trusted = [...(own ? [`${own}/32`] : []), ...(other ? [other.network] : [])];
  hub = await startHub({
    env: {
      WOD_WORKSHOPS_DIR: workshops,
      WOD_MAIL_API_SENDERS: SENDER,
      ...(trusted.length
        ? { WOD_MAIL_API_HOST: '0.0.0.0', WOD_MAIL_API_NETWORKS: ['127.0.0.0/8', '::1/128', ...trusted].join(','), WOD_MAIL_API_TRUSTED_NETWORKS: trusted.join(',') }
        : {}),
    },
  });
  credential = JSON.parse(await hub.cli('mail-api', 'credentials', '--json'));
});
afterAll(async () => {
  await hub?.stop();
  other?.remove();
  fs.rmSync(workshops, { recursive: true, force: true });
});

/** What an order could have changed: jobs, registrations, participants. */
function footprint(): { jobs: number; registrations: number; participants: number; victim: string | undefined } {
  const db = new Database(path.join(hub.dataDir, 'wod.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    const victim = db.prepare(`SELECT state FROM registrations WHERE external_id = '825'`).get() as { state: string } | undefined;
    return { jobs: count('jobs'), registrations: count('registrations'), participants: count('participants'), victim: victim?.state };
  } finally {
    db.close();
  }
}

/** Runs an attempt and checks that it changed nothing. */
async function changesNothing<T>(attempt: () => Promise<T>): Promise<T> {
  const before = footprint();
  const result = await attempt();
  expect(footprint()).toEqual(before);
  return result;
}

const order = (opts: { subject: string; host?: string; auth?: { user: string; pass: string }; from?: string }) =>
  nodemailer
    .createTransport({ host: opts.host ?? '127.0.0.1', port: hub.ports.mailApi, ignoreTLS: true, auth: opts.auth })
    .sendMail({ from: opts.from ?? SENDER, to: 'wod@localhost', subject: opts.subject, text: `${FOLDER}\n` })
    .then(
      (info) => `${info.response}`,
      (e: Error & { responseCode?: number }) => `${e.responseCode}: ${e.message}`,
    );

/**
 * A raw SMTP dialogue: each command is sent when the previous reply is complete. Returns the last
 * line of every reply and whether the server closed the connection before the dialogue was over.
 */
function converse(commands: string[], host = '127.0.0.1'): Promise<{ replies: string[]; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(hub.ports.mailApi, host);
    const pending = [...commands];
    const replies: string[] = [];
    let buffer = '';
    let done = false;
    socket.on('data', (d) => {
      buffer += d.toString();
      for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (!/^\d{3} /.test(line)) continue;
        replies.push(line);
        const next = pending.shift();
        if (next !== undefined) socket.write(next + '\r\n');
        else {
          done = true;
          socket.end();
        }
      }
    });
    socket.on('error', () => {}); // a write after the server closed: seen as the close below
    socket.on('close', () => resolve({ replies, closedByServer: !done }));
  });
}
const codes = (replies: string[]) => replies.map((r) => r.slice(0, 3));
const plain = (user: string, pass: string) => `AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString('base64')}`;

test('the right credential places real orders: an api-db with `wod mail-api credentials`, and `wod action`', async () => {
  expect(credential).toMatchObject({ user: 'wod', port: hub.ports.mailApi, source: path.join(hub.dataDir, 'secrets', 'mail-api-password') });
  expect(credential.password).toBe(fs.readFileSync(credential.source, 'utf8').trim());
  const before = footprint();
  const reply = await order({ subject: 'CREATE 2 825 victim@example.org', auth: { user: credential.user, pass: credential.password } });
  expect(reply).toMatch(/^250 .*queued as jobs \d+/);
  expect(footprint()).toMatchObject({ jobs: before.jobs + 1, registrations: before.registrations + 1 });
  const until = Date.now() + 120_000;
  while (footprint().victim !== 'ready' && Date.now() < until) await new Promise((r) => setTimeout(r, 300));
  expect(footprint().victim).toBe('ready'); // the victim whose workshop the attacks below try to end

  const out = await hub.cli('action', 'PURGE', FOLDER, '5', '--timeout', '120');
  expect(out).toMatch(/250 .*queued as jobs/);
  expect(out).toMatch(/PURGE student5: done/);
  if (own) {
    expect(hub.output()).toMatch(/orders are taken WITHOUT AUTH from mailApi\.trustedNetworks/);
    const ownListed = hub.output().match(/this host's own address\(es\) (.+) are inside mailApi\.trustedNetworks; connections from this host still need AUTH/);
    // this host's end of the link to the other host is inside its trusted network too
    expect(ownListed?.[1].split(', ')).toEqual([own, ...(other ? [other.hostAddress] : [])]);
  }
});

describe('orders from this host without the credential', () => {
  test('no AUTH, the allowed envelope sender forged: CLEANUP of a running workshop, CREATE for an outside address', async () => {
    await attack('mail API: CLEANUP 2 825 without AUTH, forged allowed sender, from 127.0.0.1', async () => {
      expect(await changesNothing(() => order({ subject: 'CLEANUP 2 825' }))).toMatch(/^530: .*authentication required/);
    });
    await attack('mail API: CREATE for an outside address without AUTH, from 127.0.0.1', async () => {
      expect(await changesNothing(() => order({ subject: 'CREATE 3 0 outsider@evil.example' }))).toMatch(/^530/);
    });
    await attack('mail API: CLEANUP 2 0 without AUTH, any sender', async () => {
      expect(await changesNothing(() => order({ subject: 'CLEANUP 2 0', from: 'student1@localhost' }))).toMatch(/^530/);
    });
  });

  // The original writes `MAIL FROM: addr` without <>, which smtp-server refuses (501) before any
  // check of ours; with <> the order reaches the AUTH check.
  test("the original api-db's dialogue (HELO, the whole order written at once, no AUTH)", async () => {
    await attack("mail API: the original api-db's dialogue without AUTH, from 127.0.0.1", async () => {
      const out = await changesNothing(
        () =>
          new Promise<string>((resolve) => {
            const socket = net.connect(hub.ports.mailApi, '127.0.0.1');
            let text = '';
            socket.once('data', () => socket.write(`HELO api-db\nMAIL FROM:<${SENDER}>\nRCPT TO:<wod@localhost>\nDATA\nSubject: CLEANUP 2 825\n${FOLDER}\n.\nQUIT\n`));
            socket.on('data', (d) => (text += d.toString()));
            socket.on('error', () => {});
            socket.on('close', () => resolve(text));
          }),
      );
      expect(out).toMatch(/^530 .*authentication required/m);
      expect(out).not.toMatch(/^354|queued as jobs/m);
    });
  });

  (own ? test : test.skip)(`from this host's own address ${own}, although the operator listed it in mailApi.trustedNetworks`, async () => {
    await attack("mail API: no AUTH from this host's own interface address listed as trusted", async () => {
      expect(await changesNothing(() => order({ subject: 'CLEANUP 2 825', host: own }))).toMatch(/^530/);
      const raw = await changesNothing(() => converse(['EHLO student', `MAIL FROM:<${SENDER}>`], own));
      expect(codes(raw.replies)).toEqual(['220', '250', '530']);
    });
  });

  test('the client address spoofed with XCLIENT / XFORWARD', async () => {
    await attack('mail API: XCLIENT ADDR= or XFORWARD to pass as another host', async () => {
      const { replies } = await changesNothing(() =>
        converse(['EHLO student', `XCLIENT ADDR=${own ?? '203.0.113.9'}`, `XFORWARD ADDR=${own ?? '203.0.113.9'}`, `MAIL FROM:<${SENDER}>`]),
      );
      expect(codes(replies).slice(2)).toEqual([expect.stringMatching(/^5/), expect.stringMatching(/^5/), '530']);
    });
  });

  (asRoot ? test : test.skip)("another uid on this host (a participant's process): cannot read the password, cannot order", async () => {
    await attack("mail API: a participant's uid reads the password file or orders without it", async () => {
      const script = `
        const fs = require('fs'), net = require('net');
        let read = 'read';
        try { fs.readFileSync(process.argv[1]); } catch (e) { read = e.code; }
        const s = net.connect(Number(process.argv[2]), '127.0.0.1');
        let out = '', sent = false;
        s.on('data', (d) => { out += d; if (!sent) { sent = true; s.write('EHLO x\\r\\nMAIL FROM:<${SENDER}>\\r\\nQUIT\\r\\n'); } });
        s.on('close', () => console.log(JSON.stringify({ read, out })));`;
      const result = await changesNothing(
        () =>
          new Promise<{ read: string; out: string }>((resolve, reject) => {
            const child = spawn(process.execPath, ['-e', script, credential.source, String(hub.ports.mailApi)], { uid: 65534, gid: 65534, cwd: '/' });
            let stdout = '';
            child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
            child.on('error', reject);
            child.on('close', () => resolve(JSON.parse(stdout)));
          }),
      );
      expect(result.read).toBe('EACCES');
      expect(result.out).toMatch(/^530 /m);
    });
  });
});

describe('AUTH without the credential', () => {
  const wrong: string[] = [];
  const guess = (label: string) => {
    const pass = `${label}-${Math.random().toString(36).slice(2)}`;
    wrong.push(pass);
    return pass;
  };

  test('a wrong password, the right password with another user', async () => {
    await attack('mail API: AUTH with a wrong password', async () => {
      expect(await changesNothing(() => order({ subject: 'CLEANUP 2 825', auth: { user: 'wod', pass: guess('wrong') } }))).toMatch(/^535: .*authentication failed/);
    });
    await attack('mail API: AUTH as another user with the right password', async () => {
      expect(await changesNothing(() => order({ subject: 'CLEANUP 2 825', auth: { user: 'admin', pass: credential.password } }))).toMatch(/^535/);
    });
    await attack('mail API: AUTH LOGIN with an empty password', async () => {
      const { replies } = await changesNothing(() => converse(['EHLO student', 'AUTH LOGIN', Buffer.from('wod').toString('base64'), '', `MAIL FROM:<${SENDER}>`]));
      expect(codes(replies).slice(2)).toEqual(['334', '334', '535', '530']);
    });
  });

  test('a brute force on one connection is cut off after three failures', async () => {
    await attack('mail API: brute-forcing the password on one connection', async () => {
      const { replies, closedByServer } = await changesNothing(() =>
        converse(['EHLO student', ...[1, 2, 3, 4, 5].map((n) => plain('wod', guess(`brute-${n}`))), plain('wod', credential.password), `MAIL FROM:<${SENDER}>`]),
      );
      expect(codes(replies)).toEqual(['220', '250', '535', '535', '421']);
      expect(replies[4]).toMatch(/authentication failed 3 times: closing the connection/);
      expect(closedByServer).toBe(true); // not even the right password is heard on that connection
    });
  });

  test("the hub's other secrets and the admin's password are not the mail API's", async () => {
    const secrets = path.join(hub.dataDir, 'secrets');
    const others = fs.readdirSync(secrets).filter((f) => f !== 'mail-api-password');
    expect(others).toEqual(expect.arrayContaining(['auth-secret', 'session-key']));
    for (const name of others) {
      const value = fs.readFileSync(path.join(secrets, name), 'utf8').trim();
      await attack(`mail API: AUTH with the hub's ${name}`, async () => {
        expect(await changesNothing(() => order({ subject: 'CLEANUP 2 825', auth: { user: 'wod', pass: value } }))).toMatch(/^535/);
      });
    }
    for (const user of ['wod', hub.admin.name]) {
      await attack(`mail API: AUTH as ${user} with the hub admin's password`, async () => {
        expect(await changesNothing(() => order({ subject: 'CLEANUP 2 825', auth: { user, pass: hub.admin.password } }))).toMatch(/^535/);
      });
    }
  });

  test('every failure is logged, no password tried (nor the real one) is', async () => {
    expect(wrong.length).toBeGreaterThan(5);
    await attack('mail API: reading a password from the service log', async () => {
      const log = hub.output();
      expect(log).toMatch(/mail API: authentication failed .*from=127\.0\.0\.1 user=wod .*failures=3/);
      expect(log).toMatch(/mail API: order without authentication refused/);
      for (const pass of [...wrong, credential.password]) expect(log).not.toContain(pass);
    });
  });
});

test('after all of it, the running workshop is untouched and no outside address got a seat', () => {
  const db = new Database(path.join(hub.dataDir, 'wod.sqlite'), { readonly: true });
  try {
    expect(db.prepare(`SELECT r.state FROM registrations r JOIN participants p ON p.id = r.participant_id WHERE p.email = 'victim@example.org'`).all()).toEqual([
      { state: 'ready' },
    ]);
    expect(db.prepare(`SELECT COUNT(*) AS n FROM participants WHERE email LIKE '%evil.example'`).get()).toEqual({ n: 0 });
    expect(db.prepare(`SELECT verb, student_id AS student FROM jobs WHERE source = 'mail' ORDER BY id`).all()).toEqual([
      { verb: 'CREATE', student: 2 },
      { verb: 'PURGE', student: 5 },
    ]);
  } finally {
    db.close();
  }
});

describe('the original dialect and the relay of participant mails', () => {
  const SECRET_TEXT = (pw: string) => `Your Workshops-on-Demand credentials\nUser Name student3\nPassword ${pw}\n`;
  /** What a relay could have changed: relayed mails recorded, relayed mails in the outbox. */
  const relays = async () => ({
    recorded: query<{ n: number }>(hub.dataDir, `SELECT COUNT(*) AS n FROM mails WHERE kind = 'relayed'`)[0].n,
    delivered: (await outboxMails(hub.dataDir)).filter((m) => String(m.headers.get('x-wod-key')).startsWith('relayed:')).length,
  });
  const relaysNothing = async <T>(attempt: () => Promise<T>): Promise<T> => {
    const before = await relays();
    const result = await changesNothing(attempt);
    expect(await relays()).toEqual(before);
    return result;
  };
  const relayMail = (opts: { host?: string; to: string[]; auth?: boolean; text?: string; subject?: string }) =>
    nodemailer
      .createTransport({
        host: opts.host ?? '127.0.0.1',
        port: hub.ports.mailApi,
        ignoreTLS: true,
        auth: opts.auth ? { user: credential.user, pass: credential.password } : undefined,
      })
      .sendMail({ from: SENDER, to: opts.to, subject: opts.subject ?? 'Workshops-on-Demand credentials', text: opts.text ?? 'Hello' })
      .then(
        (info) => `${info.response}`,
        (e: Error & { responseCode?: number }) => `${e.responseCode}: ${e.message}`,
      );
  const locals = () => ['127.0.0.1', ...(own ? [own] : []), ...(other ? [other.hostAddress] : [])];

  test("from this host, the original's dialogue (all before the banner, no <>) reaches neither orders nor the relay", async () => {
    for (const host of locals()) {
      for (const [what, subject, recipient] of [
        ['an order', 'CLEANUP 2 825', 'wod@localhost'],
        ['a relay', 'Workshops-on-Demand credentials', 'outsider@evil.example'],
      ]) {
        await attack(`mail API: the original's raw dialogue from this host (${host}) for ${what}, no AUTH`, async () => {
          const out = await relaysNothing(() =>
            writeAtOnce(
              { host, port: hub.ports.mailApi },
              { text: postfixDialogue({ host, port: 0, helo: 'api-db', sender: SENDER, recipient, subject, content: FOLDER }), waitMs: 1_500 },
            ),
          );
          expect(out).toMatch(/^(421 .*You talk too soon|5\d\d )/m);
          expect(out).not.toMatch(/^354|queued/m);
        });
      }
    }
  });

  test('from this host without AUTH, even from addresses inside a trusted network: no relay, to anyone', async () => {
    for (const host of locals()) {
      await attack(`mail API: relay to an outside address without AUTH from ${host}`, async () => {
        expect(await relaysNothing(() => relayMail({ host, to: ['outsider@evil.example'] }))).toMatch(/^530: .*authentication required/);
      });
      await attack(`mail API: relay by RCPT alone (MAIL FROM the allowed sender), no AUTH, from ${host}`, async () => {
        const { replies } = await relaysNothing(() => converse(['EHLO spammer', `MAIL FROM:<${SENDER}>`, 'RCPT TO:<outsider@evil.example>', 'DATA'], host));
        expect(codes(replies)).toEqual(['220', '250', '530', '503', '503']);
      });
    }
  });

  test('with AUTH, a relay names at least one and at most a few recipients', async () => {
    await attack('mail API: relay to many recipients at once with the credential', async () => {
      const many = Array.from({ length: 50 }, (_, i) => `victim${i}@evil.example`);
      expect(await relaysNothing(() => relayMail({ to: many, auth: true }))).toMatch(/^550: .*at most \d+ recipients, not 50/);
    });
    await attack('mail API: DATA with no recipient, with the credential', async () => {
      const { replies } = await relaysNothing(() => converse(['EHLO x', plain(credential.user, credential.password), `MAIL FROM:<${SENDER}>`, 'DATA']));
      expect(codes(replies)).toEqual(['220', '250', '235', '250', '503']);
    });
  });

  (otherPossible ? describe : describe.skip)('the trusted host, in the original dialect', () => {
    const raw = (o: Omit<Extract<Parameters<OtherHost['client']>[0], { mode: 'raw' }>, 'mode' | 'host' | 'port'>) =>
      other!.client({ mode: 'raw', host: other!.hostAddress, port: hub.ports.mailApi, ...o });

    test('a huge message and an endless line are refused and the connection closed; nothing stored', async () => {
      await attack('mail API (original dialect): a 3 MiB message from the trusted host', async () => {
        const out = await relaysNothing(() =>
          raw({
            prefix: `HELO x\nMAIL FROM: ${SENDER}\nRCPT TO: outsider@evil.example\nDATA\nSubject: big\n`,
            fill: `${'y'.repeat(79)}\n`,
            bytes: 3 * 1024 * 1024,
            suffix: '.\n',
            waitMs: 20_000,
          }),
        );
        expect(out).toMatch(/^552 5\.3\.4 message larger than 1048576 bytes/m);
        expect(out).not.toMatch(/queued/);
      });
      await attack('mail API (original dialect): an endless command line from the trusted host', async () => {
        const out = await relaysNothing(() => raw({ prefix: 'HELO ', fill: 'x', bytes: 2 * 1024 * 1024, waitMs: 20_000 }));
        expect(out).toMatch(/^500 5\.5\.2 line longer than \d+ bytes/m);
      });
      await attack('mail API (original dialect): relay to many recipients from the trusted host', async () => {
        const rcpts = Array.from({ length: 20 }, (_, i) => `RCPT TO: victim${i}@evil.example\n`).join('');
        const out = await relaysNothing(() => raw({ text: `HELO x\nMAIL FROM: ${SENDER}\n${rcpts}DATA\nSubject: hello\nspam\n.\nQUIT\n` }));
        expect(out).toMatch(/^550 .*at most \d+ recipients, not 20/m);
      });
      await attack('mail API (original dialect): an envelope sender outside mailApi.senders', async () => {
        const out = await relaysNothing(() =>
          raw({
            text:
              postfixDialogue({ host: '', port: 0, helo: 'x', sender: 'intruder@evil.example', recipient: 'outsider@evil.example', subject: 'hello', content: 'spam' }) + 'QUIT\n',
          }),
        );
        expect(out).toMatch(/^550 sender intruder@evil\.example is not allowed/m);
        expect(out).not.toMatch(/^354/m);
      });
    });

    test('a relayed credentials mail is delivered, and its password is in neither the database nor the service log', async () => {
      const pw = `Pw-${Math.random().toString(36).slice(2)}-relayed`;
      const authPw = `Pw-${Math.random().toString(36).slice(2)}-auth`;
      const out = await raw({
        text:
          postfixDialogue({
            host: '',
            port: 0,
            helo: 'api-db',
            sender: SENDER,
            recipient: 'ada@example.org',
            subject: 'Workshops-on-Demand credentials',
            content: SECRET_TEXT(pw),
          }) + 'QUIT\n',
      });
      expect(out).toMatch(/^250 2\.0\.0 queued for delivery as relayed:/m);
      expect(await relayMail({ to: ['bob@example.org'], auth: true, text: SECRET_TEXT(authPw) })).toMatch(/^250 .*queued for delivery/);
      const delivered = await until(
        () => outboxMails(hub.dataDir),
        (ms) => [pw, authPw].every((p) => ms.some((m) => m.text?.includes(p))),
        'both relayed mails in the outbox',
      );
      expect(
        delivered
          .filter((m) => String(m.headers.get('x-wod-key')).startsWith('relayed:'))
          .map((m) => (Array.isArray(m.to) ? '' : m.to?.text))
          .sort(),
      ).toEqual(['ada@example.org', 'bob@example.org']);
      await until(
        () => query<{ state: string }>(hub.dataDir, `SELECT state FROM mails WHERE kind = 'relayed'`),
        (rows) => rows.length === 2 && rows.every((r) => r.state === 'sent'),
        'both relayed mails recorded as sent',
      );
      await attack('relay: reading a relayed password from the database (its file and write-ahead log) or the service log', () => {
        const bytes = ['wod.sqlite', 'wod.sqlite-wal']
          .map((f) => path.join(hub.dataDir, f))
          .filter((f) => fs.existsSync(f))
          .map((f) => fs.readFileSync(f).toString('latin1'))
          .join('');
        for (const p of [pw, authPw]) {
          expect(bytes).not.toContain(p);
          expect(hub.output()).not.toContain(p);
        }
        expect(query(hub.dataDir, `SELECT text, html FROM mails WHERE kind = 'relayed'`)).toEqual([
          { text: null, html: null },
          { text: null, html: null },
        ]);
      });
    });
  });
});

describe('a trusted network holding a loopback address', () => {
  const variants = ['127.0.0.0/8', '127.0.0.1/32', '::1/128', '::ffff:127.0.0.1/128', '::ffff:0:0/96', '0.0.0.0/0', '64.0.0.0/2', '::/0'];

  test('is refused when the configuration is loaded, with the key, its variable and the reason', async () => {
    for (const network of variants) {
      await attack(`config: mailApi.trustedNetworks ${network}`, () => {
        const load = () => loadConfig({ env: { WOD_MAIL_API_TRUSTED_NETWORKS: network, WOD_MAIL_API_NETWORKS: '0.0.0.0/0,::/0' } });
        expect(load).toThrow(ConfigError);
        expect(load).toThrow(`mailApi.trustedNetworks.0 (WOD_MAIL_API_TRUSTED_NETWORKS_0): ${network} contains a loopback address`);
      });
    }
  });

  test('makes `wod start` refuse to start, from wod.yaml as from the environment, before touching anything', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-mail-trust-'));
    const yaml = path.join(dir, 'wod.yaml');
    fs.writeFileSync(yaml, 'mailApi:\n  networks: [127.0.0.0/8, 10.0.0.0/8]\n  trustedNetworks: [10.1.0.0/16, 127.0.0.0/8]\n');
    const dataDir = path.join(dir, 'var');
    const start = (env: Record<string, string>) =>
      spawnSync(process.execPath, [WOD_CLI, 'start'], { env: { ...process.env, WOD_DATA_DIR: dataDir, ...env }, encoding: 'utf8', timeout: 60_000 });
    await attack('config: wod start with mailApi.trustedNetworks 127.0.0.0/8 in wod.yaml', () => {
      const run = start({ WOD_CONFIG: yaml });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`invalid configuration in ${yaml}`);
      expect(run.stderr).toMatch(/mailApi\.trustedNetworks\.1 \(WOD_MAIL_API_TRUSTED_NETWORKS_1\): 127\.0\.0\.0\/8 contains a loopback address: participants run on this host/);
    });
    await attack('config: wod start with WOD_MAIL_API_TRUSTED_NETWORKS=::1/128', () => {
      const run = start({ WOD_CONFIG: '', WOD_MAIL_API_TRUSTED_NETWORKS: '::1/128' });
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/::1\/128 contains a loopback address/);
    });
    expect(fs.existsSync(dataDir)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
