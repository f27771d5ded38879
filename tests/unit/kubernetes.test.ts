/**
 * wod on Zero to JupyterHub, what needs no Python: `wod kubernetes values` run as a person would (the
 * compiled CLI), its YAML checked against the chart's keys; which limits a seat's pod gets, from a real
 * store; the hub's start-server body read the same by JupyterHub 5 and 6; and the image recipes'
 * COPY sources present in the repository. The pods themselves: tests/integration/kubespawner.test.ts.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { configSchema } from '../../hub-service/src/config/schema';
import { HubClient } from '../../hub-service/src/hub/client';
import { readHubEnv } from '../../hub-service/src/hub/env';
import { enqueueJob } from '../../hub-service/src/jobs/store';
import { seatLimits } from '../../hub-service/src/kubernetes/seat-limits';
import { AUTH_SECRET, HUB_FILES, SERVICE_HOST, splitImage } from '../../hub-service/src/kubernetes/values';
import { SERVICE_NAME, SERVICE_PREFIX } from '../../hub-service/src/config/urls';
import { markWarm } from '../../hub-service/src/lifecycle/warm';
import { MAINTENANCE } from '../../hub-service/src/lifecycle/remote-home';
import { TrustedProxies } from '../../hub-service/src/network/addresses';
import { clientAddress, trustFunction } from '../../hub-service/src/web/client-address';
import { syncPool } from '../../hub-service/src/pool/pool';
import { openDatabase } from '../../hub-service/src/store/db';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'hub-service', 'dist', 'cli', 'main.js');
const GiB = 1024 ** 3;
const root = tempWorkshops();
writeWorkshop(root, 'WKSHP-Big', { range: [1, 10], limits: { memory: '3GiB', cpu: 1.5, pids: 128 } });
writeWorkshop(root, 'WKSHP-Plain', { range: [11, 20] });
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const wod = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, WOD_CONFIG: '', WOD_WORKSHOPS_DIR: root, WOD_DATA_DIR: path.join(root, 'var'), WOD_STUDENTS_MODE: 'remote', ...env },
    encoding: 'utf8',
  });

/**
 * The chart's keys these values use, as Zero to JupyterHub 4.x's jupyterhub/values.schema.yaml
 * defines them (read in the chart's source: helm cannot run here). Where the schema leaves an object
 * open (its keys are names: services, roles, traitlets classes, files, config snippets, `custom`),
 * the path ends there with `*`. hub.services.<name> and hub.loadRoles.<name> are JupyterHub's own
 * service and role fields, which the hub checks at start.
 */
const Z2JH_KEYS = [
  'hub.services.*',
  'hub.loadRoles.*',
  'hub.config.*',
  'hub.extraFiles.*',
  'hub.extraVolumes',
  'hub.extraVolumeMounts',
  'hub.extraConfig.*',
  'custom.*',
  'singleuser.image.name',
  'singleuser.image.tag',
  'singleuser.storage.type',
  'prePuller.hook.enabled',
  'prePuller.continuous.enabled',
  'cull.enabled',
  'scheduling.userPlaceholder.enabled',
];
/** Every key path of `value` down to its scalars and lists, stopping where `open` says a path is open. */
function keyPaths(value: unknown, open: (p: string) => boolean, at = ''): string[] {
  if (at && open(at)) return [`${at}.*`];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [at];
  return Object.entries(value).flatMap(([k, v]) => keyPaths(v, open, at ? `${at}.${k}` : k));
}

describe('wod kubernetes values', () => {
  const out = wod(
    { WOD_STUDENTS_LIMITS_MEMORY: '1GiB', WOD_STUDENTS_LIMITS_CPU: '0.5' },
    'kubernetes',
    'values',
    '--image',
    'registry.example.org:5000/wod/student:1.2',
    '--home-size',
    '5Gi',
  );
  const values = YAML.parse(out.stdout);

  test('parses as YAML, every key one of the chart’s, and says which limits each workshop’s pods get', () => {
    expect(out.status).toBe(0);
    const openKeys = Z2JH_KEYS.filter((k) => k.endsWith('.*')).map((k) => k.slice(0, -2));
    expect(keyPaths(values, (p) => openKeys.includes(p)).filter((p) => !Z2JH_KEYS.includes(p))).toEqual([]);
    expect(out.stdout).toMatch(/^# {3}WKSHP-Big: memory 3 GiB, cpu 1\.5 \(not its 128 processes: .*podPidsLimit\)$/m);
    expect(out.stdout).toMatch(/^# {3}WKSHP-Plain: memory 1 GiB, cpu 0\.5 \(not its 512 processes/m);
  });

  test('wod as an external service: its URL, no command, its token the chart’s, OAuth and roles as on one host', () => {
    const service = values.hub.services.wod;
    expect(service).toMatchObject({ url: 'http://wod:10101', oauth_no_confirm: true, oauth_client_allowed_scopes: ['custom:wod:admin'] });
    expect(service.command).toBeUndefined();
    expect(service.apiToken).toBeUndefined(); // generated into the Secret hub, key hub.services.wod.apiToken
    const scopes = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, 'spawner-config', 'wod_service_scopes.json'), 'utf8')).scopes);
    expect(values.hub.loadRoles['wod-service']).toMatchObject({ scopes, services: ['wod'] });
    expect(values.hub.loadRoles['wod-admin']).toMatchObject({ users: ['admin'], groups: ['wod-admins'] });
    expect(values.hub.config.JupyterHub.authenticator_class).toBe('wod_authenticator.WodAuthenticator');
  });

  test("the hub gets wod's Python files as they are in spawner-config/, the shim's secret, and an extraConfig that calls wod_kubernetes", () => {
    for (const file of HUB_FILES) {
      const entry = Object.values(values.hub.extraFiles as Record<string, { mountPath: string; stringData: string }>).find((e) => e.mountPath.endsWith(`/${file}`));
      expect([file, entry?.stringData]).toEqual([file, fs.readFileSync(path.join(ROOT, 'spawner-config', file), 'utf8')]);
    }
    expect(values.hub.extraVolumes).toEqual([{ name: 'wod-auth', secret: { secretName: 'wod-auth', defaultMode: 0o440 } }]);
    expect(values.custom.wod.secretFile.startsWith(`${values.hub.extraVolumeMounts[0].mountPath}/`)).toBe(true);
    expect(values.hub.extraConfig.wod).toContain('wod_kubernetes.configure(c, get_config("custom.wod"))');
    expect(values.custom.wod.serviceUrl).toBe('http://wod:10101/services/wod');
  });

  test('students: the image (registry port kept), the homes on claims of --home-size, the site’s limits as defaults; no culler, no placeholders', () => {
    expect(values.singleuser.image).toEqual({ name: 'registry.example.org:5000/wod/student', tag: '1.2' });
    expect(values.custom.wod.kubespawner).toMatchObject({ image: 'registry.example.org:5000/wod/student:1.2', storage_capacity: '5Gi', mem_limit: GiB, cpu_limit: 0.5 });
    expect(values.singleuser.storage).toEqual({ type: 'none' });
    expect(values.prePuller).toEqual({ hook: { enabled: true }, continuous: { enabled: true } });
    expect(values.cull).toEqual({ enabled: false });
    expect(values.scheduling.userPlaceholder).toEqual({ enabled: false });
  });

  test('refuses a configuration whose students are not remote, with the fix', () => {
    const local = wod({ WOD_STUDENTS_MODE: 'local' }, 'kubernetes', 'values');
    expect(local.status).toBe(2);
    expect(local.stderr).toMatch(/students\.mode is local: .*set students\.mode: remote/);
    expect(wod({}, 'kubernetes', 'values', '--help').stdout).toMatch(/--image <name:tag>.*\n.*\n.*--home-size/s);
  });
});

test('an image name splits at its tag, not at a registry port', () => {
  expect(splitImage('wod-student:0.1.0')).toEqual({ name: 'wod-student', tag: '0.1.0' });
  expect(splitImage('localhost:5000/wod-student')).toEqual({ name: 'localhost:5000/wod-student', tag: 'latest' });
});

test("a seat's limits: its registration's workshop, else the workshop a running CREATE or its warm mark is for, else the site's; capped by the maximum", () => {
  const db = openDatabase(path.join(root, 'seats.sqlite'));
  syncPool(db, 30);
  importWorkshops(db, scanWorkshops({ dir: root }, 30), 'test');
  const site = configSchema.parse({ students: { limits: { memory: '1GiB', cpu: 0.5, maxCpu: 1 } } }).students.limits;
  const big = { workshop: 'WKSHP-Big', limits: { memoryBytes: 3 * GiB, cpu: 1 } };
  const none = { workshop: null, limits: { memoryBytes: GiB, cpu: 0.5 } };
  expect(seatLimits(db, site, 'student1')).toEqual(none);
  const id = (folder: string) => (db.prepare('SELECT id FROM workshops WHERE folder = ?').get(folder) as { id: number }).id;
  // a participant's seat, as an allocation leaves it (registrations/registrations.ts)
  const participant = db.prepare(`INSERT INTO participants (email, name, company) VALUES ('a@example.com', 'A', 'C') RETURNING id`).get() as { id: number };
  const registration = db
    .prepare(`INSERT INTO registrations (participant_id, workshop_id, student_id, state) VALUES (?, ?, 4, 'ready') RETURNING id`)
    .get(participant.id, id('WKSHP-Big')) as { id: number };
  db.prepare(`UPDATE students SET state = 'allocated', registration_id = ? WHERE id = 4`).run(registration.id);
  expect(seatLimits(db, site, 'student4')).toEqual(big);
  markWarm(db, 2, id('WKSHP-Big'));
  expect(seatLimits(db, site, 'student2')).toEqual(big);
  const job = enqueueJob(db, { verb: 'CREATE', studentId: 3, registrationId: null, workshopId: id('WKSHP-Plain'), source: 'cli', key: 'order' });
  db.prepare(`UPDATE jobs SET state = 'running' WHERE id = ?`).run(job);
  expect(seatLimits(db, site, 'student3')).toEqual({ workshop: 'WKSHP-Plain', limits: none.limits });
  expect(seatLimits(db, site, 'admin')).toEqual(none);
  db.close();
});

test("the hub's start-server body: JupyterHub 6 reads user_options, JupyterHub 5 the whole body, and both find wod_maintenance", async () => {
  let body = '';
  const hub = http.createServer((req, res) => {
    req.on('data', (d) => (body += d));
    req.on('end', () => res.writeHead(202).end());
  });
  await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
  try {
    const client = new HubClient({ apiUrl: `http://127.0.0.1:${(hub.address() as AddressInfo).port}/hub/api`, token: 't', retries: 0 });
    expect(await client.startServer('student1', MAINTENANCE)).toBe('pending');
    const sent = JSON.parse(body);
    expect(sent.user_options.wod_maintenance).toBe(true); // JupyterHub 6: body.user_options
    expect(sent.wod_maintenance).toBe(true); // JupyterHub 5 (the chart's): the body itself
  } finally {
    hub.close();
  }
});

test('the image recipes copy only what the repository has', () => {
  const dir = path.join(ROOT, 'deploy', 'kubernetes');
  const recipes = fs.readdirSync(dir).filter((f) => /^Dockerfile\.\w+$/.test(f));
  expect(recipes.sort()).toEqual(['Dockerfile.service', 'Dockerfile.student']);
  for (const recipe of recipes) {
    const copies = fs
      .readFileSync(path.join(dir, recipe), 'utf8')
      .split('\n')
      .filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l))
      .flatMap((l) =>
        l
          .replace(/^COPY\s+(--\S+\s+)*/, '')
          .split(/\s+/)
          .slice(0, -1),
      );
    expect(copies.length).toBeGreaterThan(0);
    for (const source of copies) expect([recipe, source, fs.existsSync(path.join(ROOT, source))]).toEqual([recipe, source, true]);
  }
});

test("wod-service.yaml agrees with the values (the Service, its port, the hub's token, the shared secret, the release's pods), and the example configuration is valid", () => {
  const dir = path.join(ROOT, 'deploy', 'kubernetes');
  const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(dir, 'wod-service.yaml'), 'utf8')).map((d) => d.toJS());
  const kind = (k: string) => docs.find((d) => d.kind === k);
  const example = configSchema.parse(YAML.parse(fs.readFileSync(path.join(dir, 'wod.k8s.example.yaml'), 'utf8')));
  expect(example.students).toMatchObject({ mode: 'remote', serversUrl: 'http://proxy-public' });
  // the service believes its peer, the chart's proxy pod, and no network: the students' pods are on the pod network
  expect(example).toMatchObject({ peerIsProxy: true, trustedProxies: [] });
  expect(kind('Service').metadata.name).toBe(SERVICE_HOST);
  expect(kind('Service').spec.ports[0].port).toBe(example.service.port);
  const pod = kind('Deployment').spec.template;
  const env = Object.fromEntries(pod.spec.containers[0].env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]));
  expect(env).toMatchObject({
    JUPYTERHUB_SERVICE_NAME: SERVICE_NAME,
    JUPYTERHUB_SERVICE_PREFIX: SERVICE_PREFIX,
    JUPYTERHUB_SERVICE_URL: `http://0.0.0.0:${example.service.port}`,
    JUPYTERHUB_API_TOKEN: { secretKeyRef: { name: 'hub', key: `hub.services.${SERVICE_NAME}.apiToken` } },
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: JSON.stringify([`access:services!service=${SERVICE_NAME}`]),
  });
  // what it leaves out is what the hub gives a managed service on one host
  expect(readHubEnv({ ...env, JUPYTERHUB_API_URL: 'http://hub:8081/hub/api', JUPYTERHUB_API_TOKEN: 't' })).toMatchObject({
    baseUrl: '/',
    clientId: `service-${SERVICE_NAME}`,
    oauthCallbackUrl: `${SERVICE_PREFIX}oauth_callback`,
  });
  // PodSecurity "restricted"
  expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  expect(pod.spec.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  // only the hub and the proxy of this release (helm upgrade --install hub) reach it, on its HTTP port
  const policy = kind('NetworkPolicy').spec;
  expect(policy.ingress).toEqual([
    {
      from: ['hub', 'proxy'].map((component) => ({ podSelector: { matchLabels: { app: 'jupyterhub', release: 'hub', component } } })),
      ports: [{ port: 'http' }],
    },
  ]);
  // the chart's hub policy admits pods with this label
  expect(pod.metadata.labels['hub.jupyter.org/network-access-hub']).toBe('true');
  const auth = pod.spec.volumes.find((v: { secret?: { secretName: string } }) => v.secret?.secretName === AUTH_SECRET);
  const mount = pod.spec.containers[0].volumeMounts.find((m: { name: string }) => m.name === auth.name);
  const entry = fs.readFileSync(path.join(dir, 'service-entry.sh'), 'utf8');
  expect(entry).toContain(`install -m 600 ${mount.mountPath}/auth-secret "$WOD_DATA_DIR/secrets/auth-secret"`);
  // no admin password into the pod's log: the operator's from the Secret, and prepare's output not shown
  expect(entry).toContain('node hub-service/dist/cli/main.js prepare >/dev/null');
});

test("peerIsProxy: the service's peer (the proxy pod, by network policy) is believed whatever its address, and only the entry it appended", () => {
  const proxies = new TrustedProxies([], { peerIsProxy: true });
  const trust = { proxies, ownUid: 1000 };
  const viaProxy = (forwardedFor: string) => clientAddress({ peer: '10.20.0.5', forwardedFor, proxy: proxies.peerIsProxy }, trust);
  expect(viaProxy('198.51.100.7')).toEqual({ address: '198.51.100.7', ignoredForwardedFor: false });
  // a student's pod through the proxy: its forged entry is not believed, the pod's own address is the client
  expect(viaProxy('203.0.113.7, 10.20.0.9')).toEqual({ address: '10.20.0.9', ignoredForwardedFor: true });
  // a hop not vouched for (a pod the shim does not know as the proxy) is its own client
  expect(clientAddress({ peer: '10.20.0.9', forwardedFor: '203.0.113.7' }, trust)).toEqual({ address: '10.20.0.9', ignoredForwardedFor: true });
  // Express's protocol and secure flag come from the peer, not from a further hop
  expect([trustFunction(proxies)('10.20.0.5', 0), trustFunction(proxies)('10.20.0.9', 1)]).toEqual([true, false]);
});
