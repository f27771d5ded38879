/** The admin panel's pages through hub OAuth, as an admin and as someone who is not one. */
import fs from 'node:fs';
import path from 'node:path';
import { Browser } from '../support/browser';
import { type RunningHub, startHub } from '../support/hub';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
let admin: Browser;
let csrf: string;
const workshops = tempWorkshops();

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-One', { name: 'Workshop one', range: [1, 5], capacity: 5, priority: 1 });
  writeWorkshop(workshops, 'WKSHP-Two', { name: 'Workshop two', range: [6, 10], capacity: 5, priority: 2 });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_LIFECYCLE_PAUSED: 'true' } });
  admin = new Browser(hub.url);
  await admin.hubLogin('admin', hub.admin.password);
  csrf = (await admin.request('/services/wod/admin/')).text.match(/name="_csrf" value="([^"]+)"/)![1];
  for (const [email, workshop] of [['ada@example.com', 'WKSHP-One'], ['alan@example.com', 'WKSHP-Two']]) {
    await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, name: 'P', company: 'C', workshop, acceptTerms: true }),
    });
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

test('every page renders for an admin, and none for anyone else', async () => {
  const pages = ['/', '/workshops', '/registrations', '/registrations/1', '/pool', '/jobs', '/jobs/1', '/mails', '/mails/1', '/actions'];
  for (const p of pages) expect([p, (await get(p)).status]).toEqual([p, 200]);
  expect((await get('/')).text).toMatch(/running registrations/);
  const password = hub.cli('accounts', 'password', 'mallory').match(/password (\S+)/)![1];
  const other = new Browser(hub.url);
  await other.hubLogin('mallory', password);
  for (const p of pages) expect([p, (await other.request(`/services/wod/admin${p}`)).status]).toEqual([p, 403]);
});

test('workshops: edit pins the field, an impossible capacity is refused, CSRF is required, import shows problems', async () => {
  expect((await post('/workshops/WKSHP-One', { active: 'on', capacity: '3', priority: '1' })).status).toBe(303);
  const list = await get('/workshops');
  expect(list.text).toMatch(/pinned: capacity/);
  const tooMany = await post('/workshops/WKSHP-One', { active: 'on', capacity: '9', priority: '1' });
  expect(tooMany.status).toBe(422);
  expect(tooMany.text).toMatch(/capacity 9 is more than the 5 students/);
  expect((await post('/workshops/WKSHP-One', { active: 'on', capacity: '2', priority: '1' }, false)).status).toBe(403);

  fs.writeFileSync(path.join(workshops, 'WKSHP-Two', 'wod.yml'), 'name: Two\ndescription: x\ncapacity: 5\nrange: [1-5]\nactive: true\n');
  const report = await post('/workshops/import', {});
  expect(report.status).toBe(200);
  expect(report.text).toMatch(/overlaps WKSHP-One/);
  expect(report.text).toMatch(/WKSHP-Two\/wod\.yml:\d+/);
});

test('registrations: search, detail with its job, end now', async () => {
  const found = await get('/registrations?q=ada%40example.com');
  expect(found.text).toContain('ada@example.com');
  expect(found.text).not.toContain('alan@example.com');
  expect((await get('/registrations?q=student6')).text).toContain('alan@example.com');
  const detail = await get('/registrations/1');
  expect(detail.text).toMatch(/CREATE/);
  expect(detail.text).toMatch(/registration\.created/);
  const end = await post('/registrations/1/end', { confirm: 'yes' });
  expect(end.status).toBe(303);
  const after = await get('/registrations/1');
  expect(after.text).toMatch(/class="state ended"/);
  expect(after.text).toMatch(/CLEANUP/);
});

test('the pool shows allocated students linked to their registrations; actions queue jobs', async () => {
  const pool = await get('/pool');
  expect(pool.text).toMatch(/href="\/services\/wod\/admin\/registrations\/2"[^>]*>student6</);
  const action = await post('/actions', { verb: 'RESET', workshop: 'WKSHP-One', students: '3,4' });
  expect(action.status).toBe(200);
  expect(action.text).toMatch(/RESET queued as job\(s\) \d+, \d+/);
  const bad = await post('/actions', { verb: 'PURGE', workshop: 'WKSHP-One', students: '3,4' });
  expect(bad.status).toBe(422);
  expect(bad.text).toMatch(/PURGE takes one student/);
});
