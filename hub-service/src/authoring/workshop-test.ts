/**
 * `wod workshops test`: a workshop's whole life on a real wod, as a participant lives it. A CREATE
 * for a free student of its range (the admin's action, as `wod action --direct`), the student's hub
 * token made by the admin through the hub's API (so no mailed password is needed, on a production
 * wod too), every notebook run in the student's own server (solutions merged, solutions.ts) and
 * saved back, the progress reported and the survey answered with the student's token as the lab
 * extension does, then the admin's end and CLEANUP, whose completion ratio is read back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { notebookOrder } from '../content/conclusion.js';
import { SERVICE_PREFIX } from '../config/urls.js';
import { type Call, tokenCaller, waitFor } from './http.js';
import { cellSource, mergeSolutions, type Notebook, SOLUTIONS_DIR } from './solutions.js';
import { StudentServer } from './student-server.js';

export interface CellFailure {
  notebook: string;
  /** the cell's index in the notebook, from 0 */
  cell: number;
  source: string;
  ename: string;
  evalue: string;
  /** the last lines the cell printed (a shell's error message is there) */
  output: string;
}

export interface WorkshopResult {
  folder: string;
  student: string | null;
  notebooks: { file: string; cells: number; failure: CellFailure | null }[];
  /** a step outside the notebooks that failed (CREATE, the survey, CLEANUP…) */
  problem: string | null;
  survey: boolean;
  completion: number | null;
  seconds: number;
}

export const passed = (r: WorkshopResult): boolean => !r.problem && r.notebooks.every((n) => !n.failure);

export interface Progress {
  /** the notebooks' code cells, once known */
  total(cells: number): void;
  cell(notebook: string, done: number): void;
  step(what: string): void;
}

export interface TestTarget {
  /** the wod's public URL, e.g. https://wod.example.org */
  url: string;
  adminToken: string;
  /** the workshop's source folder (for its solutions) */
  content: string;
  timeoutMs: number;
}

interface AdminRegistration {
  id: number;
  state: string;
  student: string | null;
  completion: number | null;
  progress: { executed: number; total: number } | null;
}

const isCode = (c: { cell_type: string }) => c.cell_type === 'code';

export async function testWorkshop(folder: string, t: TestTarget, progress: Progress): Promise<WorkshopResult> {
  const started = Date.now();
  const result: WorkshopResult = { folder, student: null, notebooks: [], problem: null, survey: false, completion: null, seconds: 0 };
  const admin = tokenCaller(t.adminToken);
  const api = `${t.url}${SERVICE_PREFIX}api/v1`;
  let registration: number | null = null;
  /** the student's token is the test's only: gone when the test is done with it */
  let revoke = (): Promise<unknown> => Promise.resolve();
  try {
    progress.step('CREATE');
    registration = await create(admin, api, folder, t.timeoutMs);
    const reg = await waitFor(
      () => admin<AdminRegistration>('GET', `${api}/admin/registrations/${registration}`),
      (r) => ['ready', 'reminded', 'failed', 'ended', 'cleaned'].includes(r.state),
      `registration ${registration} to be ready`,
      t.timeoutMs,
    );
    if (reg.state !== 'ready' && reg.state !== 'reminded') throw new Error(`CREATE for ${folder} ended ${reg.state}: see the admin panel's jobs`);
    const student = reg.student!;
    result.student = student;
    const made = await admin<{ id: string; token: string }>('POST', `${t.url}/hub/api/users/${student}/tokens`, { note: `wod workshops test ${folder}`, expires_in: 3600 });
    const token = made.token;
    revoke = () => admin('DELETE', `${t.url}/hub/api/users/${student}/tokens/${made.id}`);
    const server = new StudentServer(`${t.url}/user/${student}/`, token);
    progress.step(`starting ${student}'s server`);
    await startServer(admin, t.url, student, t.timeoutMs);
    await waitFor(
      () =>
        server.list(folder).then(
          () => true,
          () => false,
        ),
      (up) => up,
      `${student}'s server to serve ${folder}`,
      t.timeoutMs,
    );
    result.notebooks = await runNotebooks(server, folder, t, progress, tokenCaller(token), api);
    progress.step('survey');
    await tokenCaller(token)('PUT', `${api}/me/survey`, { rating: 5, good: 'wod workshops test ran every notebook', improve: 'nothing', recommend: true });
    result.survey = true;
  } catch (e) {
    result.problem = (e as Error).message;
  }
  await revoke().catch(() => undefined);
  if (registration !== null) {
    try {
      progress.step('CLEANUP');
      await admin('POST', `${api}/admin/registrations/${registration}/end`);
      const done = await waitFor(
        () => admin<AdminRegistration>('GET', `${api}/admin/registrations/${registration}`),
        (r) => r.state === 'cleaned' || r.state === 'failed',
        `CLEANUP of registration ${registration}`,
        t.timeoutMs,
      );
      if (done.state !== 'cleaned') throw new Error(`CLEANUP of ${folder} ended ${done.state}`);
      result.completion = done.completion;
    } catch (e) {
      result.problem ??= (e as Error).message;
    }
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

/** The student's server started through the hub's API, as the hub starts it at the participant's login. */
async function startServer(admin: Call, url: string, student: string, timeoutMs: number): Promise<void> {
  const user = () => admin<{ servers?: Record<string, { ready: boolean; pending: string | null }> }>('GET', `${url}/hub/api/users/${student}`);
  const server = (await user()).servers?.[''];
  if (!server) await admin('POST', `${url}/hub/api/users/${student}/server`);
  await waitFor(user, (u) => u.servers?.['']?.ready === true, `${student}'s server to start`, timeoutMs);
}

/** A CREATE for the first free student of the workshop's range; its registration's id. */
async function create(admin: Call, api: string, folder: string, timeoutMs: number): Promise<number> {
  const pool = await admin<{ students: { id: number }[] }>('GET', `${api}/admin/pool?workshop=${encodeURIComponent(folder)}&state=free&limit=1`);
  if (!pool.students.length) throw new Error(`${folder} has no free student in its range: wait for running registrations to end, or CLEANUP them`);
  const { jobs } = await admin<{ jobs: number[] }>('POST', `${api}/admin/actions`, { verb: 'CREATE', workshop: folder, students: String(pool.students[0].id) });
  const job = await waitFor(
    () => admin<{ registrationId: number | null }>('GET', `${api}/admin/jobs/${jobs[0]}`),
    (j) => j.registrationId !== null,
    `the CREATE job ${jobs[0]}`,
    timeoutMs,
  );
  return job.registrationId!;
}

/** The solutions notebook shipped for `file`, if any. */
function solutionFor(content: string, file: string): Notebook | null {
  const p = path.join(content, SOLUTIONS_DIR, file);
  return fs.existsSync(p) ? (JSON.parse(fs.readFileSync(p, 'utf8')) as Notebook) : null;
}

async function runNotebooks(server: StudentServer, folder: string, t: TestTarget, progress: Progress, student: Call, api: string) {
  const files = notebookOrder((await server.list(folder)).filter((e) => e.type === 'notebook').map((e) => e.name));
  const notebooks: { file: string; notebook: Notebook }[] = [];
  for (const file of files) {
    const deployed = await server.read(`${folder}/${file}`);
    const solution = solutionFor(t.content, file);
    if (!solution) {
      notebooks.push({ file, notebook: deployed });
      continue;
    }
    const merged = mergeSolutions(deployed, solution);
    if (merged.unknown.length) throw new Error(`${SOLUTIONS_DIR}/${file} solves cells ${merged.unknown.join(', ')} that ${file} does not have (match the cells' ids)`);
    notebooks.push({ file, notebook: merged.notebook });
  }
  const total = notebooks.reduce((n, nb) => n + nb.notebook.cells.filter(isCode).length, 0);
  progress.total(total);
  let executed = 0;
  const results = [];
  for (const { file, notebook } of notebooks) {
    const failure = await runNotebook(server, `${folder}/${file}`, notebook, t.timeoutMs, (done) => progress.cell(file, executed + done));
    executed += notebook.cells.filter(isCode).length;
    // as the lab extension reports: the executed code cells over all of them
    const counted = notebooks.reduce((n, nb) => n + nb.notebook.cells.filter((c) => isCode(c) && typeof c.execution_count === 'number').length, 0);
    await student('PUT', `${api}/me/progress`, { executed: counted, total });
    results.push({ file, cells: notebook.cells.filter(isCode).length, failure });
  }
  return results;
}

/** The last lines of a cell's text output. */
function printed(outputs: Record<string, unknown>[]): string {
  const text = outputs
    .filter((o) => o.output_type === 'stream')
    .map((o) => String(o.text))
    .join('');
  return text.trimEnd().split('\n').slice(-3).join('\n');
}

/** Runs the code cells in order until one fails; saves the notebook with what ran, as JupyterLab would. */
async function runNotebook(server: StudentServer, file: string, notebook: Notebook, timeoutMs: number, onCell: (done: number) => void): Promise<CellFailure | null> {
  const kernel = await server.open(file, notebook.metadata?.kernelspec?.name ?? 'python3');
  let failure: CellFailure | null = null;
  let done = 0;
  try {
    for (const [index, cell] of notebook.cells.entries()) {
      if (!isCode(cell)) continue;
      const r = await kernel.run(cellSource(cell), timeoutMs);
      cell.outputs = r.outputs;
      cell.execution_count = r.executionCount;
      onCell(++done);
      if (!r.ok) {
        failure = {
          notebook: path.basename(file),
          cell: index,
          source: cellSource(cell),
          ename: r.error?.ename ?? 'Error',
          evalue: r.error?.evalue ?? '',
          output: printed(r.outputs),
        };
        break;
      }
    }
  } finally {
    await kernel.close();
  }
  await server.save(file, notebook);
  return failure;
}
