/**
 * KubeSpawner without a cluster: a real wod catalog and store (a workshop with `limits:`, one
 * without), the service's real internal routes on a local port, and `wod kubernetes values` for a
 * remote-mode configuration; kubespawner-pod.py then runs the chart's configuration steps and a real
 * KubeSpawner (from .venv) up to the pods it would ask the API server for.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import { Accounts } from '../../hub-service/src/accounts/accounts';
import { Sealer } from '../../hub-service/src/auth/seal';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { PROJECT_ROOT } from '../../hub-service/src/config/load';
import { configSchema } from '../../hub-service/src/config/schema';
import { enqueueJob } from '../../hub-service/src/jobs/store';
import { hubFiles, serviceScopes } from '../../hub-service/src/kubernetes/inputs';
import { helmValues, type HelmValues } from '../../hub-service/src/kubernetes/values';
import { markWarm } from '../../hub-service/src/lifecycle/warm';
import { createLogger } from '../../hub-service/src/log';
import { TrustedProxies } from '../../hub-service/src/network/addresses';
import { syncPool } from '../../hub-service/src/pool/pool';
import { openDatabase } from '../../hub-service/src/store/db';
import { internalRouter } from '../../hub-service/src/web/internal';
import { tempWorkshops, writeWorkshop } from './workshops';

const run = promisify(execFile);
const GiB = 1024 ** 3;

/** The site's limits and a workshop's over them (capped by maxMemory), as the tests expect them back. */
export const SITE = { memory: GiB, cpu: 0.5 };
export const BIG = { memory: 3 * GiB, cpu: 1.5 };
export const STUDENT_IMAGE = 'registry.example.org/wod-student:0.1.0';

/** What kubespawner-pod.py prints: the hub's classes and each seat's pod and claim, as the API would receive them. */
export interface Spawned {
  spawner_class: string;
  authenticator_class: string;
  /** the hub's request log (tornado_settings.log_function), module.name */
  log_function: string | null;
  /** the shim's label selector of the proxy pods (WodAuthenticator.proxy_pods) */
  proxy_pods: string;
  seats: Record<string, { pod: Pod; pvc: { metadata: { name: string }; spec: { resources: { requests: { storage: string } } } } }>;
}
export interface Pod {
  spec: {
    containers: {
      image: string;
      args: string[];
      env: { name: string; value?: string }[];
      resources: { limits?: Record<string, string>; requests?: Record<string, string> };
      volumeMounts: { name: string; mountPath: string }[];
    }[];
    volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[];
    securityContext: { fsGroup?: number };
  };
}

/** A login as the hub would receive it: from `peer` (the proxy pod, or a student's pod calling the hub directly). */
export interface HubLogin {
  peer: string;
  forwardedFor?: string;
  username: string;
  password: string;
}

export interface KubeSpawnerBench {
  values: HelmValues;
  /** the service's internal routes, as the hub reaches them, and the secret they share */
  internalUrl: string;
  secret: string;
  /** each seat started as `name=<user_options as JSON>`; with `secret`, the hub's copy of the shared secret is that one */
  spawn(seats: Record<string, Record<string, unknown>>, opts?: { secret?: string }): Promise<Spawned>;
  /** the hub's authenticator asked each login in turn, the Kubernetes API listing `proxyPods` as the proxy's addresses */
  logins(proxyPods: string[], attempts: HubLogin[]): Promise<('accepted' | 'refused' | 'throttled')[]>;
  close(): Promise<void>;
}

/**
 * student1: a warm seat of WKSHP-Big (limits: 3GiB, 1.5 cpu, 8GiB asked of memory but capped);
 * student11: a CREATE of WKSHP-Plain running (no limits: the site's); student25: no workshop.
 */
export async function kubeSpawnerBench(): Promise<KubeSpawnerBench> {
  const root = tempWorkshops();
  writeWorkshop(root, 'WKSHP-Big', { range: [1, 10], limits: { memory: '8GiB', cpu: BIG.cpu, pids: 128 } });
  writeWorkshop(root, 'WKSHP-Plain', { range: [11, 20] });
  const config = configSchema.parse({ students: { mode: 'remote', limits: { memory: '1GiB', cpu: SITE.cpu, maxMemory: '3GiB' } } });
  const db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 30);
  importWorkshops(db, scanWorkshops({ dir: root }, 30), 'test');
  const workshop = (folder: string) => (db.prepare('SELECT id FROM workshops WHERE folder = ?').get(folder) as { id: number }).id;
  markWarm(db, 1, workshop('WKSHP-Big'));
  const job = enqueueJob(db, { verb: 'CREATE', studentId: 11, registrationId: null, workshopId: workshop('WKSHP-Plain'), source: 'cli', key: 'k8s-test' });
  db.prepare(`UPDATE jobs SET state = 'running' WHERE id = ?`).run(job);

  const secret = 'a'.repeat(64);
  const app = express();
  app.use(express.json());
  app.use(
    '/services/wod/internal',
    internalRouter({
      secret,
      accounts: new Accounts(db),
      db,
      sealer: new Sealer(secret),
      log: createLogger('error'),
      endGraceSeconds: 60,
      proxies: new TrustedProxies([]),
      siteLimits: config.students.limits,
    }),
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;

  const values = helmValues(config, {
    studentImage: STUDENT_IMAGE,
    homeSize: '2Gi',
    serviceScopes: serviceScopes({ projectRoot: PROJECT_ROOT }),
    hubFiles: hubFiles({ projectRoot: PROJECT_ROOT }),
  });
  // the deployment's addresses, here: the service on this port, the secret in a scratch file
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-k8s-'));
  const secretFile = path.join(scratch, 'auth-secret');
  fs.writeFileSync(secretFile, secret, { mode: 0o600 });
  // ... and a variable of the site's own (site.yaml), which wod's environment must not drop
  const local = {
    ...values,
    singleuser: { ...values.singleuser, extraEnv: { SITE_VARIABLE: 'from site.yaml' } },
    custom: { wod: { ...values.custom.wod, serviceUrl: `http://127.0.0.1:${port}/services/wod`, secretFile } },
  };
  fs.writeFileSync(path.join(scratch, 'values.json'), JSON.stringify(local));
  // KubeSpawner loads a kubeconfig when it is built; nothing here calls that API server
  fs.writeFileSync(
    path.join(scratch, 'kubeconfig'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'none', cluster: { server: 'https://127.0.0.1:9' } }],
      users: [{ name: 'none', user: { token: 'none' } }],
      contexts: [{ name: 'none', context: { cluster: 'none', user: 'none', namespace: 'wod' } }],
      'current-context': 'none',
    }),
  );

  const hub = async (valuesFile: string, args: string[]) => {
    const python = path.join(PROJECT_ROOT, '.venv', 'bin', 'python');
    const script = path.join(__dirname, 'kubespawner-pod.py');
    // the chart gives its hub the release's name (helm upgrade --install hub ...)
    const env = { ...process.env, KUBECONFIG: path.join(scratch, 'kubeconfig'), HELM_RELEASE_NAME: 'hub' };
    const { stdout } = await run(python, [script, valuesFile, path.join(scratch, 'root'), ...args], { env, maxBuffer: 16 * 1024 * 1024 });
    return JSON.parse(stdout) as unknown;
  };
  const valuesWith = (hubSecret: string | undefined): string => {
    if (hubSecret === undefined) return path.join(scratch, 'values.json');
    const other = path.join(scratch, 'other-secret');
    fs.writeFileSync(other, hubSecret, { mode: 0o600 });
    const file = path.join(scratch, 'values-other-secret.json');
    fs.writeFileSync(file, JSON.stringify({ ...local, custom: { wod: { ...local.custom.wod, secretFile: other } } }));
    return file;
  };

  return {
    values,
    internalUrl: `http://127.0.0.1:${port}/services/wod/internal`,
    secret,
    async spawn(seats, opts = {}) {
      return (await hub(
        valuesWith(opts.secret),
        Object.entries(seats).map(([n, o]) => `${n}=${JSON.stringify(o)}`),
      )) as Spawned;
    },
    async logins(proxyPods, attempts) {
      return (await hub(valuesWith(undefined), ['--logins', JSON.stringify({ proxyPods, attempts })])) as ('accepted' | 'refused' | 'throttled')[];
    },
    async close() {
      await new Promise((r) => server.close(r));
      db.close();
      fs.rmSync(scratch, { recursive: true, force: true });
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
