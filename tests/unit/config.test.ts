import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, configKeys, envName, loadConfig } from '../../hub-service/src/config/load';
import { studentsRunAs } from '../../hub-service/src/isolation/student-side';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-config-'));
fs.chmodSync(root, 0o755); // a checkout anyone can reach (a private one is below)
const write = (name: string, text: string) => {
  const file = path.join(root, name);
  fs.writeFileSync(file, text);
  return file;
};
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

test('defaults need no file and no environment', () => {
  const c = loadConfig({ env: {}, projectRoot: root });
  expect(c).toMatchObject({
    port: 8000,
    bindIp: '127.0.0.1',
    dataDir: path.join(root, 'var'),
    publicUrl: 'http://127.0.0.1:8000',
    configFile: null,
    hub: { apiPort: 8081, proxyApiPort: 8001 },
    service: { port: 10101 },
    students: { mode: 'local', homeRoot: path.join(root, 'var', 'homes') },
    accounts: { admins: ['admin'], wodAdmins: [] },
  });
});

test("students' homes stay reachable by the account students run as, even from a private checkout", () => {
  const local = loadConfig({ env: {}, projectRoot: root }).students;
  expect(studentsRunAs(local, 1000)).toEqual({ kind: 'self' });
  expect(studentsRunAs(local, 0)).toEqual({ kind: 'account', name: 'wod-student' });
  fs.chmodSync(root, 0o700);
  try {
    const homeRoot = loadConfig({ env: {}, projectRoot: root }).students.homeRoot;
    if (process.getuid?.() === 0) expect(homeRoot).toMatch(/^\/var\/lib\/wod\/homes-[0-9a-f]{12}$/);
    else expect(homeRoot).toBe(path.join(root, 'var', 'homes'));
  } finally {
    fs.chmodSync(root, 0o755);
  }
});

test('the YAML file is read and the environment overrides it', () => {
  const file = write('a.yaml', 'port: 9000\nstudents:\n  mode: system-users\naccounts:\n  admins: [alice]\n');
  const c = loadConfig({
    env: { WOD_CONFIG: file, WOD_PORT: '9100', WOD_ACCOUNTS_WOD_ADMINS: 'tom, jerry', WOD_DATA_DIR: '/srv/wod' },
    projectRoot: root,
  });
  expect(c.port).toBe(9100);
  expect(c.configFile).toBe(file);
  expect(c.dataDir).toBe('/srv/wod');
  expect(c.students).toMatchObject({ mode: 'system-users', homeRoot: '/student' });
  expect(c.accounts).toEqual({ admins: ['alice'], wodAdmins: ['tom', 'jerry'] });
});

test('wod.yaml in the project root is found without WOD_CONFIG', () => {
  const dir = fs.mkdtempSync(path.join(root, 'p-'));
  fs.writeFileSync(path.join(dir, 'wod.yaml'), 'port: 8123\n');
  expect(loadConfig({ env: {}, projectRoot: dir }).port).toBe(8123);
});

test('every key has an environment variable named after its path', () => {
  expect(envName(['hub', 'proxyApiPort'])).toBe('WOD_HUB_PROXY_API_PORT');
  const names = configKeys().map((k) => k.env);
  expect(names).toEqual(expect.arrayContaining(['WOD_PORT', 'WOD_DATA_DIR', 'WOD_STUDENTS_MODE', 'WOD_LOG_LEVEL']));
  expect(new Set(names).size).toBe(names.length);
});

test('invalid values are refused with the key, its variable and the reason', () => {
  const run = (env: Record<string, string>) => () => loadConfig({ env, projectRoot: root });
  expect(run({ WOD_PORT: 'eighty' })).toThrow(ConfigError);
  expect(run({ WOD_PORT: '70000' })).toThrow(/port \(WOD_PORT\)/);
  expect(run({ WOD_STUDENTS_MODE: 'docker' })).toThrow(/students\.mode \(WOD_STUDENTS_MODE\)/);
  expect(run({ WOD_ACCOUNTS_ADMINS: 'Bad Name' })).toThrow(/accounts\.admins\.0/);
  const unknown = write('u.yaml', 'prot: 8000\n');
  expect(run({ WOD_CONFIG: unknown })).toThrow(/u\.yaml[\s\S]*prot/);
});

test('malformed YAML names the file and the line', () => {
  const file = write('bad.yaml', 'port: 8000\nhub:\n  apiPort: [1,\n');
  expect(() => loadConfig({ env: { WOD_CONFIG: file }, projectRoot: root })).toThrow(/bad\.yaml:\d+:/);
  expect(() => loadConfig({ env: { WOD_CONFIG: path.join(root, 'missing.yaml') }, projectRoot: root })).toThrow(/does not exist/);
});

test('wod.example.yaml is valid and documents every key with its variable and the defaults', () => {
  const example = path.resolve(__dirname, '..', '..', 'wod.example.yaml');
  const text = fs.readFileSync(example, 'utf8');
  for (const { env } of configKeys()) expect(text).toContain(env);
  const fromExample = loadConfig({ env: { WOD_CONFIG: example }, projectRoot: root });
  expect({ ...fromExample, configFile: null }).toEqual(loadConfig({ env: {}, projectRoot: root }));
});
