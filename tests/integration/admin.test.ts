/**
 * The admin panel's pages against a real hub, through hub OAuth: every page as an admin and as
 * someone who is not one; workshops (edit with pins, refusals, CSRF, import now with its problems);
 * registrations (search, detail with jobs and audit trail, end now); the student pool.
 * The lifecycle is paused, so registrations stay where the tests put them.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Browser, type Page } from '../support/browser';
import { type RunningHub, startHub } from '../support/hub';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
let admin: Browser;
let csrf: string;
const workshops = tempWorkshops();
const ids: Record<string, number> = {};

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-One', { name: 'Workshop one', range: [1, 5], capacity: 5, priority: 1 });
  writeWorkshop(workshops, 'WKSHP-Two', { name: 'Workshop two', range: [6, 10], capacity: 5, priority: 2 });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_LIFECYCLE_PAUSED: 'true', WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  admin = new Browser(hub.url);
  await admin.hubLogin('admin', hub.admin.password);
  csrf = (await admin.request('/services/wod/admin/')).text.match(/name="_csrf" value="([^"]+)"/)![1];
  for (const [email, name, workshop] of [
    ['ada@example.com', 'Ada Lovelace', 'WKSHP-One'],
    ['alan@example.com', 'Alan Turing', 'WKSHP-Two'],
  ]) {
    const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, name, company: 'Example & <Co>', workshop, acceptTerms: true }),
    });
    expect(res.status).toBe(201);
    ids[email] = ((await res.json()) as { registration: { id: number } }).registration.id;
  }
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const get = (p: string) => admin.request(`/services/wod/admin${p}`);
const post = (p: string, fields: Record<string, string>, withCsrf = true) =>
  admin.request(`/services/wod/admin${p}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, ...(withCsrf ? { _csrf: csrf } : {}) }).toString(),
    follow: false,
  });
/** The table row of one workshop on the workshops page. */
const row = (page: Page, folder: string) => page.text.match(new RegExp(`<tr[^>]*id="w-${folder}"[\\s\\S]*?</tr>`))![0];
const inputValue = (html: string, name: string) => html.match(new RegExp(`name="${name}"[^>]*value="([^"]*)"`))![1];

describe('every page', () => {
  test('renders for an admin, with the layout, its navigation and its content', async () => {
    const expected: Record<string, RegExp[]> = {
      '/': [/data-testid="admin-user">admin</, /running registrations/, /free seats/, /students allocated/, /JupyterHub version/],
      '/workshops': [/Workshop one/, /WKSHP-Two/, /Import now/],
      '/registrations': [/ada@example\.com/, /alan@example\.com/, /2 registrations/],
      [`/registrations/${ids['ada@example.com']}`]: [/Ada Lovelace/, /Audit trail/],
      '/surveys': [/No answer yet/, /mean rating/],
      '/pool': [/Workshop one/, /Workshop two/, /In no workshop range/, /needs cleanup/],
      '/jobs': [/CREATE/],
      '/jobs/1': [/CREATE/],
      '/mails': [/welcome/],
      '/mails/1': [/ada@example\.com/],
      '/actions': [/RESET/],
    };
    for (const [p, patterns] of Object.entries(expected)) {
      const page = await get(p);
      expect([p, page.status]).toEqual([p, 200]);
      for (const pattern of patterns) expect([p, page.text]).toEqual([p, expect.stringMatching(pattern)]);
      expect(page.text).toMatch(/<nav aria-label="Admin">/);
      for (const link of ['admin/workshops', 'admin/registrations', 'admin/surveys', 'admin/pool', 'api/v1/docs']) expect(page.text).toContain(`href="/services/wod/${link}"`);
      expect(page.text).toContain('action="/services/wod/admin/logout"');
    }
  });

  test('escapes what participants typed', async () => {
    const list = await get('/registrations');
    expect(list.text).toContain('Example &amp; &lt;Co&gt;');
    expect(list.text).not.toContain('<Co>');
  });

  test('answers 404 for unknown or malformed ids and folders', async () => {
    for (const p of ['/registrations/999', '/registrations/abc', '/registrations/0', '/registrations/-1', '/jobs/999', '/mails/x']) {
      const page = await get(p);
      expect([p, page.status]).toEqual([p, 404]);
      expect(page.text).toMatch(/There is no/);
    }
    expect((await post('/workshops/WKSHP-Nope', { capacity: '1', priority: '1' })).status).toBe(404);
    expect((await post('/workshops/not..a%20folder', { capacity: '1', priority: '1' })).status).toBe(404);
    expect((await post('/registrations/abc/end', { confirm: 'yes' })).status).toBe(404);
    expect((await post('/registrations/999/end', { confirm: 'yes' })).status).toBe(404);
  });

  test('is refused (403) to a logged-in hub user who is not a wod admin, GET and POST alike', async () => {
    const password = (await hub.cli('accounts', 'password', 'bob')).match(/password (\S+)/)![1];
    const bob = new Browser(hub.url);
    await bob.hubLogin('bob', password);
    const pages = ['/', '/workshops', '/registrations', `/registrations/${ids['ada@example.com']}`, '/surveys', '/pool', '/jobs', '/jobs/1', '/mails', '/mails/1', '/actions'];
    for (const p of pages) {
      const page = await bob.request(`/services/wod/admin${p}`);
      expect([p, page.status]).toEqual([p, 403]);
      expect(page.text).toContain('Not an administrator');
    }
    const form = { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, follow: false };
    expect((await bob.request('/services/wod/admin/workshops/import', { ...form, body: '' })).status).toBe(403);
    expect((await bob.request('/services/wod/admin/workshops/WKSHP-One', { ...form, body: 'capacity=1&priority=1' })).status).toBe(403);
  });
});

describe('workshops', () => {
  test('lists every workshop with its source, range, seats and an edit form carrying the CSRF token', async () => {
    const page = await get('/workshops');
    const one = row(page, 'WKSHP-One');
    expect(one).toMatch(/Workshop one/);
    expect(one).toMatch(/public/);
    expect(one).toMatch(/1–5/);
    expect(one).toContain(`name="_csrf" value="${csrf}"`);
    expect(one).toMatch(
      /<label for="capacity-WKSHP-One" class="visually-hidden">WKSHP-One capacity<\/label>\s*<input type="number" id="capacity-WKSHP-One" form="edit-WKSHP-One" name="capacity"/,
    );
    expect(one).toMatch(/<form method="post" action="\/services\/wod\/admin\/workshops\/WKSHP-One" id="edit-WKSHP-One">/);
    expect(inputValue(one, 'capacity')).toBe('5');
    expect(one).not.toMatch(/class="pin"/);
  });

  test('an edit saves only what changed, pins it, and redirects back with a notice', async () => {
    const saved = await post('/workshops/WKSHP-One', { active: 'on', capacity: '3', priority: '1' });
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe('/services/wod/admin/workshops?saved=WKSHP-One#w-WKSHP-One');
    const page = await get('/workshops?saved=WKSHP-One');
    expect(page.text).toMatch(/WKSHP-One saved\./);
    const one = row(page, 'WKSHP-One');
    expect(inputValue(one, 'capacity')).toBe('3');
    expect(one).toMatch(/name="capacity"[^>]*><span class="pin"[^>]*>pinned</);
    expect(one.match(/class="pin"/g)).toHaveLength(1); // active and priority were not changed, so not pinned
    // The public catalog sees the new capacity: 3 seats, one of them taken.
    const { items } = (await (await fetch(`${hub.url}/services/wod/api/v1/workshops`)).json()) as { items: { folder: string; seats: number }[] };
    expect(items.find((w) => w.folder === 'WKSHP-One')!.seats).toBe(2);
  });

  test('an impossible or malformed value is refused with 422 next to its row, and changes nothing', async () => {
    for (const [capacity, message] of [
      ['9', /capacity 9 is more than the 5 students of range \[1, 5\]/],
      ['', /capacity: give a whole number from 0 to 5/],
      ['two', /capacity: give a whole number from 0 to 5/],
      ['2.5', /capacity: give a whole number from 0 to 5/],
      ['-1', /capacity: give a whole number from 0 to 5/],
    ] as const) {
      const refused = await post('/workshops/WKSHP-One', { active: 'on', capacity, priority: '1' });
      expect([capacity, refused.status]).toEqual([capacity, 422]);
      const one = row(refused, 'WKSHP-One');
      expect(one).toMatch(/class="field-error"/);
      expect(one).toMatch(message);
      expect(inputValue(one, 'capacity')).toBe(capacity); // what was typed stays in the form
      expect(row(refused, 'WKSHP-Two')).not.toMatch(/field-error/);
    }
    const badPriority = await post('/workshops/WKSHP-One', { active: 'on', capacity: '2', priority: 'high' });
    expect(badPriority.status).toBe(422);
    expect(row(badPriority, 'WKSHP-One')).toMatch(/priority: give a whole number/);
    const page = await get('/workshops');
    expect(inputValue(row(page, 'WKSHP-One'), 'capacity')).toBe('3');
    expect(inputValue(row(page, 'WKSHP-One'), 'priority')).toBe('1');
  });

  test('a form without the CSRF token of the session is refused and changes nothing', async () => {
    expect((await post('/workshops/WKSHP-One', { active: 'on', capacity: '2', priority: '1' }, false)).status).toBe(403);
    expect((await post('/workshops/WKSHP-One', { active: 'on', capacity: '2', priority: '1', _csrf: 'forged' }, false)).status).toBe(403);
    expect((await post('/workshops/import', {}, false)).status).toBe(403);
    expect(inputValue(row(await get('/workshops'), 'WKSHP-One'), 'capacity')).toBe('3');
  });

  test('import now shows the problems of a broken folder; the other workshop and the pins stay', async () => {
    const clean = await post('/workshops/import', {});
    expect(clean.status).toBe(200);
    expect(clean.text).toMatch(/Imported without any problem/);
    expect(clean.text).toMatch(/No problem found/);

    fs.writeFileSync(path.join(workshops, 'WKSHP-Two', 'wod.yml'), 'name: Two\ndescription: x\ncapacity: 5\nrange: [1-\nactive: true\n');
    const report = await post('/workshops/import', {});
    expect(report.status).toBe(200);
    expect(report.text).toMatch(/Import report/);
    expect(report.text).toMatch(/Imported, with 1 error and 1 warning: see the report below/);
    expect(report.text).toMatch(/not imported: WKSHP-Two keeps its last good state/);
    expect(report.text).toMatch(/<tr class="problem error">[\s\S]*?WKSHP-Two\/wod\.yml:\d+/);
    expect(report.text).toMatch(/<dt>Unchanged<\/dt><dd><code>WKSHP-One<\/code>/);
    expect(report.text).toMatch(/<dt>Kept as it was<\/dt><dd><code>WKSHP-Two<\/code>/);
    const one = row(report, 'WKSHP-One');
    expect(one).toMatch(/name="active" value="on" checked/);
    expect(inputValue(one, 'capacity')).toBe('3'); // pinned: wod.yml says 5
    expect(row(report, 'WKSHP-Two')).not.toMatch(/folder removed/);
  });
});

describe('registrations', () => {
  test('search finds a registration by email, name, company, student name or id, and filters by state and workshop', async () => {
    const ada = ids['ada@example.com'];
    const byEmail = await get('/registrations?q=ada%40example.com');
    expect(byEmail.text).toContain('ada@example.com');
    expect(byEmail.text).not.toContain('alan@example.com');
    expect(byEmail.text).toMatch(/1 registration found/);
    expect(byEmail.text).toContain(`href="/services/wod/admin/registrations/${ada}"`);
    expect((await get('/registrations?q=Turing')).text).toContain('alan@example.com');
    const byStudent = await get('/registrations?q=student6');
    expect(byStudent.text).toContain('alan@example.com');
    expect(byStudent.text).not.toContain('ada@example.com');
    expect((await get(`/registrations?q=${ada}`)).text).toContain('ada@example.com');
    const byWorkshop = await get('/registrations?workshop=WKSHP-Two');
    expect(byWorkshop.text).toContain('alan@example.com');
    expect(byWorkshop.text).not.toContain('ada@example.com');
    expect(byWorkshop.text).toMatch(/<option selected>WKSHP-Two<\/option>/);
    expect((await get('/registrations?state=cleaned')).text).toMatch(/No registration matches/);
    expect((await get('/registrations?state=bogus')).status).toBe(422);
  });

  test('the detail page shows the participant, the CREATE job and the audit trail', async () => {
    const detail = await get(`/registrations/${ids['ada@example.com']}`);
    expect(detail.status).toBe(200);
    expect(detail.text).toMatch(/Ada Lovelace &lt;ada@example\.com&gt;/);
    expect(detail.text).toMatch(/student1/);
    expect(detail.text).toMatch(/Job \d+<\/a>: CREATE student1 <span class="state queued">queued<\/span>/);
    expect(detail.text).toMatch(/registration\.created/);
    expect(detail.text).toMatch(/name="confirm" value="yes"/);
  });

  test("the detail page shows each job's steps, their output escaped and folded", async () => {
    const id = ids['alan@example.com'];
    // The lifecycle is paused: write the step a running engine would have logged.
    const db = new Database(path.join(hub.dataDir, 'wod.sqlite'));
    try {
      const job = db.prepare(`SELECT id FROM jobs WHERE registration_id = ? AND verb = 'CREATE'`).get(id) as { id: number };
      db.prepare(`INSERT INTO job_steps (job_id, step, attempt, started_at, finished_at, ok, output) VALUES (?, 'account', 1, ?, ?, 0, ?)`).run(
        job.id,
        '2030-01-01T10:00:00.000Z',
        '2030-01-01T10:00:01.500Z',
        'hub said no\n<script>alert(1)</script>',
      );
    } finally {
      db.close();
    }
    const detail = await get(`/registrations/${id}`);
    expect(detail.text).toMatch(/<summary>1 step<\/summary>/);
    expect(detail.text).toMatch(/<td>account<\/td><td class="num">1<\/td><td>2030-01-01 10:00:00\.000<\/td><td>2030-01-01 10:00:01\.500<\/td>/);
    expect(detail.text).toMatch(/<span class="state failed">failed<\/span>/);
    expect(detail.text).toMatch(/<details><summary>hub said no<\/summary><pre>hub said no\n&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/pre><\/details>/);
    expect(detail.text).not.toContain('<script>alert(1)');
  });

  test('end now needs the box ticked, then ends it and queues a CLEANUP; a second end is refused', async () => {
    const id = ids['ada@example.com'];
    const unticked = await post(`/registrations/${id}/end`, {});
    expect(unticked.status).toBe(422);
    expect(unticked.text).toMatch(/Tick the box to confirm/);
    expect(unticked.text).toMatch(/class="state registered"/);

    const end = await post(`/registrations/${id}/end`, { confirm: 'yes' });
    expect(end.status).toBe(303);
    expect(end.headers.get('location')).toBe(`/services/wod/admin/registrations/${id}?ended=1`);
    const after = await get(`/registrations/${id}?ended=1`);
    expect(after.text).toMatch(/<h1>Registration \d+ <span class="state ended">ended<\/span>/);
    expect(after.text).toMatch(/Job \d+<\/a>: CLEANUP student1/);
    expect(after.text).toMatch(/registration\.ended/);
    expect(after.text).toMatch(/admin:admin/);
    expect(after.text).not.toMatch(/name="confirm"/);

    const again = await post(`/registrations/${id}/end`, { confirm: 'yes' });
    expect(again.status).toBe(409);
    expect(again.text).toMatch(/has already ended/);
  });
});

describe('student pool', () => {
  test('shows each range with its counts and bar, and an allocated student linked to its registration', async () => {
    const pool = await get('/pool');
    expect(pool.status).toBe(200);
    const alan = ids['alan@example.com'];
    expect(pool.text).toMatch(
      new RegExp(
        `<a class="seat allocated" href="/services/wod/admin/registrations/${alan}"[^>]*>student6<span class="visually-hidden">: allocated, registration ${alan}</span></a>`,
      ),
    );
    expect(pool.text).toMatch(/<span class="seat free"[^>]*>student7<span class="visually-hidden">: free<\/span>/);
    expect(pool.text).toMatch(/role="img" aria-label="4 free, 1 allocated, 0 need cleanup"/);
    // Ada's ended registration still holds student1 until its CLEANUP runs (the lifecycle is paused).
    expect(pool.text).toMatch(/>student1<span class="visually-hidden">: allocated/);
    // 100 students, ranges 1-10: the other 90 in one summary.
    expect(pool.text).toMatch(/students 11–100 \(90\)/);
  });

  test('actions queue jobs; an impossible one is refused', async () => {
    const action = await post('/actions', { verb: 'RESET', workshop: 'WKSHP-One', students: '3,4' });
    expect(action.status).toBe(200);
    expect(action.text).toMatch(/RESET queued as job\(s\) \d+, \d+/);
    const bad = await post('/actions', { verb: 'PURGE', workshop: 'WKSHP-One', students: '3,4' });
    expect(bad.status).toBe(422);
    expect(bad.text).toMatch(/PURGE takes one student/);
  });
});
