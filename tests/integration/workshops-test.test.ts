/**
 * `wod workshops new`, `lint` and `test` as an author runs them, against one real wod (`--url`): a
 * new workshop passes its whole life (CREATE, every notebook run with its solution, progress, survey,
 * CLEANUP at 100%); a copy with a broken cell fails naming the notebook and the cell; the sample
 * workshops pass, and the time each took is printed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adminToken, ROOT, type RunningHub, startHub, WOD_CLI } from '../support/hub';
import { query } from '../support/wait';
import { tempWorkshops } from '../support/workshops';

let hub: RunningHub;
let token: string;
const workshops = tempWorkshops();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-authoring-cli-'));

/** `wod <args>` with its exit code and output (a failing command is what some tests expect). */
function wod(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const run = spawn(process.execPath, [WOD_CLI, ...args], { env });
    let out = '';
    run.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    run.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    run.on('error', reject);
    run.on('close', (status) => resolve({ status, out }));
  });
}
const offline = { ...process.env, WOD_DATA_DIR: dataDir, WOD_WORKSHOPS_DIR: workshops, WOD_CONFIG: path.join(dataDir, 'none.yaml') };
const test_ = (folders: string[]) => wod(['workshops', 'test', ...folders, '--url', hub.url, '--timeout', '90'], { ...hub.env, WOD_ADMIN_TOKEN: token });

beforeAll(async () => {
  fs.writeFileSync(offline.WOD_CONFIG, '# the test configures wod through the environment\n');
  for (const sample of ['WKSHP-Python101', 'WKSHP-Bash101']) fs.cpSync(path.join(ROOT, 'workshops', sample), path.join(workshops, sample), { recursive: true });
  for (const [name, kernel] of [
    ['Demo', 'python3'],
    ['Broken', 'bash'],
  ]) {
    const made = await wod(['workshops', 'new', name, '--kernel', kernel], offline);
    expect([made.status, made.out]).toEqual([0, expect.stringContaining(`WKSHP-${name}: new ${kernel} workshop on students`)]);
  }
  // the first lesson of Broken fails in its first code cell (cell 1), before the lesson's own one
  const file = path.join(workshops, 'WKSHP-Broken', '1-FirstSteps.ipynb');
  const nb = JSON.parse(fs.readFileSync(file, 'utf8'));
  nb.cells.splice(1, 0, { cell_type: 'code', id: 'broken', metadata: {}, source: ['echo before\n', 'no-such-command-here'], execution_count: null, outputs: [] });
  fs.writeFileSync(file, JSON.stringify(nb));

  const lint = await wod(['workshops', 'lint'], offline);
  expect([lint.status, lint.out.trim()]).toEqual([0, '4 of 4 workshop(s) valid; 0 error(s), 0 warning(s)']);
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops } });
  token = await adminToken(hub);
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const registrationOf = (folder: string) =>
  query<{ state: string; completion: number | null; survey: string | null; executed: number | null; total: number | null }>(
    hub.dataDir,
    'SELECT r.state, r.completion, r.survey, r.progress_executed AS executed, r.progress_total AS total FROM registrations r JOIN workshops w ON w.id = r.workshop_id WHERE w.folder = ? ORDER BY r.id DESC',
    folder,
  )[0];

test('new then lint then test: the new workshop passes its whole life, solution included', async () => {
  const { status, out } = await test_(['WKSHP-Demo']);
  expect([status, out]).toEqual([0, expect.stringContaining('PASS WKSHP-Demo')]);
  expect(out).toMatch(/ok {3}2-Lab\.ipynb \(3 code cells\)/);
  expect(out).toContain('completion at CLEANUP: 100%');
  expect(out).toContain('1 of 1 workshop(s) passed');
  const r = registrationOf('WKSHP-Demo');
  expect(r).toMatchObject({ state: 'cleaned', completion: 1 });
  expect(JSON.parse(r.survey!)).toMatchObject({ rating: 5, recommend: true });
  expect([r.executed, r.total]).toEqual([5, 5]);
});

test('a broken cell fails the test, naming the notebook, the cell and the error; the next notebooks still run', async () => {
  const { status, out } = await test_(['WKSHP-Broken']);
  expect(status).toBe(1);
  expect(out).toContain('FAIL WKSHP-Broken');
  expect(out).toContain('FAIL 1-FirstSteps.ipynb cell 1: Error: exit status 127');
  expect(out).toMatch(/> .*no-such-command-here: command not found/);
  expect(out).toContain('| no-such-command-here');
  expect(out).toMatch(/ok {3}2-Lab\.ipynb/);
  expect(out).toContain('0 of 1 workshop(s) passed');
  // CLEANUP saw what ran: not the lesson's cell after the broken one
  expect(registrationOf('WKSHP-Broken')).toMatchObject({ state: 'cleaned' });
  expect(registrationOf('WKSHP-Broken').completion).toBeLessThan(1);
});

test('the sample workshops pass', async () => {
  const { status, out } = await test_(['WKSHP-Python101', 'WKSHP-Bash101']);
  process.stdout.write(
    `${out
      .split('\n')
      .filter((l) => /^(PASS|FAIL) |workshop\(s\) passed/.test(l))
      .join('\n')}\n`,
  );
  expect([status, out]).toEqual([0, expect.stringContaining('2 of 2 workshop(s) passed')]);
  expect(out).toContain('PASS WKSHP-Python101');
  expect(out).toContain('PASS WKSHP-Bash101');
});
