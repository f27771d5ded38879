/**
 * More time, asked by participants, against one real hub (the reminder window is the default hour):
 * from the lab (POST /me/extend with the JupyterLab page's token) and from the status page (its API
 * and its form). A 30-minute workshop is inside the window at once; a 2-hour one is too early. Each
 * grant moves the deadline as the admin API shows it, each refusal says why and changes nothing.
 */
import fs from 'node:fs';
import { Sealer } from '../../hub-service/src/auth/seal';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { Browser, labConfig } from '../support/browser';
import { adminToken, restApi, type RunningHub, sealerOf, startHub } from '../support/hub';
import { attack } from '../support/attacks';
import { credentialsIn, waitForMail } from '../support/outbox';
import { query } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

let hub: RunningHub;
let admin: string;
let sealer: Sealer;
const workshops = tempWorkshops();
const EXTEND = { minutes: 30, times: 1 };

beforeAll(async () => {
  writeWorkshop(workshops, 'WKSHP-Short', { range: [1, 2], capacity: 2, duration: 0.5, extend: EXTEND });
  writeWorkshop(workshops, 'WKSHP-Long', { range: [3, 3], capacity: 1, duration: 2, extend: EXTEND });
  writeWorkshop(workshops, 'WKSHP-Fixed', { range: [4, 4], capacity: 1, duration: 0.5 });
  writeWorkshop(workshops, 'WKSHP-Full', { range: [5, 5], capacity: 1, duration: 0.5, extend: EXTEND });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000', WOD_STUDENTS_COUNT: '6' } });
  admin = await adminToken(hub);
  sealer = sealerOf(hub);
}, 240_000);
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const api = (p: string, init: RequestInit = {}) => restApi(hub, admin, p, init);
const json = async <T>(res: Response | Promise<Response>) => (await (await res).json()) as T;

interface Ready {
  id: number;
  /** the status page's signed token */
  token: string;
  /** the JupyterLab page's hub token */
  lab: string;
}

/** Registers `email` for `workshop`, waits for its credentials, logs in to its JupyterLab. */
async function ready(email: string, workshop: string): Promise<Ready> {
  const res = await api('/registrations', { method: 'POST', body: JSON.stringify({ email, name: 'Time Person', company: 'ACME', workshop, acceptTerms: true }) });
  expect(res.status).toBe(201);
  const id = (await json<{ registration: { id: number } }>(res)).registration.id;
  const mail = await waitForMail(hub.dataDir, (m) => (m.to as { text: string }).text === email && !!m.subject?.includes('is ready'), 120_000);
  const creds = credentialsIn(mail);
  const lab = labConfig<{ token: string }>(await new Browser(hub.url).hubLogin(creds.student, creds.password)).token;
  return { id, token: statusToken(sealer, id), lab };
}

const deadline = async (id: number) => (await json<{ deadlineAt: string }>(api(`/admin/registrations/${id}`))).deadlineAt;
const meExtend = (r: Ready) => restApi(hub, r.lab, '/me/extend', { method: 'POST' });
const statusExtend = (r: Ready) => fetch(`${hub.url}/services/wod/api/v1/status/${r.token}/extend`, { method: 'POST' });
const refusal = async (res: Response) => ({ status: res.status, ...(await json<{ code: string; message: string }>(res)) });
const extendedBy = (before: string, after: string) => (Date.parse(after) - Date.parse(before)) / 60_000;
/** The participant's own extension entries in the audit log. */
const audited = (id: number) =>
  query<{ actor: string }>(hub.dataDir, `SELECT actor FROM audit WHERE action = 'registration.extended' AND subject_id = ?`, String(id)).map((a) => a.actor);

test('from the lab: too early is refused; in the last minutes granted once, the deadline moved by 30 min; again refused', async () => {
  const long = await ready('long@example.com', 'WKSHP-Long');
  const me = await json<{ extension: { possible: boolean; code: string } }>(restApi(hub, long.lab, '/me'));
  expect(me.extension).toEqual({ possible: false, minutes: 30, code: 'too-early', reason: 'too early: ask in the last 60 minutes' });
  const longBefore = await deadline(long.id);
  expect(await refusal(await meExtend(long))).toEqual({ status: 409, code: 'too-early', message: 'too early: ask in the last 60 minutes' });
  expect(await deadline(long.id)).toBe(longBefore);

  const short = await ready('short@example.com', 'WKSHP-Short');
  expect((await json<{ extension: { possible: boolean } }>(restApi(hub, short.lab, '/me'))).extension).toEqual({ possible: true, minutes: 30, code: null, reason: null });
  const before = await deadline(short.id);
  await attack('asking for more time with a tampered status link', async () => {
    const last = short.token.slice(-1);
    const res = await statusExtend({ ...short, token: `${short.token.slice(0, -1)}${last === 'A' ? 'B' : 'A'}` });
    expect(res.status).toBe(404);
    expect(await deadline(short.id)).toBe(before);
  });
  // two asks at once for a workshop that allows one: the rule and the grant are one transaction
  let res!: Response;
  await attack('two extensions asked at once, past `times: 1`', async () => {
    const both = await Promise.all([meExtend(short), meExtend(short)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    res = both.find((r) => r.status === 200)!;
  });
  const granted = await json<{ deadlineAt: string; extension: { possible: boolean; code: string } }>(res);
  expect(extendedBy(before, granted.deadlineAt)).toBe(30);
  expect(await deadline(short.id)).toBe(granted.deadlineAt);
  expect(granted.extension).toMatchObject({ possible: false, code: 'already-extended' });
  expect(audited(short.id)).toEqual(['participant:short@example.com']);

  expect(await refusal(await meExtend(short))).toEqual({ status: 409, code: 'already-extended', message: 'you already had more time once; this workshop allows it once' });
  expect(await refusal(await statusExtend(short))).toMatchObject({ status: 409, code: 'already-extended' });
  expect(await deadline(short.id)).toBe(granted.deadlineAt);
  expect(audited(short.id)).toHaveLength(1);
}, 300_000);

test('a workshop without extend: refused, from the lab and from the status API', async () => {
  const fixed = await ready('fixed@example.com', 'WKSHP-Fixed');
  const status = await json<{ extension: unknown }>(fetch(`${hub.url}/services/wod/api/v1/status/${fixed.token}`));
  expect(status.extension).toEqual({ possible: false, minutes: null, code: 'not-allowed', reason: 'this workshop does not allow more time' });
  const before = await deadline(fixed.id);
  for (const res of [await meExtend(fixed), await statusExtend(fixed)]) expect(await refusal(res)).toMatchObject({ status: 409, code: 'not-allowed' });
  expect(await deadline(fixed.id)).toBe(before);
  // the status page offers no button, and says nothing of more time
  const page = await new Browser(hub.url).request(`/services/wod/status/${fixed.token}`);
  expect(page.text).not.toContain('/extend"');
  expect(page.text).not.toContain('More time');
}, 300_000);

test('the seat is needed: a full workshop with a class expected now is refused; once the event is cancelled, the status page grants it', async () => {
  const full = await ready('full@example.com', 'WKSHP-Full');
  const now = Date.now();
  const event = await api('/admin/warm/events', {
    method: 'POST',
    body: JSON.stringify({ workshop: 'WKSHP-Full', seats: 1, startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(now + 3_600_000).toISOString() }),
  });
  expect(event.status).toBe(201);
  const before = await deadline(full.id);
  const status = await json<{ extension: unknown }>(fetch(`${hub.url}/services/wod/api/v1/status/${full.token}`));
  expect(status.extension).toEqual({ possible: false, minutes: 30, code: 'seat-needed', reason: 'the seat is needed: people are waiting for this workshop' });
  expect(await refusal(await meExtend(full))).toMatchObject({ status: 409, code: 'seat-needed' });

  // the status page: no button, the reason; its form refused with the reason too
  const browser = new Browser(hub.url);
  const page = await browser.request(`/services/wod/status/${full.token}`);
  expect(page.text).not.toContain(`status/${full.token}/extend`);
  expect(page.text).toContain('More time: not now, the seat is needed: people are waiting for this workshop.');
  const form = { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '', follow: false };
  const refused = await browser.request(`/services/wod/status/${full.token}/extend`, form);
  expect(refused.status).toBe(409);
  expect(refused.text).toContain('No more time: the seat is needed: people are waiting for this workshop.');
  expect(await deadline(full.id)).toBe(before);

  // nobody is expected any more: the page shows the button, its form grants 30 minutes
  const { id } = await json<{ id: number }>(event);
  expect((await api(`/admin/warm/events/${id}`, { method: 'DELETE' })).status).toBe(204);
  const offered = await browser.request(`/services/wod/status/${full.token}`);
  expect(offered.text).toContain(`action="/services/wod/status/${full.token}/extend"`);
  expect(offered.text).toContain('Ask for 30 more minutes');
  const granted = await browser.request(`/services/wod/status/${full.token}/extend`, form);
  expect(granted.status).toBe(303);
  const after = await deadline(full.id);
  expect(extendedBy(before, after)).toBe(30);
  const shown = await browser.request(`/services/wod/status/${full.token}?extended=1`);
  expect(shown.text).toContain('You have more time: your workshop now ends at');
  expect(shown.text).toContain(`datetime="${after}"`);
  expect(audited(full.id)).toEqual(['participant:full@example.com']);
}, 300_000);
