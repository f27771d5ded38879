/**
 * The systemd unit that runs `wod start` from this checkout, hardened as far as the product still
 * works: in system-users mode wod must stay root (it creates accounts with useradd, spawns each
 * student's server as that account, writes cgroups and homes), so the unit takes away what root
 * does not need instead of root itself. Pure: `wod install-service` writes or prints what this renders.
 */
import path from 'node:path';
import type { WodConfig } from '../config/schema.js';

export const UNIT_NAME = 'wod.service';
export const UNIT_FILE = path.join('/etc/systemd/system', UNIT_NAME);
/** The operator's WOD_* variables and secrets (WOD_LDAP_BIND_PASSWORD, …), if any: never in the unit itself. */
export const ENVIRONMENT_FILE = '/etc/default/wod';

/**
 * `wod start` gives JupyterHub 30 s after SIGTERM, then kills its process group and whatever it left
 * (5 s of grace), then prunes the students' cgroups (cli/start.ts): systemd waits longer than that.
 */
const STOP_SECONDS = 60;

export type UnitConfig = Pick<WodConfig, 'projectRoot' | 'configFile' | 'dataDir' | 'students' | 'workshops'> & Partial<Pick<WodConfig, 'bindSocket'>>;

export interface UnitInputs {
  /** the node binary that runs wod (process.execPath) */
  node: string;
  /** the account wod runs as now, which the unit keeps in local mode (system-users mode is root's) */
  user: string;
}

/** A word of a unit line, quoted when it must be (systemd.syntax: spaces, quotes, `%` specifiers). */
function word(s: string): string {
  const escaped = s.replace(/%/g, '%%');
  return /[\s"'\\]/.test(escaped) ? `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : escaped;
}

const inside = (dir: string, parent: string) => dir === parent || dir.startsWith(parent + path.sep);

export function renderUnit(config: UnitConfig, inputs: UnitInputs): string {
  const cli = path.join(config.projectRoot, 'hub-service', 'dist', 'cli', 'main.js');
  const systemUsers = config.students.mode === 'system-users';
  const homesApart = !inside(config.students.homeRoot, config.dataDir);
  // the public socket's folder (bindSocket): wod start gives it to the reverse proxy's group
  const socketDir = config.bindSocket ? [path.dirname(config.bindSocket)] : [];
  const underHome = [config.projectRoot, config.dataDir, config.students.homeRoot, config.workshops.dir].filter((p) => ['/home', '/root', '/run/user'].some((h) => inside(p, h)));
  const lines = [
    '# wod: Workshops-on-Demand on JupyterHub. Written by `wod install-service`; render it again after',
    '# moving the checkout, the data folder or the homes, or after changing students.mode.',
    '[Unit]',
    'Description=Workshops-on-Demand on JupyterHub (wod)',
    'Documentation=file://' + path.join(config.projectRoot, 'README.md'),
    '# the mail relay, the directory and the api-db are reached over the network from the first minute',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=exec',
    systemUsers
      ? '# root: system-users mode creates accounts (useradd), spawns each server as its student and writes cgroups'
      : '# the account that ran `wod install-service`: in local mode the students run as it (or, for root, as students.localAccount)',
    `User=${systemUsers ? 'root' : inputs.user}`,
    `WorkingDirectory=${word(config.projectRoot)}`,
    ...(config.configFile ? [`Environment=${word(`WOD_CONFIG=${config.configFile}`)}`] : ['# no WOD_CONFIG: wod reads wod.yaml in the working directory when there is one']),
    `# WOD_* overrides and secrets, mode 0600, if you keep them out of wod.yaml ('-': the file may be absent)`,
    `EnvironmentFile=-${ENVIRONMENT_FILE}`,
    '# ReadWritePaths must exist before the sandbox is set up: made first, outside it (+), as `wod start` would',
    `ExecStartPre=+/bin/mkdir -p -m 0700 ${word(config.dataDir)}`,
    ...(homesApart ? [`ExecStartPre=+/bin/mkdir -p -m 0711 ${word(config.students.homeRoot)}`] : []),
    ...socketDir.map((d) => `ExecStartPre=+/bin/mkdir -p -m 0750 ${word(d)}`),
    `ExecStart=${word(inputs.node)} ${word(cli)} start`,
    '# SIGTERM to `wod start` alone: it stops JupyterHub, the proxy and every student server in order;',
    "# what is left after TimeoutStopSec (in this unit's cgroup) is killed. Servers in the students'",
    '# own cgroups (wod/<site>/…, outside the unit) are stopped by wod itself, never left behind.',
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${STOP_SECONDS}`,
    '# a crash restarts wod; interrupted jobs resume where they stopped',
    'Restart=on-failure',
    'RestartSec=5',
    '# every participant holds a few connections (JupyterLab, kernels, terminals)',
    'LimitNOFILE=65536',
    '# files wod and its children create are private unless they say otherwise (the data folder is 0600)',
    'UMask=0077',
    '',
    '# Hardening that wod keeps working under:',
    '# the whole file system read-only but what wod writes',
    'ProtectSystem=strict',
    `# the data folder (databases, secrets, outbox)${homesApart ? " and the students' homes" : ", the students' homes inside it"}${socketDir.length ? ', the public socket' : ''}`,
    `ReadWritePaths=${[config.dataDir, ...(homesApart ? [config.students.homeRoot] : []), ...socketDir].map(word).join(' ')}`,
    ...(systemUsers
      ? [
          '# useradd and groupadd write /etc/passwd, group, shadow, gshadow, subuid, subgid and their lock files;',
          "# they reset the new account's lastlog and faillog entries where those files exist",
          'ReadWritePaths=/etc -/var/log/lastlog -/var/log/faillog',
          "# the students' cgroups (isolation/limits.ts): so no ProtectControlGroups, which makes them read-only",
          'ReadWritePaths=/sys/fs/cgroup',
        ]
      : ['# local mode writes no cgroup', 'ProtectControlGroups=yes']),
    underHome.length
      ? `# no ProtectHome: ${underHome.join(', ')} ${underHome.length > 1 ? 'are' : 'is'} under /home, /root or /run/user`
      : '# nothing of wod is under /home, /root or /run/user',
    ...(underHome.length ? [] : ['ProtectHome=yes']),
    "# one /tmp for wod, its hooks and the students' servers, apart from the host's",
    'PrivateTmp=yes',
    "# /dev with the pseudo devices and terminals only: JupyterLab's terminals still get their ptys",
    'PrivateDevices=yes',
    '# nobody in the unit gains privileges through setuid binaries (the spawner drops root, it never gains it),',
    '# and no student can make a setuid or setgid file',
    'NoNewPrivileges=yes',
    'RestrictSUIDSGID=yes',
    `# /proc/sys and /sys read-only${systemUsers ? ' (the cgroups above stay writable)' : ''}, no kernel modules, logs, clock or hostname`,
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictRealtime=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    '# IP for the hub, the mail API and the relay; unix sockets; netlink for the interfaces Python lists',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    "# not MemoryDenyWriteExecute: node's and Python's JIT need memory both writable and executable",
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ];
  return lines.join('\n') + '\n';
}

/** What to run once the unit is in place. */
export function installCommands(file: string): string[] {
  return [
    ...(file === UNIT_FILE ? [] : [`sudo install -m 0644 ${word(file)} ${UNIT_FILE}`]),
    'sudo systemctl daemon-reload',
    `sudo systemctl enable --now ${UNIT_NAME}`,
    `journalctl -u ${UNIT_NAME} -f`,
  ];
}
