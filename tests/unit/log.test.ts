import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createLogger, REDACTED, scrubUrl } from '../../hub-service/src/log';

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');

test('query values never reach the log', () => {
  expect(scrubUrl('/services/wod/oauth_callback?code=SECRET&state=S2')).toBe('/services/wod/oauth_callback?code&state');
  expect(scrubUrl('/user/x/lab?token=abc')).not.toContain('abc');
  expect(scrubUrl('/services/wod/health')).toBe('/services/wod/health');
});

test('secrets in paths never reach the log: status links (portal and API) and tickets', () => {
  expect(scrubUrl('/services/wod/status/12.Abc-def_ghijklmnopqrstuvwx')).toBe('/services/wod/status/[redacted]');
  expect(scrubUrl('/services/wod/status/12.Abc-def_ghijklmnopqrstuvwx/end?ended=1')).toBe('/services/wod/status/[redacted]/end?ended');
  expect(scrubUrl('/services/wod/api/v1/status/12.Abc-def/feedback')).toBe('/services/wod/api/v1/status/[redacted]/feedback');
  expect(scrubUrl('/services/wod/registered/7.Abcdefghijklmnopqrstu')).toBe('/services/wod/registered/[redacted]');
  expect(scrubUrl('/services/wod/work/7.1999999999.Abcdefghijklmnopqrstu')).toBe('/services/wod/work/[redacted]');
  expect(scrubUrl('/services/wod/admin/registrations/7')).toBe('/services/wod/admin/registrations/7');
});

test('levels below the threshold are dropped; lines carry level, label and fields', () => {
  const lines: string[] = [];
  const log = createLogger('info', 'wod', (l) => lines.push(l));
  log.debug('hidden');
  log.child('http').warn('slow', { ms: 12 });
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^\[W \S+ \S+ wod\.http\] slow ms=12$/);
});

// The hub's request log (spawner-config/wod_logging.py) follows the same rule, with JupyterHub's own.
(fs.existsSync(PYTHON) ? test : test.skip)("the hub's log function hides the same secrets, also inside next=", () => {
  const uris = [
    '/hub/wod-login?token=1.1999999999.SECRETSECRETSECRETSECRET',
    '/services/wod/status/12.SECRETSECRETSECRETSECRET/end',
    '/services/wod/work/12.1999999999.SECRETSECRETSECRETSECRET',
    '/hub/login?next=%2Fhub%2Fwod-login%3Ftoken%3D1.2.SECRETSECRETSECRETSECRET',
    '/hub/login?next=%2Fuser%2Fstudent1%2Flab',
  ];
  const script = 'import json, sys, wod_logging; print(json.dumps([wod_logging.scrub_uri(u) for u in json.loads(sys.argv[1])]))';
  const out = execFileSync(PYTHON, ['-c', script, JSON.stringify(uris)], { cwd: path.join(ROOT, 'spawner-config'), encoding: 'utf8' });
  const scrubbed = JSON.parse(out) as string[];
  expect(scrubbed.join(' ')).not.toContain('SECRET');
  expect(scrubbed).toEqual([
    '/hub/wod-login?token=[secret]',
    '/services/wod/status/[redacted]/end',
    '/services/wod/work/[redacted]',
    '/hub/login?next=/hub/wod-login%3Ftoken%3D[secret]',
    '/hub/login?next=%2Fuser%2Fstudent1%2Flab',
  ]);
});

test('json lines carry time, level, name, msg and the fields; fields named like secrets are redacted at any depth, in both formats', () => {
  const lines: string[] = [];
  const log = createLogger('debug', 'wod', (l) => lines.push(l), 'json');
  log.child('mail-in').info('order accepted', { order: 'CREATE', auth: { user: 'wod', password: 'hunter2' }, apiToken: 'abc123', ms: 3 });
  const entry = JSON.parse(lines[0]) as Record<string, unknown>;
  expect(entry).toMatchObject({ level: 'info', name: 'wod.mail-in', msg: 'order accepted', order: 'CREATE', ms: 3, auth: { user: 'wod', password: REDACTED }, apiToken: REDACTED });
  expect(new Date(entry.time as string).getTime()).toBeGreaterThan(Date.now() - 60_000);

  const text: string[] = [];
  createLogger('info', 'wod', (l) => text.push(l)).warn('relay login failed', { user: 'relay', secret: 's3cr3t' });
  expect(text[0]).toContain('secret=[redacted]');
  expect([...lines, ...text].join('\n')).not.toMatch(/hunter2|abc123|s3cr3t/);
});

test('a secret is known by the words of its field name, not by a substring; nothing deeper than five levels is written', () => {
  const lines: string[] = [];
  const log = createLogger('info', 'wod', (l) => lines.push(l), 'json');
  const fields = { apiToken: 'a1', smtp_password: 'a2', Cookie: 'a3', privateKey: 'a4', key: 'welcome-7', passed: 3, bypassed: true, tokensRevoked: 2 };
  log.info('x', { ...fields, deep: { a: { b: { c: { d: { password: 'a5' } } } } } });
  const entry = JSON.parse(lines[0]) as Record<string, unknown>;
  expect(entry).toMatchObject({
    apiToken: REDACTED,
    smtp_password: REDACTED,
    Cookie: REDACTED,
    privateKey: REDACTED,
    key: 'welcome-7',
    passed: 3,
    bypassed: true,
    tokensRevoked: 2,
  });
  expect(lines[0]).not.toMatch(/"a[1-5]"/);
  expect(lines[0]).toContain('[truncated]');
});
