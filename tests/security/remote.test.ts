/**
 * Remote mode's attacks (students.mode: remote, tests/support/remote.ts): the student's server is
 * the participant's and runs their code, yet the service calls it for CREATE, CLEANUP, RESET and
 * PURGE. The token such a server receives reaches that server only (no hub API, no other student's
 * server), none is left once the step is over, and a config or .pth planted in the home does not run
 * in the servers the service starts for its own work (wod_spawner.maintenance_environment), nor does
 * a process it left in a session of its own survive the server's stop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HubClient } from '../../hub-service/src/hub/client';
import { findProcesses } from '../../hub-service/src/lifecycle/processes';
import { attack } from '../support/attacks';
import { adminToken, restApi, type RunningHub, startHub } from '../support/hub';
import { REMOTE_MODE } from '../support/remote';
import { jobsSettled, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

jest.setTimeout(300_000);

let hub: RunningHub;
let admin: string;
let service: HubClient;
const workshops = tempWorkshops();

/** The service's own hub token, as its process holds it (the tests run as root). */
function serviceToken(): string {
  const pid = findProcesses(hub.hubApiUrl, 'JUPYTERHUB_SERVICE_NAME=wod')[0];
  const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return environ.find((e) => e.startsWith('JUPYTERHUB_API_TOKEN='))!.slice('JUPYTERHUB_API_TOKEN='.length);
}

async function ready(email: string): Promise<{ id: number; student: string }> {
  const res = await restApi(hub, admin, '/registrations', {
    method: 'POST',
    body: JSON.stringify({ email, name: 'Test Person', company: 'ACME', workshop: 'WKSHP-Remote', acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  const { id } = ((await res.json()) as { registration: { id: number } }).registration;
  await jobsSettled(hub.dataDir, id, ['CREATE'], 120_000);
  const r = (await (await restApi(hub, admin, `/admin/registrations/${id}`)).json()) as { state: string; student: string };
  expect(r.state).toBe('ready');
  return { id, student: r.student };
}

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-Remote', { range: [1, 3], capacity: 3 });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000', ...REMOTE_MODE } });
  admin = await adminToken(hub);
  service = new HubClient({ apiUrl: hub.hubApiUrl, token: serviceToken(), retries: 0 });
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

test("the token a student's server gets reaches that server only: not the hub API, not another student's server", async () => {
  const [a, b] = [await ready('a@example.org'), await ready('b@example.org')];
  // what RemoteHome hands the server (HubClient.serverToken), made with the service's own role
  const { id, token } = await service.serverToken(a.student, 600, `wod: files of ${a.student}`);
  const contents = (student: string) => fetch(`${hub.url}/user/${student}/api/contents/?content=0`, { headers: { Authorization: `token ${token}` }, redirect: 'manual' });
  expect((await contents(a.student)).status).toBe(200);
  await attack("remote: a student's server uses the token it was given on the hub API", async () => {
    for (const p of ['/users', `/users/${b.student}`, `/users/${a.student}/tokens`, '/services'])
      // 404: the hub does not even say whether the user is there
      expect([403, 404]).toContain((await fetch(`${hub.url}/hub/api${p}`, { headers: { Authorization: `token ${token}` } })).status);
  });
  await attack("remote: a student's server uses the token it was given on another student's server", async () => {
    expect((await contents(b.student)).status).toBe(403);
  });
  await service.revokeToken(a.student, id);
  // revoked at the hub (the server itself may trust its cached answer for a few minutes: it is the student's own)
  expect((await fetch(`${hub.url}/hub/api/user`, { headers: { Authorization: `token ${token}` } })).status).toBe(403);
  // the service's own operations leave none behind
  const left = (await (await fetch(`${hub.hubApiUrl}/users/${a.student}/tokens`, { headers: { Authorization: `token ${serviceToken()}` } })).json()) as {
    api_tokens: { note: string }[];
  };
  expect(left.api_tokens.filter((t) => t.note.startsWith('wod: files of'))).toEqual([]);
});

test('a config, a .pth or a detached process planted in the home does not run in the servers the service starts for its own work', async () => {
  const { id, student } = await ready('c@example.org');
  const home = path.join(hub.dataDir, 'homes', student);
  // where the planted code says it ran: reachable by the account the servers run as
  const marks = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-marks-'));
  fs.chmodSync(marks, 0o777);
  const owner = fs.statSync(home);
  /** written as the participant would: theirs, so that the wipe can delete it */
  const plant = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    for (let p = file; p !== home; p = path.dirname(p)) fs.chownSync(p, owner.uid, owner.gid);
  };
  const mark = (name: string) => `open(${JSON.stringify(path.join(marks, name))}, 'a').write('ran\\n')`;
  // a session of its own, as setsid/nohup would make: it must not outlive the server's stop
  plant(
    path.join(home, '.jupyter', 'jupyter_server_config.py'),
    `import subprocess\n${mark('config')}\nsubprocess.Popen(['sleep', '3600'], start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n`,
  );
  // the user site (a venv's servers never read it; a system Python's do)
  plant(path.join(home, '.local', 'lib', 'python3.11', 'site-packages', 'wod-planted.pth'), `import os; ${mark('pth')}\n`);
  // the control: the participant's own (normal) server runs what was planted
  await service.stopServer(student);
  await service.waitForStopped(student, 60_000);
  await service.startServer(student);
  await service.waitForServer(student, 120_000);
  expect(fs.readdirSync(marks)).toContain('config');
  expect(findProcesses(hub.hubApiUrl, `JUPYTERHUB_USER=${student}`).length).toBeGreaterThan(1);
  for (const f of fs.readdirSync(marks)) fs.rmSync(path.join(marks, f));

  // CLEANUP: the server stopped, then started again by the service for the archive and the wipe
  expect((await restApi(hub, admin, `/admin/registrations/${id}/end`, { method: 'POST' })).status).toBe(200);
  await jobsSettled(hub.dataDir, id, ['CLEANUP'], 180_000);
  await attack('remote: a config or .pth planted in the home runs in the server the service starts to archive and wipe it', () => {
    expect(fs.readdirSync(marks)).toEqual([]);
  });
  await attack("remote: a process started in a session of its own outlives its student's server", async () => {
    await until(
      () => findProcesses(hub.hubApiUrl, `JUPYTERHUB_USER=${student}`),
      (pids) => pids.length === 0,
      'no process of the student left',
      10_000,
    );
  });
  fs.rmSync(marks, { recursive: true, force: true });
});
