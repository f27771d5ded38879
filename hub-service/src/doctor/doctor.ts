/**
 * `wod doctor`: every check of a running wod, read from the one configuration, each probe with its
 * timeout and all of them at once, so the whole run takes a few seconds even with everything down.
 */
import fs from 'node:fs';
import { mailApiClientHost } from '../cli/action.js';
import { dataPaths } from '../config/paths.js';
import type { WodConfig } from '../config/schema.js';
import { hubApiUrl, localProxyUrl, portalUrl, SERVICE_PREFIX } from '../config/urls.js';
import { dataFolderFindings, dataFolderRules } from '../isolation/data-folder.js';
import { migrations } from '../store/migrations.js';
import { evaluateGreeting, evaluateHub, evaluateOutbox, evaluateProxy, evaluateService } from './answers.js';
import { type Check, fail, MADE_AT_START, ok, warn } from './check.js';
import { inspectHubDatabase, inspectWodDatabase } from './databases.js';
import { evaluateClock, evaluateDatabase, evaluateDisk, evaluateJobs, evaluateModes, evaluateServers, stuckAfterMs } from './figures.js';
import { locationChecks } from './locations.js';
import { diskFigures, httpGet, smtpGreeting, tryWrite } from './probes.js';

/** The newest schema this build migrates to. */
const KNOWN_SCHEMA = Math.max(...migrations.map((m) => m.version));

export async function runDoctor(config: WodConfig, opts: { timeoutMs: number }): Promise<Check[]> {
  const t = opts.timeoutMs;
  const paths = dataPaths(config);
  // The databases first: better-sqlite3 blocks, and no probe's timer may run out meanwhile.
  const wod = inspectWodDatabase(paths.database, Date.now(), t);
  const hubDb = inspectHubDatabase(paths.hubDatabase, t);
  const apiUrl = hubApiUrl(config);
  const publicUrl = localProxyUrl(config);
  const healthUrl = `${publicUrl}${SERVICE_PREFIX}health`;
  const [hub, proxy, service, transport, mailApi, locations] = await Promise.all([
    httpGet(`${apiUrl}/`, t),
    httpGet(`${publicUrl}/hub/health`, t),
    httpGet(healthUrl, t),
    mailTransport(config, t),
    mailApiCheck(config, t),
    locationChecks(config, t),
  ]);
  const nowMs = Date.now();
  const admin = `${portalUrl(config)}admin`;
  const unread = (name: string, what: string) => warn(name, `not checked: ${what} cannot be read`, 'see its line above');
  const disk = (name: string, what: string, dir: string, fix: string) => {
    const d = diskFigures(dir);
    return 'error' in d ? fail(name, `${what}: cannot measure (${d.error})`, fix) : evaluateDisk(name, what, d, fix);
  };
  return [
    evaluateHub(apiUrl, hub, t),
    evaluateProxy(publicUrl, proxy, t),
    evaluateService(healthUrl, service, t),
    evaluateDatabase('wod-db', paths.database, wod.db, wod.facts ? { version: wod.facts.schemaVersion, known: KNOWN_SCHEMA } : undefined),
    evaluateDatabase('hub-db', paths.hubDatabase, hubDb.db),
    disk('disk-data', 'data folder', config.dataDir, 'free space on that filesystem, or move dataDir to a larger one'),
    config.students.mode === 'remote'
      ? ok(
          'remote-mode',
          "students reached through the hub and their servers only: per-student limits and the process watchdog are the spawner's, compile: true workshops are refused, hooks get no STUDENT_HOME; with this host's spawner (jupyterhub_config.py) every student runs as one account, not isolated from the others (as in local mode): for testing, or with a spawner elsewhere",
        )
      : disk('disk-homes', 'homes', config.students.homeRoot, 'free space on that filesystem, or move students.homeRoot to a larger one'),
    transport,
    mailApi,
    wod.facts
      ? evaluateJobs({ nowMs, stuckAfterMs: stuckAfterMs(config), running: wod.facts.running, failed: wod.facts.failed, jobsUrl: `${admin}/jobs` })
      : unread('jobs', 'wod.sqlite'),
    wod.facts && hubDb.facts
      ? evaluateServers({ seated: wod.facts.seated, running: hubDb.facts, reconcileSeconds: config.timers.reconcileSeconds, registrationsUrl: `${admin}/registrations` })
      : unread('servers', wod.facts ? 'jupyterhub.sqlite' : 'wod.sqlite'),
    evaluateClock({ nowMs, newestWriteMs: wod.facts?.newestWriteMs ?? null, hubDateMs: 'dateMs' in hub ? hub.dateMs : null }),
    modes(config),
    ...locations,
  ];
}

async function mailTransport(config: WodConfig, timeoutMs: number): Promise<Check> {
  const m = config.mail;
  if (m.transport === 'outbox') return evaluateOutbox(dataPaths(config).outbox, tryWrite(dataPaths(config).outbox));
  const reply = await smtpGreeting(m.smtpHost, m.smtpPort, { secure: m.smtpSecure, timeoutMs });
  return evaluateGreeting(
    'relay',
    `${m.smtpHost}:${m.smtpPort}`,
    reply,
    timeoutMs,
    'start the relay, or set mail.smtpHost and mail.smtpPort (WOD_MAIL_SMTP_HOST, WOD_MAIL_SMTP_PORT)',
  );
}

async function mailApiCheck(config: WodConfig, timeoutMs: number): Promise<Check> {
  const c = config.mailApi;
  if (!c.enabled) return ok('mail-api', 'off (mailApi.enabled is false)');
  const host = mailApiClientHost(c.host);
  const reply = await smtpGreeting(host, c.port, { secure: false, timeoutMs });
  return evaluateGreeting('mail-api', `${host}:${c.port}`, reply, timeoutMs, 'the service serves it: restart wod and read its log (another program on mailApi.port?)');
}

/** The rules of isolation/data-folder.ts, and in system-users mode who owns the databases and secrets. */
function modes(config: WodConfig): Check {
  const paths = dataPaths(config);
  if (!fs.existsSync(config.dataDir)) return fail('modes', `${config.dataDir} does not exist`, MADE_AT_START);
  try {
    const findings = dataFolderFindings(config.dataDir, dataFolderRules(config));
    const owner = fs.statSync(config.dataDir).uid;
    const owners =
      config.students.mode === 'system-users'
        ? [paths.database, paths.hubDatabase, paths.secrets]
            .filter((f) => fs.existsSync(f) && fs.statSync(f).uid !== owner)
            .map((f) => `${f} is owned by uid ${fs.statSync(f).uid}, not by uid ${owner} (who owns the data folder and runs wod)`)
        : [];
    return evaluateModes(config.dataDir, findings, owners);
  } catch (e) {
    return fail('modes', `cannot read the data folder's modes (${(e as Error).message})`, "run wod doctor as wod's user (or root)");
  }
}
