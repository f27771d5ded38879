/**
 * Remote mode's homes (lifecycle/remote-home.ts, work/remote.ts) against a fake student server: a
 * contents API over a temporary folder, and a hub that starts and stops it. The work archive keeps
 * the disk's rule (same files, same notes); the deployment is the disk's, byte for byte, uploaded
 * into a home it first empties, hidden entries too; the wipe leaves the server stopped; lint
 * refuses compile in remote mode. And the contents client's own requests, against a local server.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { checkRemoteMode } from '../../hub-service/src/catalog/problems';
import { loadConfig } from '../../hub-service/src/config/load';
import { DiskHome } from '../../hub-service/src/lifecycle/home';
import { LocalHost } from '../../hub-service/src/lifecycle/host';
import { localTree, RemoteHome } from '../../hub-service/src/lifecycle/remote-home';
import { HubApiError, type HubClient } from '../../hub-service/src/hub/client';
import { apiPath, childPath, ContentsClient, type ContentsEntry } from '../../hub-service/src/hub/contents';
import { isTransient } from '../../hub-service/src/lifecycle/steps';
import { unzipsElsewhere } from '../../hub-service/src/work/archive';
import { attack } from '../support/attacks';
import { collectWork } from '../../hub-service/src/work/archive';
import { archiveRemoteWork, collectRemoteWork } from '../../hub-service/src/work/remote';
import { readZip } from '../support/zip';
import type { WodConfig } from '../../hub-service/src/config/schema';

const temp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const put = (file: string, text: string | Buffer) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
};

/** jupyter_server's contents API over `root` (one student's home), as far as wod uses it. */
function fakeContents(root: string, calls: string[] = []) {
  const at = (p: string) => path.join(root, ...p.split('/').filter(Boolean));
  const contents = {
    grant: () => undefined,
    forget: () => undefined,
    async list(_student: string, dir: string): Promise<ContentsEntry[] | null> {
      calls.push(`list ${dir}`);
      if (!fs.existsSync(at(dir))) return null;
      return fs.readdirSync(at(dir), { withFileTypes: true }).map((e) => {
        const p = dir ? `${dir}/${e.name}` : e.name;
        const folder = e.isDirectory();
        return { name: e.name, type: folder ? 'directory' : e.name.endsWith('.ipynb') ? 'notebook' : 'file', size: folder ? null : fs.statSync(at(p)).size };
      });
    },
    async read(_student: string, file: string) {
      return fs.existsSync(at(file)) ? fs.readFileSync(at(file)) : null;
    },
    async makeFolder(_student: string, dir: string) {
      calls.push(`mkdir ${dir}`);
      // as jupyter_server: a folder already there is kept, anything else there is refused
      if (!fs.statSync(at(dir), { throwIfNoEntry: false })?.isDirectory()) fs.mkdirSync(at(dir));
    },
    async write(_student: string, file: string, bytes: Buffer) {
      calls.push(`write ${file}`);
      fs.writeFileSync(at(file), bytes);
    },
    async remove(_student: string, p: string) {
      calls.push(`delete ${p}`);
      fs.rmSync(at(p), { recursive: true, force: true });
    },
  };
  return contents as unknown as ContentsClient;
}

/** A hub whose one student's server starts and stops, and says which it is. */
function fakeHub(events: string[]) {
  let running = false;
  return {
    hub: {
      ensureUser: async () => ({}),
      getServer: async () => (running ? { ready: true } : null),
      startServer: async () => (events.push('start'), (running = true), 'ready'),
      waitForServer: async () => ({ ready: true }),
      stopServer: async () => void (events.push('stop'), (running = false)),
      waitForStopped: async () => undefined,
      serverToken: async () => ({ id: 'a1', token: 'student-token' }),
      revokeToken: async () => undefined,
      revokeAllTokens: async () => (events.push('revoke'), 0),
    } as unknown as HubClient,
    running: () => running,
  };
}

/** The work test's home (tests/unit/work.test.ts), without its links: a contents API cannot tell them. */
function workHome(): string {
  const h = temp('wod-remote-home-');
  put(path.join(h, 'WKSHP-A', '0-ReadMeFirst.ipynb'), '{"cells":[]}');
  put(path.join(h, 'WKSHP-A', '1-Lab.ipynb'), '{"cells":[1]}');
  put(path.join(h, 'WKSHP-A', '.ipynb_checkpoints', '1-Lab-checkpoint.ipynb'), 'old');
  put(path.join(h, 'WKSHP-A', '__pycache__', 'helper.cpython-312.pyc'), 'bytecode');
  put(path.join(h, 'my-notes.md'), 'what I learnt');
  put(path.join(h, 'projects', 'graphs', 'plot.py'), 'print(1)');
  put(path.join(h, '.bashrc'), 'alias x=y');
  put(path.join(h, '.local', 'lib', 'site.py'), 'installed');
  put(path.join(h, 'env', 'pyvenv.cfg'), 'home = /usr/bin');
  put(path.join(h, 'env', 'lib', 'numpy.py'), 'numpy');
  put(path.join(h, 'node_modules', 'left-pad', 'index.js'), 'pad');
  put(path.join(h, 'evil\\..\\..\\x.sh'), 'escapes on unzip');
  put(path.join(h, 'C:x'), 'absolute on unzip');
  return h;
}

describe('the work archive through the contents API', () => {
  test('finds what the disk walk finds, in the same order, with the same notes', async () => {
    const h = workHome();
    const strip = (c: { files: { rel: string; size: number }[]; leftOut: object[] }) => ({ files: c.files.map((f) => [f.rel, f.size]), leftOut: c.leftOut });
    const remote = await collectRemoteWork(fakeContents(h), 'student1', 'WKSHP-A');
    expect(strip(remote)).toEqual(strip(collectWork(h, 'WKSHP-A')));
    expect(remote.files.map((f) => f.rel)).toEqual(['WKSHP-A/0-ReadMeFirst.ipynb', 'WKSHP-A/1-Lab.ipynb', 'my-notes.md', 'projects/graphs/plot.py']);
  });

  test('zips it with the size cap and its note; nothing to keep writes nothing', async () => {
    const h = workHome();
    const file = path.join(temp('wod-remote-work-'), 'work', '7.zip');
    const made = await archiveRemoteWork(fakeContents(h), 'student1', { workshopFolder: 'WKSHP-A', maxBytes: 30, file });
    const zip = readZip(fs.readFileSync(file));
    expect([...zip.keys()]).toEqual(['WKSHP-A/0-ReadMeFirst.ipynb', 'WKSHP-A/1-Lab.ipynb', 'NOT-INCLUDED.txt']);
    expect(zip.get('WKSHP-A/1-Lab.ipynb')!.toString()).toBe('{"cells":[1]}');
    expect(zip.get('NOT-INCLUDED.txt')!.toString()).toMatch(/my-notes\.md: 13 bytes: the archive keeps 30 bytes at most/);
    expect(made).toEqual({ files: 2, bytes: fs.statSync(file).size, leftOut: 4 });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(`${file}.part`)).toBe(false);
    const empty = temp('wod-remote-home-');
    const none = path.join(path.dirname(file), '8.zip');
    expect(await archiveRemoteWork(fakeContents(empty), 'student1', { workshopFolder: 'WKSHP-A', maxBytes: 30, file: none })).toEqual({ files: 0, bytes: 0, leftOut: 0 });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['7.zip']);
  });
});

describe('a remote home', () => {
  const workshop = () => {
    const content = temp('wod-remote-content-');
    put(path.join(content, 'wod.yml'), 'name: A\n');
    put(
      path.join(content, '0-ReadMeFirst.ipynb'),
      JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'markdown', id: 'm', metadata: {}, source: 'Hello {{ STUDENT }}' }] }),
    );
    put(path.join(content, 'data', 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00, 0xfe]));
    put(path.join(content, 'secret.sh'), 'echo {{ STUDENT }}\n');
    return content;
  };
  const skeleton = () => {
    const s = temp('wod-remote-skel-');
    put(path.join(s, '.jupyter', 'lab', 'user-settings', 'x.jupyterlab-settings'), '{}');
    return s;
  };
  const deployment = (content: string) => ({
    folders: { content, source: 'public' as const },
    folder: 'WKSHP-A',
    vars: { STUDENT: 'student1' },
    exclude: ['secret.sh'],
    locale: 'fr_FR',
  });

  test("CREATE: emptied (hidden entries too) on a running server, then the disk's deployment uploaded byte for byte, folders first", async () => {
    const remoteRoot = temp('wod-remote-home-');
    put(path.join(remoteRoot, '.bashrc'), 'left by the last participant');
    put(path.join(remoteRoot, 'WKSHP-Old', 'x.ipynb'), '{}');
    const calls: string[] = [];
    const events: string[] = [];
    const { hub, running } = fakeHub(events);
    const remote = new RemoteHome(hub, fakeContents(remoteRoot, calls), 1000);
    const content = workshop();
    await remote.prepare('student1', skeleton());
    expect(running()).toBe(true);
    expect(calls.filter((c) => c.startsWith('delete'))).toEqual(['delete .bashrc', 'delete WKSHP-Old']);
    expect(await remote.deploy('student1', deployment(content))).toBe('student1:~/WKSHP-A');

    // the same deployment on a disk home
    const diskRoot = temp('wod-disk-homes-');
    const disk = new DiskHome(new LocalHost(diskRoot, 'http://127.0.0.1:1/hub/api'), { mode: 'local' } as WodConfig['students']);
    await disk.prepare('student1', skeleton());
    await disk.deploy('student1', deployment(content));
    const tree = (root: string) => {
      const { dirs, files } = localTree(root);
      return { dirs, files: files.map((f) => [f, fs.readFileSync(path.join(root, f)).toString('base64')]) };
    };
    expect(tree(remoteRoot)).toEqual(tree(disk.localPath('student1')));
    expect(tree(remoteRoot).files.map(([f]) => f)).toEqual(
      expect.arrayContaining([
        '.jupyter/lab/workspaces/default-37a8.jupyterlab-workspace',
        '.jupyter/lab/user-settings/@jupyterlab/translation-extension/plugin.jupyterlab-settings',
      ]),
    );
    expect(fs.existsSync(path.join(remoteRoot, 'WKSHP-A', 'secret.sh'))).toBe(false);
    // every folder made before anything is written into it
    const made = calls.filter((c) => c.startsWith('mkdir')).map((c) => c.slice(6));
    for (const [i, c] of calls.entries())
      if (c.startsWith('write ')) expect(made.filter((d) => c.slice(6).startsWith(`${d}/`)).every((d) => calls.indexOf(`mkdir ${d}`) < i)).toBe(true);
    // no staging left behind on this machine
    expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('wod-deploy-'))).toEqual([]);
  });

  test('the notebooks read for completion, as they are; the wipe empties the home and stops the server', async () => {
    const remoteRoot = temp('wod-remote-home-');
    put(path.join(remoteRoot, 'WKSHP-A', '0-ReadMeFirst.ipynb'), '{"cells": [ ]}');
    put(path.join(remoteRoot, 'WKSHP-A', 'notes.txt'), 'not a notebook');
    put(path.join(remoteRoot, '.ipython', 'profile_default', 'history.sqlite'), 'x');
    const events: string[] = [];
    const { hub, running } = fakeHub(events);
    const remote = new RemoteHome(hub, fakeContents(remoteRoot), 1000);
    expect(await remote.notebooks('student1', 'WKSHP-A')).toEqual(['{"cells": [ ]}']);
    expect(await remote.notebooks('student1', 'WKSHP-None')).toEqual([]);
    await remote.wipe('student1');
    expect(fs.readdirSync(remoteRoot)).toEqual([]);
    expect([events, running()]).toEqual([['start', 'stop', 'revoke'], false]);
    expect(remote.localPath()).toBeNull();
  });

  test('a wipe that leaves an entry behind fails, naming it', async () => {
    const remoteRoot = temp('wod-remote-home-');
    put(path.join(remoteRoot, '.hidden'), 'x');
    const contents = fakeContents(remoteRoot);
    contents.remove = async () => undefined; // a server without the delete options
    await expect(new RemoteHome(fakeHub([]).hub, contents, 1000).wipe('student1')).rejects.toThrow(/still holds \.hidden once wiped/);
  });
});

test('the configuration: remote mode, the service wrapper as JSON, and serversUrl required behind a socket', () => {
  const root = temp('wod-remote-config-');
  const c = loadConfig({ env: { WOD_STUDENTS_MODE: 'remote', WOD_SERVICE_WRAPPER: '["unshare", "--mount"]' }, projectRoot: root });
  expect([c.students.mode, c.service.wrapper, c.students.serversUrl]).toEqual(['remote', ['unshare', '--mount'], undefined]);
  expect(loadConfig({ env: {}, projectRoot: root }).service.wrapper).toEqual([]);
  const socket = { WOD_STUDENTS_MODE: 'remote', WOD_BIND_SOCKET: path.join(root, 'public.sock'), WOD_PUBLIC_URL: 'https://wod.example.org' };
  expect(() => loadConfig({ env: socket, projectRoot: root })).toThrow(/students\.serversUrl \(WOD_STUDENTS_SERVERS_URL\): required in remote mode with bindSocket/);
  expect(loadConfig({ env: { ...socket, WOD_STUDENTS_SERVERS_URL: 'http://127.0.0.1:8000' }, projectRoot: root }).students.serversUrl).toBe('http://127.0.0.1:8000');
});

test('lint: compile is an error in remote mode only', () => {
  const at = { file: 'WKSHP-A/wod.yml' };
  expect(checkRemoteMode({ compile: ['get-token.sh'] }, { students: { mode: 'remote' } }, at)).toEqual([expect.objectContaining({ severity: 'error', field: 'compile' })]);
  expect(checkRemoteMode({ compile: ['get-token.sh'] }, { students: { mode: 'local' } }, at)).toEqual([]);
  expect(checkRemoteMode({ compile: [] }, { students: { mode: 'remote' } }, at)).toEqual([]);
});

describe('the contents client', () => {
  const seen: { method: string; url: string; auth: string | undefined; body: string }[] = [];
  let server: http.Server;
  let client: ContentsClient;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
        const json = (status: number, value: unknown): void => void res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
        if (req.url!.includes('missing')) return json(404, { message: 'No such file or directory: missing' });
        if (req.url!.includes('broken')) return json(500, { message: 'Unexpected error while saving file' });
        if (req.url!.includes('not-json')) return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>a login page</html>');
        if (req.url!.includes('huge')) return json(200, { type: 'file', format: 'base64', content: 'A'.repeat(200_000) });
        if (req.method === 'GET' && req.url!.includes('type=file')) return json(200, { type: 'file', format: 'base64', content: Buffer.from([0xff, 0x00]).toString('base64') });
        if (req.method === 'GET') return json(200, { type: 'directory', content: [{ name: 'a b.ipynb', path: 'WKSHP-A/a b.ipynb', type: 'notebook', size: 12, content: null }] });
        json(req.method === 'DELETE' ? 204 : 201, req.method === 'DELETE' ? '' : { type: 'file' });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    client = new ContentsClient({ serversUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
    client.grant('student1', 'student1-token');
  });
  afterAll(() => new Promise((r) => server.close(r)));

  test("reads and writes the student's files with the token granted for that student, text as text and anything else as base64", async () => {
    seen.length = 0;
    expect(await client.list('student1', 'WKSHP-A')).toEqual([{ name: 'a b.ipynb', type: 'notebook', size: 12 }]);
    expect(await client.read('student1', 'WKSHP-A/a b.ipynb')).toEqual(Buffer.from([0xff, 0x00]));
    await client.write('student1', 'WKSHP-A/é.txt', Buffer.from('héllo\n'));
    await client.write('student1', 'WKSHP-A/logo.png', Buffer.from([0x89, 0xff]));
    await client.makeFolder('student1', '.jupyter');
    await client.remove('student1', 'WKSHP-A');
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /user/student1/api/contents/WKSHP-A?content=1',
      'GET /user/student1/api/contents/WKSHP-A/a%20b.ipynb?type=file&format=base64&content=1',
      'PUT /user/student1/api/contents/WKSHP-A/%C3%A9.txt',
      'PUT /user/student1/api/contents/WKSHP-A/logo.png',
      'PUT /user/student1/api/contents/.jupyter',
      'DELETE /user/student1/api/contents/WKSHP-A',
    ]);
    expect(seen.every((r) => r.auth === 'token student1-token')).toBe(true);
    // no token granted for another student: no call at all
    await expect(client.list('student2', '')).rejects.toThrow(/no token granted for the server of student2/);
    expect(seen).toHaveLength(6);
    expect(JSON.parse(seen[2].body)).toEqual({ type: 'file', format: 'text', content: 'héllo\n' });
    expect(JSON.parse(seen[3].body)).toEqual({ type: 'file', format: 'base64', content: Buffer.from([0x89, 0xff]).toString('base64') });
    expect(JSON.parse(seen[4].body)).toEqual({ type: 'directory' });
  });

  test('what is not there is null (or nothing to delete); a failure is a HubApiError with the status, retried as the hub is', async () => {
    expect(await client.list('student1', 'missing')).toBeNull();
    expect(await client.read('student1', 'missing/x')).toBeNull();
    await client.remove('student1', 'missing');
    const failed = await client.write('student1', 'broken.txt', Buffer.from('x')).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(HubApiError);
    expect(failed).toMatchObject({ status: 500, message: expect.stringMatching(/PUT \/user\/student1\/api\/contents\/broken\.txt failed: HTTP 500: Unexpected error/) });
  });

  test('a 2xx that is not JSON, or longer than the file it reads, is a HubApiError not worth a retry', async () => {
    await expect(client.list('student1', 'not-json')).rejects.toMatchObject({ name: 'HubApiError', status: 200, message: expect.stringMatching(/not JSON/) });
    const huge = await client.read('student1', 'huge.bin', 1_000).catch((e: unknown) => e);
    expect(huge).toBeInstanceOf(HubApiError);
    expect(huge).toMatchObject({ status: 400, message: expect.stringMatching(/huge\.bin failed: HTTP 400: the answer is longer than/) });
    expect(isTransient(huge)).toBe(false);
  });
});

describe("a student's server is not trusted", () => {
  /** an attack of the security ledger (tests/support/attacks.ts) */
  const refused = (name: string, refuse: () => Promise<void> | void) => test(name, () => attack(name, refuse));

  refused('a path from a listing, or given, cannot leave the home: `..`, empty, NUL and backslash parts are refused', () => {
    for (const bad of ['../../../../hub/api/users/b', 'a/../b', 'a//b', '/a', 'a/', '.', 'a/./b', 'a\0b', '..\\x']) expect(() => apiPath(bad)).toThrow(/not a path inside a home/);
    expect(apiPath('')).toBe('');
    expect(apiPath('WKSHP-A/a b.ipynb')).toBe('WKSHP-A/a%20b.ipynb');
    for (const bad of ['..', '.', '', 'a/b', 'a\0']) expect(() => childPath('x', bad)).toThrow(/holds the name/);
    expect(childPath('', 'a')).toBe('a');
  });

  refused('a server listing `..` makes no request outside the home: the wipe refuses it, the archive leaves it out', async () => {
    const calls: string[] = [];
    const lying = {
      ...(fakeContents(temp('wod-remote-home-'), calls) as unknown as Record<string, unknown>),
      list: async (_s: string, dir: string) => (
        calls.push(`list ${dir}`),
        dir
          ? []
          : [
              { name: '..', type: 'directory', size: null },
              { name: 'a/../../b', type: 'file', size: 1 },
            ]
      ),
      read: async (_s: string, file: string) => void calls.push(`read ${file}`),
    } as unknown as ContentsClient;
    await expect(new RemoteHome(fakeHub([]).hub, lying, 1000).wipe('student1')).rejects.toThrow(/holds the name "\.\."/);
    expect(calls.filter((c) => c.startsWith('delete'))).toEqual([]);
    calls.length = 0;
    const found = await collectRemoteWork(lying, 'student1', 'WKSHP-A');
    expect(found.files).toEqual([]);
    // `..` is a hidden name, never work; the other is left out, with its note
    expect(found.leftOut.map((l) => l.rel)).toEqual(['a/../../b']);
    expect(calls).toEqual(['list ']);
  });

  test('a zip entry never unzips elsewhere: absolute names, `..` parts, NUL', () => {
    for (const [name, rel] of [
      ['x', '/x'],
      ['..', 'a/..'],
      ['x', '../x'],
      ['a\0b', 'a\0b'],
      ['b\\c', 'a/b\\c'],
    ])
      expect(unzipsElsewhere(name, rel)).toBe(true);
    expect(unzipsElsewhere('lab.ipynb', 'WKSHP-A/lab.ipynb')).toBe(false);
  });
});
