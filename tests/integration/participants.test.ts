/**
 * Participants' data against a real hub: participants register with a unique email, name, company
 * and survey comment and run their workshop to its end; the export through the API holds it all;
 * the erasure (through the API, and through `wod participants erase`) leaves none of it in the raw
 * bytes of wod.sqlite, its -wal, jupyterhub.sqlite or any outbox file, while the anonymous
 * registration still counts in the statistics and the erasure is audited. A participant whose
 * workshop runs cannot be erased, and nothing changes; an erased participant's status link opens
 * nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Sealer } from '../../hub-service/src/auth/seal';
import { statusToken } from '../../hub-service/src/registrations/status-token';
import { attack } from '../support/attacks';
import { Browser } from '../support/browser';
import { adminToken, restApi, type RunningHub, sealerOf, startHub } from '../support/hub';
import { waitForMail } from '../support/outbox';
import { query, until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const FOLDER = 'WKSHP-Forget';
let hub: RunningHub;
let token: string;
let sealer: Sealer;
const workshops = tempWorkshops();

/** Personal data unique enough that finding it in a file can only mean it is theirs. */
const person = (tag: string) => ({
  email: `${tag}.halvorsen-quimby@example.org`,
  name: `${tag[0].toUpperCase()}${tag.slice(1)} Halvorsen-Quimby`,
  company: `Quimbyworks ${tag} Ltd`,
  comment: `the ${tag} lab on marmalade graphs was splendid`,
});
const API_ONE = person('wilhelmina');
const CLI_ONE = person('ottokar');
const RUNNING = person('runa');

beforeAll(async () => {
  writeWorkshop(workshops, FOLDER, { range: [1, 4], capacity: 4, priority: 1 });
  hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000' } });
  token = await adminToken(hub);
  sealer = sealerOf(hub);
}, 240_000);
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(workshops, { recursive: true, force: true });
});

const api = (p: string, init: RequestInit = {}) => restApi(hub, token, p, init);
const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;

/** Registers, waits for the credentials, answers the survey with the comment; returns the registration and participant. */
async function registerAndAnswer(p: ReturnType<typeof person>): Promise<{ registration: number; participant: number }> {
  const res = await fetch(`${hub.url}/services/wod/api/v1/registrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: p.email, name: p.name, company: p.company, workshop: FOLDER, acceptTerms: true }),
  });
  expect(res.status).toBe(201);
  const registration = (await json<{ registration: { id: number } }>(res)).registration.id;
  await waitForMail(hub.dataDir, (m) => (m.to as { text: string }).text === p.email && !!m.subject?.includes('is ready'), 120_000);
  const answered = await fetch(`${hub.url}/services/wod/api/v1/status/${statusToken(sealer, registration)}/feedback`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ rating: 5, good: p.comment, improve: '', recommend: true }),
  });
  expect(answered.status).toBe(200);
  const participant = (await json<{ participant: { id: number } }>(api(`/admin/registrations/${registration}`))).participant.id;
  return { registration, participant };
}

/** Ends a registration through the admin API and waits until it is cleaned and every mail is out. */
async function endAndClean(registration: number): Promise<void> {
  expect((await api(`/admin/registrations/${registration}/end`, { method: 'POST' })).status).toBe(200);
  await until(
    async () => (await json<{ state: string }>(api(`/admin/registrations/${registration}`))).state,
    (s) => s === 'cleaned',
    `registration ${registration} to be cleaned`,
    120_000,
  );
  await until(
    () => query<{ n: number }>(hub.dataDir, `SELECT COUNT(*) AS n FROM mails WHERE state = 'queued'`)[0].n,
    (n) => n === 0,
    'the mails to go out',
  );
}

/** Every file the test greps: wod's database and its -wal, the hub's database, every outbox file. */
function dataFiles(): string[] {
  const outbox = path.join(hub.dataDir, 'outbox');
  return [
    ...['wod.sqlite', 'wod.sqlite-wal', 'jupyterhub.sqlite', 'jupyterhub.sqlite-wal', 'jupyterhub.sqlite-journal'].map((f) => path.join(hub.dataDir, f)),
    ...(fs.existsSync(outbox) ? fs.readdirSync(outbox).map((f) => path.join(outbox, f)) : []),
  ].filter((f) => fs.existsSync(f));
}
/** The files whose raw bytes hold the text. */
const filesHolding = (text: string) => dataFiles().filter((f) => fs.readFileSync(f).includes(Buffer.from(text)));
const traces = (p: ReturnType<typeof person>) => [p.email, p.name, p.company, p.comment];

let apiOne: { registration: number; participant: number };
let cliOne: { registration: number; participant: number };
let running: { registration: number; participant: number };

test('participants register, answer the survey and run their workshop to its end', async () => {
  [apiOne, cliOne] = await Promise.all([registerAndAnswer(API_ONE), registerAndAnswer(CLI_ONE)]);
  running = await registerAndAnswer(RUNNING);
  await Promise.all([endAndClean(apiOne.registration), endAndClean(cliOne.registration)]);
  // the grep works: before the erasure each trace is in the files, and the hub's database holds none
  for (const text of [...traces(API_ONE), ...traces(CLI_ONE)]) {
    expect([text, filesHolding(text).length > 0]).toEqual([text, true]);
    expect([text, filesHolding(text).filter((f) => f.includes('jupyterhub.sqlite'))]).toEqual([text, []]);
  }
  expect(filesHolding(API_ONE.email).some((f) => f.includes(`${path.sep}outbox${path.sep}`))).toBe(true);
}, 360_000);

test('the lookup finds a participant by email; the export is a JSON download holding all of it', async () => {
  const page = await json<{ items: { id: number; email: string; registrations: number }[]; total: number }>(
    api(`/admin/participants?email=${encodeURIComponent(API_ONE.email.toUpperCase())}`),
  );
  expect(page).toMatchObject({ total: 1, items: [{ id: apiOne.participant, email: API_ONE.email, registrations: 1 }] });

  const res = await api(`/admin/participants/${apiOne.participant}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-disposition')).toBe(`attachment; filename="participant-${apiOne.participant}.json"`);
  const x = (await res.json()) as {
    participant: { email: string; name: string; company: string };
    registrations: { id: number; state: string; workshop: { folder: string }; clientIp: string | null; completion: number | null; survey: { good: string } | null }[];
    mails: { kind: string; to: string; subject: string }[];
    audit: { action: string }[];
  };
  expect(x.participant).toMatchObject({ email: API_ONE.email, name: API_ONE.name, company: API_ONE.company });
  expect(x.registrations).toEqual([
    expect.objectContaining({
      id: apiOne.registration,
      state: 'cleaned',
      workshop: expect.objectContaining({ folder: FOLDER }),
      survey: expect.objectContaining({ good: API_ONE.comment }),
    }),
  ]);
  expect(x.registrations[0].clientIp).toBeTruthy();
  expect(x.mails.map((m) => m.kind)).toEqual(expect.arrayContaining(['welcome', 'credentials', 'thanks', 'feedback']));
  expect(x.mails.every((m) => m.to === API_ONE.email)).toBe(true);
  expect(x.audit.map((a) => a.action)).toEqual(
    expect.arrayContaining(['registration.created', 'registration.ready', 'registration.ended', 'registration.cleaned', 'registration.survey']),
  );
  expect((await api('/admin/participants/99999')).status).toBe(404);
});

test('a participant whose workshop runs cannot be erased, and nothing changes', async () => {
  const before = await json<Record<string, unknown>>(api(`/admin/participants/${running.participant}`));
  const res = await api(`/admin/participants/${running.participant}`, { method: 'DELETE' });
  expect(res.status).toBe(409);
  const body = (await res.json()) as { code: string; message: string };
  expect(body.code).toBe('participant-active');
  expect(body.message).toMatch(/end the workshop and wait until it is cleaned/);
  const after = await json<Record<string, unknown>>(api(`/admin/participants/${running.participant}`));
  expect({ ...after, exportedAt: null }).toEqual({ ...before, exportedAt: null });
  for (const text of traces(RUNNING)) expect([text, filesHolding(text).length > 0]).toEqual([text, true]);
});

test("the panel's registration page offers the export and the erasure, which asks for a confirmation and refuses a running workshop", async () => {
  const admin = new Browser(hub.url);
  await admin.hubLogin(hub.admin.name, hub.admin.password);
  const page = await admin.request(`/services/wod/admin/registrations/${running.registration}`);
  expect(page.status).toBe(200);
  expect(page.text).toContain(`href="/services/wod/api/v1/admin/participants/${running.participant}" download="participant-${running.participant}.json"`);
  const exported = await admin.request(`/services/wod/api/v1/admin/participants/${running.participant}`);
  expect(exported.status).toBe(200);
  expect(exported.text).toContain(RUNNING.comment);
  const csrf = page.text.match(/name="_csrf" value="([^"]+)"/)![1];
  const erase = (fields: Record<string, string>) =>
    admin.request(`/services/wod/admin/registrations/${running.registration}/erase-participant`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
      follow: false,
    });
  const unconfirmed = await erase({});
  expect(unconfirmed.status).toBe(422);
  expect(unconfirmed.text).toContain('Tick the box to confirm the erasure.');
  expect((await erase({ confirm: 'yes' })).status).toBe(422);
  const refused = await erase({ erase: 'yes' });
  expect(refused.status).toBe(409);
  expect(refused.text).toMatch(/cannot be erased now: registration \d+ is ready: end the workshop/);
  for (const text of traces(RUNNING)) expect([text, filesHolding(text).length > 0]).toEqual([text, true]);
});

test('erased through the API and the CLI: no trace in any file, the statistics kept, each erasure audited', async () => {
  const res = await api(`/admin/participants/${apiOne.participant}`, { method: 'DELETE' });
  expect(res.status).toBe(200);
  const erasure = (await res.json()) as { participant: number; registrations: number; mails: number; outboxFiles: number };
  expect(erasure).toMatchObject({ participant: apiOne.participant, registrations: 1 });
  expect(erasure.mails).toBeGreaterThanOrEqual(4);
  expect(erasure.outboxFiles).toBeGreaterThanOrEqual(4);
  expect(await hub.cli('participants', 'erase', CLI_ONE.email, '--yes')).toMatch(new RegExp(`participant ${cliOne.participant} erased: 1 registration`));

  for (const text of [...traces(API_ONE), ...traces(CLI_ONE)]) expect([text, filesHolding(text)]).toEqual([text, []]);
  // the participant still running is untouched
  for (const text of traces(RUNNING)) expect([text, filesHolding(text).length > 0]).toEqual([text, true]);

  // the anonymous registrations still count: in the registrations of the workshop and the survey summary
  const regs = await json<{ items: { id: number; state: string; participant: { email: string }; survey: { rating: number; good: string } | null }[] }>(
    api(`/admin/registrations?workshop=${FOLDER}&state=cleaned`),
  );
  expect(regs.items.map((r) => r.id).sort()).toEqual([apiOne.registration, cliOne.registration].sort());
  expect(regs.items.find((r) => r.id === apiOne.registration)).toMatchObject({ participant: { email: `erased:${apiOne.participant}` }, survey: { rating: 5, good: '' } });
  const surveys = await json<{ summary: { answers: number; meanRating: number } }>(api(`/admin/surveys?workshop=${FOLDER}`));
  expect(surveys.summary).toMatchObject({ answers: 3, meanRating: 5 });

  const audited = query<{ actor: string; subject_id: string; details: string }>(
    hub.dataDir,
    `SELECT actor, subject_id, details FROM audit WHERE action = 'participant.erased' ORDER BY id`,
  );
  expect(audited.map((a) => [a.actor, a.subject_id])).toEqual([
    [`admin:${hub.admin.name}`, String(apiOne.participant)],
    ['cli', String(cliOne.participant)],
  ]);
  expect(JSON.parse(audited[0].details)).toEqual(erasure);
  expect((await api(`/admin/participants/${apiOne.participant}`, { method: 'DELETE' })).status).toBe(404);
});

test("an erased participant's status link opens nothing", async () => {
  const link = statusToken(sealer, apiOne.registration);
  await attack("an erased participant's status link, on the API", async () => {
    const res = await fetch(`${hub.url}/services/wod/api/v1/status/${link}`);
    if (res.status !== 404) throw new Error(`HTTP ${res.status}`);
  });
  await attack("an erased participant's status link, on the portal", async () => {
    const res = await fetch(`${hub.url}/services/wod/status/${link}`);
    if (res.status !== 404) throw new Error(`HTTP ${res.status}`);
  });
  // the link of a participant not erased still works: the refusal is the erasure's
  expect((await fetch(`${hub.url}/services/wod/api/v1/status/${statusToken(sealer, running.registration)}`)).status).toBe(200);
});
