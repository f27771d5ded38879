/** The systemd unit `wod install-service` writes: what it runs, how it stops, what it may write; and systemd's own verdict on it. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installCommands, renderUnit, UNIT_FILE, type UnitConfig } from '../../hub-service/src/operations/service-unit';

const config = (mode: 'local' | 'system-users', over: Partial<UnitConfig> = {}): UnitConfig =>
  ({
    projectRoot: '/srv/wod',
    configFile: '/srv/wod/wod.yaml',
    dataDir: '/srv/wod/var',
    workshops: { dir: '/srv/wod/workshops' },
    students: { mode, homeRoot: mode === 'local' ? '/srv/wod/var/homes' : '/student' },
    ...over,
  }) as UnitConfig;
const inputs = { node: '/usr/bin/node', user: 'root' };
/** The unit's settings, comments left out, as [key, value] in order. */
const settings = (unit: string) =>
  unit
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
const values = (unit: string, key: string) =>
  settings(unit)
    .filter(([k]) => k === key)
    .map(([, v]) => v);

test('runs `wod start` of this checkout with its configuration, and stops as `wod start` stops', () => {
  const unit = renderUnit(config('system-users'), inputs);
  expect(values(unit, 'ExecStart')).toEqual(['/usr/bin/node /srv/wod/hub-service/dist/cli/main.js start']);
  expect(values(unit, 'WorkingDirectory')).toEqual(['/srv/wod']);
  expect(values(unit, 'Environment')).toEqual(['WOD_CONFIG=/srv/wod/wod.yaml']);
  expect(values(unit, 'EnvironmentFile')).toEqual(['-/etc/default/wod']);
  expect(values(unit, 'Restart')).toEqual(['on-failure']);
  expect(values(unit, 'KillMode')).toEqual(['mixed']);
  // wod start: 30 s for the hub, 5 s for what it left, then the cgroups
  expect(Number(values(unit, 'TimeoutStopSec')[0])).toBeGreaterThan(35);
  expect(values(unit, 'WantedBy')).toEqual(['multi-user.target']);
});

test('system-users mode: root, and writable only where it creates accounts, homes, cgroups and data', () => {
  const unit = renderUnit(config('system-users'), inputs);
  expect(values(unit, 'User')).toEqual(['root']);
  expect(values(renderUnit(config('system-users'), { ...inputs, user: 'ada' }), 'User')).toEqual(['root']);
  expect(values(unit, 'ProtectSystem')).toEqual(['strict']);
  expect(values(unit, 'ReadWritePaths')).toEqual(['/srv/wod/var /student', '/etc -/var/log/lastlog -/var/log/faillog', '/sys/fs/cgroup']);
  expect(values(unit, 'ExecStartPre')).toEqual(['+/bin/mkdir -p -m 0700 /srv/wod/var', '+/bin/mkdir -p -m 0711 /student']);
  // cgroups are written: ProtectControlGroups would make them read-only
  expect(values(unit, 'ProtectControlGroups')).toEqual([]);
  for (const key of ['NoNewPrivileges', 'ProtectKernelModules', 'ProtectKernelTunables', 'RestrictRealtime', 'LockPersonality', 'PrivateTmp', 'ProtectHome', 'RestrictSUIDSGID'])
    expect([key, values(unit, key)]).toEqual([key, ['yes']]);
  // node's JIT
  expect(values(unit, 'MemoryDenyWriteExecute')).toEqual([]);
  // every setting is explained by the comment lines above it
  const lines = unit.split('\n');
  const hardening = lines.slice(lines.indexOf('# Hardening that wod keeps working under:'));
  for (const [i, l] of hardening.entries())
    if (/^(Protect|Private|Restrict|NoNew|Lock|ReadWrite)/.test(l) && !hardening[i - 1].startsWith('#') && !/^[A-Z]/.test(hardening[i - 1])) throw new Error(`${l} has no comment`);
});

test('local mode: its own account, homes inside the data folder, cgroups protected; ProtectHome off for a checkout in /home', () => {
  const unit = renderUnit(
    config('local', {
      projectRoot: '/home/ada/wod',
      dataDir: '/home/ada/wod/var',
      configFile: null,
      students: { mode: 'local', homeRoot: '/home/ada/wod/var/homes' } as UnitConfig['students'],
    }),
    { node: '/usr/bin/node', user: 'ada' },
  );
  expect(values(unit, 'User')).toEqual(['ada']);
  expect(values(unit, 'ReadWritePaths')).toEqual(['/home/ada/wod/var']);
  expect(values(unit, 'ProtectControlGroups')).toEqual(['yes']);
  expect(values(unit, 'ProtectHome')).toEqual([]);
  expect(unit).toContain('# no ProtectHome: /home/ada/wod, /home/ada/wod/var, /home/ada/wod/var/homes are under /home, /root or /run/user');
  expect(values(unit, 'Environment')).toEqual([]);
});

test('paths with spaces or % are quoted and escaped as systemd reads them', () => {
  const unit = renderUnit(config('system-users', { projectRoot: '/srv/my wod', dataDir: '/srv/100%/var' }), inputs);
  expect(values(unit, 'ExecStart')).toEqual(['/usr/bin/node "/srv/my wod/hub-service/dist/cli/main.js" start']);
  expect(values(unit, 'ReadWritePaths')[0]).toBe('/srv/100%%/var /student');
});

test('the commands to install it', () => {
  expect(installCommands(UNIT_FILE)).toEqual(['sudo systemctl daemon-reload', 'sudo systemctl enable --now wod.service', 'journalctl -u wod.service -f']);
  expect(installCommands('wod.service')[0]).toBe('sudo install -m 0644 wod.service /etc/systemd/system/wod.service');
});

const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
(analyze ? test : test.skip).each(['local', 'system-users'] as const)('systemd-analyze verify takes the %s unit without a warning', (mode) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-unit-'));
  try {
    // this checkout and this node: verify checks that ExecStart's program exists
    const root = path.resolve(__dirname, '..', '..');
    const file = path.join(dir, 'wod.service');
    fs.writeFileSync(file, renderUnit(config(mode, { projectRoot: root, dataDir: path.join(root, 'var'), configFile: null }), { node: process.execPath, user: 'root' }));
    const run = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect([run.status, run.stderr.trim(), run.stdout.trim()]).toEqual([0, '', '']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("with bindSocket, the socket's folder is made before the sandbox and stays writable", () => {
  const unit = renderUnit(config('system-users', { bindSocket: '/run/wod/public.sock' }), inputs);
  expect(values(unit, 'ExecStartPre')).toContain('+/bin/mkdir -p -m 0750 /run/wod');
  expect(values(unit, 'ReadWritePaths')[0]).toBe('/srv/wod/var /student /run/wod');
});
