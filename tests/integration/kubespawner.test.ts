/**
 * What a Zero to JupyterHub hub would make of `wod kubernetes values`, checked without a cluster: the
 * chart's steps (hub.config, hub.extraFiles, hub.extraConfig) loaded into the pinned JupyterHub with
 * the pinned KubeSpawner, and the pods KubeSpawner would ask the API server for (tests/support/kubespawner.ts):
 * each seat's workshop limits as the real service answers them, the student image, the home claim,
 * the environment and server options remote mode needs. The hub's roles are compared with those the
 * one-host jupyterhub_config.py grants, by running it; the pinned JupyterHub's start handler reads the
 * hub client's body.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { HubClient } from '../../hub-service/src/hub/client';
import { MAINTENANCE } from '../../hub-service/src/lifecycle/remote-home';
import { BIG, type KubeSpawnerBench, kubeSpawnerBench, type Pod, SITE, type Spawned, STUDENT_IMAGE } from '../support/kubespawner';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
let bench: KubeSpawnerBench;
let spawned: Spawned;
const container = (name: string) => spawned.seats[name].pod.spec.containers[0];
const env = (pod: Pod) => Object.fromEntries(pod.spec.containers[0].env.map((e) => [e.name, e.value]));

beforeAll(async () => {
  bench = await kubeSpawnerBench();
  spawned = await bench.spawn({ student1: {}, student11: { wod_maintenance: true }, student25: {} });
});
afterAll(async () => {
  await bench?.close();
});

test("the hub configuration loads: KubeSpawner spawns, the shim authenticates, wod's log hides its secrets", () => {
  expect(spawned.spawner_class).toBe('kubespawner.spawner.KubeSpawner');
  expect(spawned.authenticator_class).toBe('WodAuthenticator');
  // as on one host (jupyterhub_config.py): status links and start links inside next=... are scrubbed
  expect(spawned.log_function).toBe('wod_logging.log_request');
  // only the proxy and HTTPS pods of this release may say who a visitor is (the release's name from the chart's HELM_RELEASE_NAME)
  expect(spawned.proxy_pods).toBe('app=jupyterhub,component in (proxy,autohttps),release=hub');
});

test('no answer, no pod: when the service refuses the hub (another secret), the spawn fails before any pod', async () => {
  await expect(bench.spawn({ student1: {} }, { secret: 'b'.repeat(64) })).rejects.toThrow(
    /student1: the wod service did not say which limits apply \(HTTP 404: Not Found\): no server/,
  );
});

test("each pod gets its seat's workshop limits (memory in bytes, capped by maxMemory; cpu in cores), the site's otherwise", () => {
  expect(container('student1').resources).toEqual({ limits: { memory: BIG.memory, cpu: BIG.cpu }, requests: {} });
  for (const s of ['student11', 'student25']) expect([s, container(s).resources]).toEqual([s, { limits: { memory: SITE.memory, cpu: SITE.cpu }, requests: {} }]);
});

test('the student image, the server options of remote mode, the home on a claim of its own', async () => {
  const pod = spawned.seats.student1.pod;
  expect(container('student1').image).toBe(STUDENT_IMAGE);
  const { stdout } = await run(path.join(ROOT, '.venv', 'bin', 'python'), ['-c', 'import json, wod_spawner; print(json.dumps(wod_spawner.REMOTE_SERVER_ARGS))'], {
    cwd: path.join(ROOT, 'spawner-config'),
  });
  // KubeSpawner passes its cmd and the spawner's args as the container's args (the image's entrypoint runs them)
  expect(container('student1').args).toEqual(['jupyterhub-singleuser', ...JSON.parse(stdout)]);
  expect(pod.spec.volumes).toEqual([{ name: 'home', persistentVolumeClaim: { claimName: 'claim-student1' } }]);
  expect(container('student1').volumeMounts).toEqual([{ name: 'home', mountPath: '/home/jovyan' }]);
  expect(pod.spec.securityContext.fsGroup).toBe(100);
  expect(spawned.seats.student1.pvc).toMatchObject({ metadata: { name: 'claim-student1' }, spec: { resources: { requests: { storage: '2Gi' } } } });
});

test("the environment: runtime files outside the home, the token may call wod, the site's variables kept, no PATH of the hub; a maintenance server loads nothing from the home", () => {
  const normal = env(spawned.seats.student1.pod);
  expect(normal).toMatchObject({
    JUPYTER_RUNTIME_DIR: '/tmp/jupyter-runtime',
    SITE_VARIABLE: 'from site.yaml',
    JUPYTERHUB_USER: 'student1',
    JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: '["access:services!service=wod"]',
  });
  expect(normal.PATH).toBeUndefined();
  expect(normal.PYTHONNOUSERSITE).toBeUndefined();
  expect(env(spawned.seats.student11.pod)).toMatchObject({
    PYTHONNOUSERSITE: '1',
    JUPYTER_CONFIG_DIR: '/opt/wod/maintenance/config',
    JUPYTER_DATA_DIR: '/opt/wod/maintenance/data',
    JUPYTER_CONFIG_PATH: '',
  });
});

test('the roles and custom scope of the values are those jupyterhub_config.py grants on one host', async () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-hubconfig-'));
  const script = [
    'import json, sys',
    'from traitlets.config import Config',
    'c = Config()',
    'exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), {"get_config": lambda: c, "__file__": sys.argv[1]})',
    'print(json.dumps({"roles": c.JupyterHub.load_roles, "custom_scopes": c.JupyterHub.custom_scopes}))',
  ].join('\n');
  try {
    const { stdout } = await run(path.join(ROOT, '.venv', 'bin', 'python'), ['-c', script, path.join(ROOT, 'spawner-config', 'jupyterhub_config.py')], {
      env: { ...process.env, WOD_CONFIG: '', WOD_DATA_DIR: path.join(scratch, 'var'), WOD_WORKSHOPS_DIR: scratch, WOD_STUDENTS_MODE: 'remote' },
    });
    const oneHost = JSON.parse(stdout.trim().split('\n').pop()!) as { roles: { name: string }[]; custom_scopes: unknown };
    const { loadRoles, config } = bench.values.hub;
    for (const [name, role] of Object.entries(loadRoles))
      expect(role).toEqual(Object.fromEntries(Object.entries(oneHost.roles.find((r) => r.name === name)!).filter(([k]) => k !== 'name')));
    expect(config.JupyterHub.custom_scopes).toEqual(oneHost.custom_scopes);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});

test("JupyterHub 6.1.1's start handler reads the service's body as the options it sent (JupyterHub 5 takes the whole body)", async () => {
  const script = [
    'import json, sys, types',
    'from jupyterhub.apihandlers.users import UserServerAPIHandler',
    'handler = UserServerAPIHandler.__new__(UserServerAPIHandler)',
    'handler.request = types.SimpleNamespace(body=sys.argv[1].encode())',
    'print(json.dumps(handler.get_server_json_body()["user_options"]))',
  ].join('\n');
  // the body the service's hub client sends when it starts a maintenance server
  let body = '';
  const hub = http.createServer((req, res) => {
    req.on('data', (d) => (body += d));
    req.on('end', () => res.writeHead(202).end());
  });
  await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
  await new HubClient({ apiUrl: `http://127.0.0.1:${(hub.address() as AddressInfo).port}/hub/api`, token: 't', retries: 0 }).startServer('student1', MAINTENANCE);
  hub.close();
  const { stdout } = await run(path.join(ROOT, '.venv', 'bin', 'python'), ['-c', script, body]);
  expect(JSON.parse(stdout)).toEqual({ wod_maintenance: true });
});
