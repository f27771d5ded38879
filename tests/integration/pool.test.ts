/**
 * A large pool against a real hub: a start with 2 000 students creates no hub user, account or home
 * for them (a student's first CREATE does, and only its own); the admin pool page and the REST pool
 * answer a summary and one page of students, with the stuck first, whatever the size of the pool.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Browser } from '../support/browser';
import { adminToken, type RunningHub, startHub } from '../support/hub';
import { type OpenApiDocument, ResponseChecker } from '../support/openapi';
import { waitForMail } from '../support/outbox';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const COUNT = 2000;
let hub: RunningHub;
let api: string;
let token: string;
let admin: Browser;
let checker: ResponseChecker;
const workshops = tempWorkshops();

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-Large', { name: 'Large', range: [1, 1500], capacity: 1500, priority: 1 });
  writeWorkshop(workshops, 'WKSHP-Side', { name: 'Side', range: [1601, 1700], capacity: 100, priority: 2 });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_STUDENTS_COUNT: String(COUNT), WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  api = `${hub.url}/services/wod/api/v1`;
  token = await adminToken(hub);
  checker = new ResponseChecker((await (await fetch(`${api}/openapi.json`)).json()) as OpenApiDocument);
  admin = new Browser(hub.url);
  await admin.hubLogin(hub.admin.name, hub.admin.password);
}, 240_000);
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const hubUsers = async () => {
  const res = await fetch(`${hub.hubApiUrl}/users?limit=5000`, { headers: { Authorization: `token ${token}`, Accept: 'application/jupyterhub-pagination+json' } });
  return ((await res.json()) as { items: { name: string }[] }).items.map((u) => u.name).sort();
};
const adminApi = async (p: string, expectStatus = 200) => {
  const res = await fetch(`${api}/admin${p}`, { headers: { Authorization: `token ${token}` } });
  const body: unknown = await res.json();
  expect(`${p} ${res.status}`).toBe(`${p} ${expectStatus}`);
  expect(checker.problems(`/admin${p.split('?')[0]}`, 'get', res.status, body)).toEqual([]);
  return body;
};

/** Marks students stuck, as a CLEANUP that gave up leaves them. */
function makeStuck(ids: number[]): void {
  const db = new Database(path.join(hub.dataDir, 'wod.sqlite'));
  try {
    db.pragma('busy_timeout = 5000');
    for (const id of ids) {
      const job = db.prepare(`INSERT INTO jobs (verb, student_id, source, state, error) VALUES ('CLEANUP', ?, 'admin', 'failed', 'test: gave up')`).run(id).lastInsertRowid;
      db.prepare(`UPDATE students SET state = 'cleanup', problem = 'test: gave up', problem_job_id = ? WHERE id = ?`).run(job, id);
    }
  } finally {
    db.close();
  }
}

test('a start with 2 000 students creates none of them on the hub or the machine; the first CREATE creates its own only', async () => {
  expect(await hubUsers()).toEqual([hub.admin.name]);
  const homes = (JSON.parse(await hub.cli('prepare', '--json')) as { config: { students: { homeRoot: string } } }).config.students.homeRoot;
  const homesThere = () => (fs.existsSync(homes) ? fs.readdirSync(homes) : []);
  expect(homesThere()).toEqual([]);
  const db = new Database(path.join(hub.dataDir, 'wod.sqlite'), { readonly: true });
  try {
    expect(db.prepare(`SELECT COUNT(*) AS n, SUM(state = 'free') AS free FROM students`).get()).toEqual({ n: COUNT, free: COUNT });
  } finally {
    db.close();
  }

  const res = await fetch(`${api}/registrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'ada@example.com', name: 'Ada Lovelace', company: 'ACME', workshop: 'WKSHP-Large', acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  await waitForMail(hub.dataDir, (m) => (m.to as { text: string }).text === 'ada@example.com' && !!m.subject?.includes('is ready'), 120_000);
  expect(await hubUsers()).toEqual([hub.admin.name, 'student1'].sort());
  expect(homesThere()).toEqual(['student1']);
}, 180_000);

test('the pool page summarises each range and lists one page, the stuck on top, with links to the next', async () => {
  makeStuck([1400, 1650]);
  const page = await admin.request('/services/wod/admin/pool');
  expect(page.status).toBe(200);
  expect(Buffer.byteLength(page.text)).toBeLessThan(96 * 1024);
  expect(page.text).toMatch(/The pool is student1 to student2000: 1997 free, 1 allocated, 2 to clean, 2 stuck/);
  expect(page.text).toMatch(/students 1–1500 \(1500\)/);
  expect(page.text).toMatch(/role="img" aria-label="1498 free, 1 allocated, 1 need cleanup, 1 stuck"/);
  expect(page.text).toMatch(/In no workshop range<\/th>\s*<td>students 1501–1600, 1701–2000 \(400\)/);
  expect(page.text).toContain('Retry CLEANUP');
  // the whole pool, 200 a page: the two stuck first, then student1 onwards
  expect(page.text).toMatch(/The whole pool, students 1–2000: 1–200 of 2000, the stuck first/);
  const seats = [...page.text.matchAll(/class="seat [^"]*"[^>]*>(student\d+)</g)].map((m) => m[1]);
  expect(seats.slice(0, 4)).toEqual(['student1400', 'student1650', 'student1', 'student2']);
  expect(seats).toHaveLength(200);
  expect(page.text).toContain('href="?page=2#students"');

  const side = await admin.request('/services/wod/admin/pool?workshop=WKSHP-Side&state=free&size=50&page=2');
  expect(side.text).toMatch(/Side, students 1601–1700, free: 51–99 of 99/);
  expect(side.text).toContain('href="?workshop=WKSHP-Side&amp;state=free&amp;size=50&amp;page=1#students"');
  expect(side.text).not.toContain('rel="next"');
  expect((await admin.request('/services/wod/admin/pool?workshop=WKSHP-Nope')).status).toBe(404);
});

test('the REST pool: a summary per workshop, and a page of a range with its total, filtered by state', async () => {
  const summary = (await adminApi('/pool/summary')) as { count: number; stuck: number; workshops: { folder: string; free: number; stuck: number }[]; outside: { size: number } };
  expect(summary).toMatchObject({ count: COUNT, stuck: 2, outside: { size: 400 } });
  expect(summary.workshops.map((w) => [w.folder, w.stuck])).toEqual([
    ['WKSHP-Large', 1],
    ['WKSHP-Side', 1],
  ]);

  const large = (await adminApi('/pool?workshop=WKSHP-Large')) as { range: number[]; total: number; limit: number; offset: number; stuck: number; students: { id: number }[] };
  expect(large).toMatchObject({ range: [1, 1500], total: 1500, limit: 500, offset: 0, stuck: 1 });
  expect(large.students).toHaveLength(500);
  expect(large.students[0].id).toBe(1400);
  const next = (await adminApi('/pool?workshop=WKSHP-Large&limit=500&offset=1000')) as { students: { id: number }[] };
  expect(next.students.map((s) => s.id).slice(0, 2)).toEqual([1000, 1001]);
  expect(next.students).toHaveLength(500);
  const stuck = (await adminApi(`/pool?first=1&last=${COUNT}&state=stuck`)) as { total: number; students: { id: number; problem: string }[] };
  expect(stuck.total).toBe(2);
  expect(stuck.students.map((s) => [s.id, s.problem])).toEqual([
    [1400, 'test: gave up'],
    [1650, 'test: gave up'],
  ]);
  // a small range is whole in one answer, as before
  expect(((await adminApi('/pool?first=1&last=5')) as { students: unknown[] }).students).toHaveLength(5);
  await adminApi('/pool?workshop=WKSHP-Large&limit=0', 422);
  await adminApi('/pool?workshop=WKSHP-Large&state=asleep', 422);
  await adminApi('/pool?first=9&last=3', 422);
  await adminApi('/pool?workshop=WKSHP-Large&first=1&last=3', 422);
});
