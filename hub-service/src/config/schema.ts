import path from 'node:path';
import { z } from 'zod';
import { parseSize } from '../isolation/limit-rules.js';
import { LANGUAGE_CODE } from '../i18n/i18n.js';
import { LEVELS, LOG_FORMATS } from '../log.js';
import { LOOPBACK_REASON } from '../mail-in/access.js';
import { CIDR, isCidr, isInsideAny, parseNetwork, touchesLoopback } from '../network/addresses.js';

/**
 * The one wod configuration. Every key is documented in `wod.example.yaml`; every key can be
 * overridden from the environment as WOD_ + its path in upper snake case (`hub.apiPort` →
 * `WOD_HUB_API_PORT`), lists as comma-separated values.
 */
const port = z.coerce.number().int().min(1).max(65535);
/** How the service reaches the students: lifecycle/host.ts */
export const STUDENT_MODES = ['local', 'system-users', 'remote'] as const;
export type StudentMode = (typeof STUDENT_MODES)[number];

/** Hub user names wod creates or accepts for accounts. */
export const USER_NAME = /^[a-z][a-z0-9._-]{0,63}$/;
/** A size in bytes, written as a number or with a unit (512MiB, 2GiB, 500MB). */
const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseSize(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
const names = z.array(z.string().regex(USER_NAME, 'a user name: lower-case letters, digits, . _ -')).default([]);

/** A location's name (the original's backend FQDN, or a short name): what workshops' location and alternateLocation say. */
export const LOCATION_NAME = /^[a-z0-9](?:[a-z0-9.-]{0,62}[a-z0-9])?$/;
const locationName = z.string().regex(LOCATION_NAME, 'a location name: lower-case letters, digits, . and -, like lyon or wod2.example.org');
/** Another wod: its name and its public URL (the hub's root, where /services/wod/ is served). */
const locationPeer = z
  .object({
    name: locationName,
    url: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
  })
  .strict();
export type LocationPeer = z.output<typeof locationPeer>;

export const configSchema = z
  .object({
    port: port.default(8000),
    bindIp: z.string().min(1).default('127.0.0.1'),
    /**
     * the hub's public side listens on this Unix socket instead of bindIp:port, for a reverse proxy
     * on this host: only members of bindSocketGroup can connect, so no local account can claim an address
     */
    bindSocket: z
      .string()
      .refine((p) => path.isAbsolute(p), 'an absolute path, like /run/wod/public.sock')
      .optional(),
    /** the only group (the reverse proxy's) that may connect to bindSocket */
    bindSocketGroup: z
      .string()
      .regex(/^[a-z_][a-z0-9._-]*\$?$/i, 'a group name')
      .default('www-data'),
    dataDir: z.string().min(1).default('./var'),
    publicUrl: z.url().optional(),
    /**
     * reverse proxies in front of the hub's proxy (CIDRs or addresses) whose X-Forwarded-For is
     * believed: logins are throttled, and registrations limited, by the client address they report
     */
    trustedProxies: z.array(z.string().refine(isCidr, 'a network like 10.0.0.0/8 or one address like 127.0.0.1')).default([]),
    /**
     * the service's direct peer is always the hub's proxy (or the hub), whatever its address: on
     * Kubernetes, where wod-service.yaml's network policy admits no one else; what it appended to
     * X-Forwarded-For is the client (deploy/kubernetes/GUIDE.md)
     */
    peerIsProxy: z.boolean().default(false),
    hub: z
      .object({
        apiPort: port.default(8081),
        proxyApiPort: port.default(8001),
      })
      .strict()
      .prefault({}),
    service: z
      .object({
        port: port.default(10101),
        /**
         * a command the hub starts the service through, its own command appended (e.g. a mount
         * namespace that hides the homes in remote mode: the test of "no file access")
         */
        wrapper: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .prefault({}),
    students: z
      .object({
        /**
         * local: one account, homes on this disk; system-users: an account each; remote: wherever the
         * hub's spawner runs them, reached only through the hub and their servers' REST APIs
         */
        mode: z.enum(STUDENT_MODES).default('local'),
        /** where the homes are; in remote mode only the spawner's (jupyterhub_config.py), never opened by the service */
        homeRoot: z.string().min(1).optional(),
        /** remote mode: where the service reaches the students' servers (/user/<name>/api/…), the hub's proxy; default its local address */
        serversUrl: z.string().url().optional(),
        /** the pool: student1 … studentN */
        count: z.coerce.number().int().min(1).max(100_000).default(100),
        /** system-users mode: studentN gets uid and gid uidBase + N */
        uidBase: z.coerce.number().int().min(1000).default(2000),
        /**
         * local mode started as root: the unprivileged account (made by wod, no login shell) every
         * student's server runs as, since no participant process may run as root
         */
        localAccount: z.string().regex(USER_NAME, 'a user name: lower-case letters, digits, . _ -').default('wod-student'),
        /**
         * system-users mode: what one student's processes (server, kernels, terminals) may take
         * together, through cgroups (v1 or v2); a workshop's `limits:` in wod.yml overrides these
         * key by key, never above the max* keys. 0: no limit (no maximum)
         */
        limits: z
          .object({
            /** memory (RAM), e.g. 2GiB or 512MiB: past it the kernel kills the student's largest process */
            memory: size.prefault('2GiB'),
            /** swap on top of memory (where the kernel accounts swap): 0, none */
            swap: size.prefault(0),
            /** cores' time: 1 is one core, 0.5 half of one */
            cpu: z.coerce.number().min(0).max(1024).default(1),
            /** processes and threads at once: a fork bomb stops there */
            pids: z.coerce.number().int().min(0).max(4_194_304).default(512),
            /** the most a workshop's `limits:` may ask for */
            maxMemory: size.prefault(0),
            maxCpu: z.coerce.number().min(0).max(1024).default(0),
            maxPids: z.coerce.number().int().min(0).max(4_194_304).default(0),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    accounts: z
      .object({
        admins: names.default(['admin']),
        wodAdmins: names,
      })
      .strict()
      .prefault({}),
    workshops: z
      .object({
        /** public workshops, one WKSHP-<Name>/ folder each */
        dir: z.string().min(1).default('./workshops'),
        /**
         * private overlay, by the original's rule: a workshop folder here is used where no public one
         * exists; its wod.yml and vars.yml override the public ones field by field
         */
        overlayDir: z.string().min(1).optional(),
        /** the original's hook scripts (create-WKSHP-X.sh, cleanup-…, reset-…, post-copy-…, setup-…) */
        overlayScriptsDir: z.string().min(1).optional(),
        /**
         * site images (a copy of the original frontend's static/img: badges/, wod/SpeakerImages/…):
         * a wod.yml badgeImg, avatar or workshopImg that names no file of its workshop is looked up here
         */
        assetsDir: z.string().min(1).optional(),
        /**
         * the site's template variables in the original's private ansible layout: wod.yml (its
         * /etc/wod.yml), group_vars/all.yml, group_vars/<group>, <group>/variables_<WORKSHOP>.yml
         */
        variablesDir: z.string().min(1).optional(),
        /** the password of the site's Ansible Vault values (the original's vault_secret; default <variablesDir>/vault_secret), 0600 */
        vaultPasswordFile: z.string().min(1).optional(),
        /** the original's WODGROUP: which group_vars file and variables folder are this site's */
        group: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a group name (letters, digits, . _ -)')
          .default('production'),
        /** appliance address per workshop (IP-WKSHP-X in the original), given to hooks as WODRTARGET */
        appliances: z.record(z.string(), z.string()).default({}),
        /** seconds a hook may run */
        hookTimeout: z.coerce.number().int().min(1).default(600),
        /** the survey link offered in conclusion notebooks (SURVEYURL) */
        surveyUrl: z.string().default(''),
      })
      .strict()
      .prefault({}),
    timers: z
      .object({
        /** the reminder goes this long before the deadline */
        reminderMinutes: z.coerce.number().int().min(1).default(60),
        /**
         * the server is stopped and cleaned this long after the deadline: time for the student, told
         * by JupyterLab that time is up, to download their work (logins are refused from the deadline)
         */
        endGraceSeconds: z.coerce.number().int().min(0).max(3600).default(60),
        /** a registration not ready after this long is purged, with an apology */
        watchdogMinutes: z.coerce.number().int().min(1).default(10),
        /**
         * how often running registrations' servers are compared with the hub's (and once at start):
         * a server that died is started again, with the participant's files
         */
        reconcileSeconds: z.coerce.number().int().min(1).max(3600).default(30),
        /** restarts of a dead server tried, with a growing wait between them, before it is shown as a problem */
        serverRestartAttempts: z.coerce.number().int().min(1).max(20).default(3),
      })
      .strict()
      .prefault({}),
    lifecycle: z
      .object({
        /** maintenance: jobs are queued but not run until this is false again */
        paused: z.union([z.boolean(), z.stringbool()]).default(false),
        /** jobs (CREATE, CLEANUP, RESET, PURGE) run at once */
        concurrency: z.coerce.number().int().min(1).max(64).default(4),
        /** warm seats (all workshops' `warm` targets together) this host keeps at most */
        warmSeatsMax: z.coerce.number().int().min(0).max(10_000).default(20),
        /** attempts of a job failing for a passing reason (hub busy, timeouts) */
        maxAttempts: z.coerce.number().int().min(1).default(10),
        /** seconds to wait for a student's server to be ready */
        serverTimeout: z.coerce.number().int().min(5).default(120),
      })
      .strict()
      .prefault({}),
    watchdog: z
      .object({
        /** stop students' processes that mine, burn a CPU core for too long, or outlive their workshop (watchdog/rules.ts) */
        enabled: z.union([z.boolean(), z.stringbool()]).default(true),
        /** seconds between two scans of the students' processes */
        intervalSeconds: z.coerce.number().int().min(1).max(3600).default(30),
        /** a process using at least this share of one core (%) ... */
        cpuPercent: z.coerce.number().min(1).max(10_000).default(98),
        /** ... scan after scan for this long (minutes, fractions allowed) is stopped, unless allowed */
        cpuMinutes: z.coerce.number().positive().max(10_080).default(5),
        /** seconds between SIGTERM and SIGKILL */
        graceSeconds: z.coerce.number().int().min(0).max(300).default(5),
        /** process names stopped on sight (a name, or a name followed by - _ . or a digit) */
        miners: z
          .array(z.string().min(2))
          .default([
            'xmrig',
            'ethminer',
            'packetcrypt',
            'minerd',
            'cpuminer',
            't-rex',
            'nbminer',
            'lolminer',
            'phoenixminer',
            'nanominer',
            'teamredminer',
            'gminer',
            'ccminer',
            'bfgminer',
            'cgminer',
            'srbminer',
            'xmr-stak',
          ]),
        /** process names never stopped for their CPU use (the student's own server; kernels are not here: see the README) */
        allowed: z.array(z.string().min(1)).default(['jupyterhub-singleuser', 'jupyter-labhub', 'jupyter-lab', 'jupyter-server']),
      })
      .strict()
      .prefault({}),
    mailApi: z
      .object({
        /** accept the original's mail orders (CREATE/CLEANUP/RESET/PURGE) over SMTP, and relay the api-db's participant mails (any other subject) through `mail` */
        enabled: z.union([z.boolean(), z.stringbool()]).default(true),
        /** the address it listens on: 127.0.0.1 for this host only; 0.0.0.0 (or this host's address) for an api-db elsewhere */
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(10025),
        /** every order or mail to relay needs SMTP AUTH as this user (trustedNetworks aside); the password is <dataDir>/secrets/mail-api-password, or WOD_MAIL_API_PASSWORD */
        authUser: z
          .string()
          .regex(/^[\x21-\x7e]{1,64}$/, 'a user name of printable characters, no spaces')
          .default('wod'),
        /** client networks allowed to connect at all, as CIDR */
        networks: z.array(z.string().refine((s) => parseNetwork(s) !== null, CIDR)).default(['127.0.0.0/8', '::1/128']),
        /**
         * networks whose clients may order and have mails relayed WITHOUT AUTH, in the original
         * api-db's lenient SMTP dialect (an original api-db on another host, which cannot
         * authenticate); each inside `networks`, none holding a loopback address, and this host's
         * own addresses never count
         */
        trustedNetworks: z
          .array(
            z.string().superRefine((s, ctx) => {
              const n = parseNetwork(s);
              if (!n) ctx.addIssue({ code: 'custom', message: CIDR });
              else if (touchesLoopback(n)) ctx.addIssue({ code: 'custom', message: `${s} ${LOOPBACK_REASON}` });
            }),
          )
          .default([]),
        /** when not empty, only these envelope senders (MAIL FROM) may order or relay; a filter on top of AUTH or trust, never a credential */
        senders: z.array(z.string().min(3)).default([]),
      })
      .strict()
      .superRefine((c, ctx) => {
        const outer = c.networks.map(parseNetwork).filter((n) => n !== null);
        c.trustedNetworks.forEach((text, i) => {
          const n = parseNetwork(text);
          if (n && !touchesLoopback(n) && !isInsideAny(n, outer)) {
            ctx.addIssue({
              code: 'custom',
              path: ['trustedNetworks', i],
              message: `${text} is not inside mailApi.networks (${c.networks.join(', ')}): add it there too, or its clients cannot connect`,
            });
          }
        });
      })
      .prefault({}),
    apiDb: z
      .object({
        /** an external WoD api-db (e.g. https://api.example.org/api): report each verb back to it, as the original backend does */
        url: z.url().optional(),
        /** its user (the original's WODAPIDBUSER); the password comes from WOD_API_DB_PASSWORD */
        username: z.string().min(1).default('moderator'),
        /** this hub's offset in the api-db's student ids (the original's basestdid) */
        baseStdid: z.coerce.number().int().min(0).default(0),
      })
      .strict()
      .prefault({}),
    locations: z
      .object({
        /**
         * this wod's name as a location: a workshop whose `location` is this name (or unset, or a
         * name nobody here knows) runs here; the name a portal knows this wod by
         */
        name: locationName.optional(),
        /** portal side: the backend wods this one routes registrations to, by the workshops' location and alternateLocation */
        backends: z.array(locationPeer).default([]),
        /** backend side: the portals that may route registrations here (and are told how they go) */
        portals: z.array(locationPeer).default([]),
        /** a backend silent this long: a registration waiting for it moves to an alternate location */
        failoverSeconds: z.coerce.number().int().min(1).max(3600).default(30),
        /** how often a portal asks each backend for its seats and health */
        pollSeconds: z.coerce.number().int().min(1).max(600).default(5),
      })
      .strict()
      .superRefine((c, ctx) => {
        const seen = new Set<string>(c.name ? [c.name] : []);
        for (const [list, peers] of [
          ['backends', c.backends],
          ['portals', c.portals],
        ] as const)
          peers.forEach((p, i) => {
            if (seen.has(p.name) && p.name !== c.name) ctx.addIssue({ code: 'custom', path: [list, i, 'name'], message: `${p.name} is named twice` });
            if (p.name === c.name) ctx.addIssue({ code: 'custom', path: [list, i, 'name'], message: `${p.name} is this wod's own name (locations.name)` });
            seen.add(p.name);
          });
      })
      .prefault({}),
    ldap: z
      .object({
        /**
         * the site's directory, for workshops with `ldap: true` (the original's WODLDAPSRVNAME and
         * WODLDAPPORT): ldaps://host:636, or ldap://host:389 with startTls; unset, such a workshop cannot be created
         */
        url: z
          .string()
          .regex(/^ldaps?:\/\/[^/\s]+\/?$/, 'a directory URL like ldaps://ldap.example.org:636')
          .optional(),
        /** who wod binds as; the password is <dataDir>/secrets/ldap-bind-password (0600), or WOD_LDAP_BIND_PASSWORD */
        bindDn: z.string().min(1).default('cn=Directory Manager'),
        /** the original's WODLDAPDMN: studentN's entry is uid=<userPrefix>N,ou=People,<baseDn> */
        baseDn: z.string().min(1).optional(),
        /** the original's WODLDAPSETUPUSER */
        userPrefix: z
          .string()
          .regex(/^[A-Za-z][A-Za-z0-9._-]{0,63}$/, 'letters, digits, . _ -')
          .default('student'),
        /** upgrade an ldap:// connection with StartTLS before binding (ldaps:// is TLS already) */
        startTls: z.union([z.boolean(), z.stringbool()]).default(false),
        /** a PEM file of the CA that signed the directory's certificate (else the system's CAs) */
        caFile: z.string().min(1).optional(),
        /** clear: the directory hashes the password it is given (389 DS does); ssha: wod sends it hashed as {SSHA} */
        passwordScheme: z.enum(['clear', 'ssha']).default('clear'),
        /** seconds to connect, and for each operation */
        timeoutSeconds: z.coerce.number().int().min(1).max(300).default(10),
      })
      .strict()
      .superRefine((c, ctx) => {
        if (c.url && !c.baseDn) ctx.addIssue({ code: 'custom', path: ['baseDn'], message: 'ldap.url is set: give the directory base too (e.g. dc=example,dc=org)' });
      })
      .prefault({}),
    mail: z
      .object({
        /** the From of participant mails */
        from: z.string().min(3).default('Workshops-on-Demand <wod@localhost>'),
        /** gets the credentials of students created without a participant (orders from the CLI) */
        operatorAddress: z.string().min(3).default('wod-operator@localhost'),
        /** outbox: every mail kept as an .eml file in <dataDir>/outbox; smtp: sent through a relay */
        transport: z.enum(['outbox', 'smtp']).default('outbox'),
        smtpHost: z.string().min(1).default('127.0.0.1'),
        smtpPort: port.default(587),
        /** TLS from the first byte (port 465); otherwise STARTTLS when the relay offers it */
        smtpSecure: z.union([z.boolean(), z.stringbool()]).default(false),
        /** relay login; the password comes from WOD_MAIL_SMTP_PASSWORD */
        smtpUser: z.string().min(1).optional(),
        /** a copy of every credentials mail goes here (an operator's mailbox) */
        bccCredentials: z.string().min(3).optional(),
      })
      .strict()
      .prefault({}),
    registration: z
      .object({
        /** refused addresses: `@domain` (and its subdomains) or a whole address */
        denyList: z.array(z.string().min(2)).default([]),
        /** also refuse the disposable-mail domains known to the mailchecker package */
        refuseDisposable: z.union([z.boolean(), z.stringbool()]).default(true),
        perIpPerMinute: z.coerce.number().int().min(1).default(30),
        perEmailPerHour: z.coerce.number().int().min(1).default(5),
      })
      .strict()
      .prefault({}),
    participants: z
      .object({
        /**
         * days after a participant's last activity (registered, or a workshop ended) when their
         * personal data is erased, anonymous statistics kept (participants/retention.ts); 0 keeps it
         */
        retentionDays: z.coerce.number().int().min(0).max(36_500).default(365),
        /**
         * days the archive of a participant's notebooks and files, made at CLEANUP, can be downloaded
         * from the thanks mail before it is deleted (work/archive.ts); 0 makes none. Fractions allowed.
         */
        workDays: z.coerce.number().min(0).max(365).default(7),
        /** the most bytes of files an archive takes from a home; what would pass it is left out, with a note */
        workMaxBytes: z.coerce.number().int().min(0).default(52_428_800),
      })
      .strict()
      .prefault({}),
    /**
     * the language (a folder of hub-service/locales) of visitors whose browser asks for none wod has,
     * and of registrations made by mail orders
     */
    defaultLanguage: z.string().regex(LANGUAGE_CODE, 'a language code like en or fr').default('en'),
    branding: z
      .object({
        name: z.string().min(1).default('Workshops-on-Demand'),
        tagline: z.string().default('Free, hands-on Jupyter notebook workshops, whenever you are ready.'),
        logoUrl: z.string().optional(),
        primaryColor: z
          .string()
          .regex(/^#[0-9a-fA-F]{6}$/, 'a colour like #01a982')
          .default('#01a982'),
        accentColor: z
          .string()
          .regex(/^#[0-9a-fA-F]{6}$/, 'a colour like #7630ea')
          .default('#7630ea'),
        /** links in the page footer */
        links: z.array(z.object({ text: z.string().min(1), href: z.string().min(1) }).strict()).default([]),
        /** your own terms and privacy pages, if you have them; else wod's /terms page */
        termsUrl: z.string().optional(),
        privacyUrl: z.string().optional(),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(LEVELS).default('info'),
        /** the service's log lines: `text` to read, `json` (one JSON object a line, pino's field names) for a log shipper */
        format: z.enum(LOG_FORMATS).default('text'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    // Behind a socket the hub has no address of its own to put in mails and links.
    if (c.bindSocket && !c.publicUrl)
      ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: 'required with bindSocket: the address the reverse proxy serves, like https://wod.example.org' });
    // The service reaches the students' servers over HTTP: the proxy's socket is not an address fetch can use.
    if (c.students.mode === 'remote' && c.bindSocket && !c.students.serversUrl)
      ctx.addIssue({
        code: 'custom',
        path: ['students', 'serversUrl'],
        message: "required in remote mode with bindSocket: where the service reaches the students' servers, like http://127.0.0.1:8000",
      });
  });

export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;

/** The resolved configuration: every path absolute, every default filled in. */
export interface WodConfig extends Parsed {
  /** The checkout wod runs from (holds `.venv`, `node_modules`, `workshops/`). */
  projectRoot: string;
  /** The YAML file read, if any. */
  configFile: string | null;
  publicUrl: string;
  students: Parsed['students'] & { homeRoot: string };
}
