/**
 * Workshops written for the original backend, unchanged (tests/fixtures/wod-original: its wod.yml
 * forms, the private overlay, the site's variables in the original's ansible layout, a templated
 * create hook writing the student's values, cleanup and reset hooks): they lint clean, deploy
 * through a real hub, and every rendered file is byte for byte what Jinja2 (as Ansible's template
 * module runs it) makes of it; everything else is copied as it is.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { contentFiles, workshopFolders } from '../../hub-service/src/catalog/folders';
import type { WodConfig } from '../../hub-service/src/config/schema';
import { deploymentFiles, resolveVariables, siteBase } from '../../hub-service/src/content/site-variables';
import type { Variables } from '../../hub-service/src/content/templating';
import { ROOT, type RunningHub, startHub } from '../support/hub';
import { query } from '../support/wait';

const site = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-original-'));
const hookLog = path.join(site, 'hooks.log');
let hub: RunningHub;
let config: WodConfig;

beforeAll(async () => {
  fs.cpSync(path.join(ROOT, 'tests', 'fixtures', 'wod-original'), site, { recursive: true });
  fs.appendFileSync(path.join(site, 'ansible-private', 'group_vars', 'production'), `HOOKLOG: ${hookLog}\n`);
  // the key of the fixture's values encrypted with ansible-vault (a test key), kept as the original kept it
  fs.writeFileSync(path.join(site, 'ansible-private', 'vault_secret'), 'wod-test-vault-password\n', { mode: 0o600 });
  hub = await startHub({
    env: {
      WOD_WORKSHOPS_DIR: path.join(site, 'notebooks'),
      WOD_WORKSHOPS_OVERLAY_DIR: path.join(site, 'private'),
      WOD_WORKSHOPS_OVERLAY_SCRIPTS_DIR: path.join(site, 'scripts'),
      WOD_WORKSHOPS_VARIABLES_DIR: path.join(site, 'ansible-private'),
      WOD_WORKSHOPS_SURVEY_URL: 'https://survey.example.org/wod',
    },
  });
  config = JSON.parse(await hub.cli('config')) as WodConfig;
});
afterAll(async () => {
  await hub?.stop();
  fs.rmSync(site, { recursive: true, force: true });
});

/** `wod action`: the order by mail, followed to its end; CREATE prints the credentials. */
const action = async (verb: string, workshop: string, student: number) => {
  const out = await hub.cli('action', verb, workshop, String(student), '--timeout', '120').catch((e: Error) => {
    throw new Error(`${e.message}\nfailed jobs: ${JSON.stringify(query(hub.dataDir, `SELECT verb, student_id, error FROM jobs WHERE state = 'failed'`))}`);
  });
  expect(out).toMatch(new RegExp(`${verb} student${student}: done`));
  return out;
};

/** Jinja2 of the students' Python, with Ansible's template settings: blocks trim their newline, the last newline stays, undefined is an error. */
function jinja2(files: string[], vars: Variables): string[] {
  const script = `
import json, sys, jinja2
job = json.load(sys.stdin)
env = jinja2.Environment(trim_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
print(json.dumps([env.from_string(open(f, encoding='utf-8').read()).render(job['vars']) for f in job['files']]))`;
  const run = spawnSync(path.join(ROOT, '.venv', 'bin', 'python'), ['-c', script], { input: JSON.stringify({ files, vars }), encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as string[];
}

/** Each file of the deployed workshop against its source: rendered ones as Jinja2 renders them, the others identical. */
function expectDeployedAsTheOriginal(folder: string, stdid: number, student: Partial<Variables> & { fromHooks?: Variables }) {
  const folders = workshopFolders(config.workshops, folder)!;
  const { fromHooks, ...own } = student;
  const vars = resolveVariables({
    ...siteBase(config),
    files: deploymentFiles(config, folders.vars, { workshop: folder, challenge: String(own.CHALLENGE ?? folder) }, stdid),
    fromHooks,
    student: { STDID: stdid, STUDENT: `student${stdid}`, WORKSHOP: folder, CHALLENGE: folder, MODEWS: 'WKSHP', ...own },
  });
  const home = path.join(hub.dataDir, 'homes', `student${stdid}`, folder);
  const { files } = contentFiles(folders);
  const rendered = files.filter((f) => f.rendered);
  const expected = jinja2(
    rendered.map((f) => f.abs),
    vars,
  );
  rendered.forEach((f, i) => expect([f.rel, fs.readFileSync(path.join(home, f.rel), 'utf8')]).toEqual([f.rel, expected[i]]));
  for (const f of files.filter((file) => !file.rendered)) expect([f.rel, fs.readFileSync(path.join(home, f.rel), 'utf8')]).toEqual([f.rel, fs.readFileSync(f.abs, 'utf8')]);
  return { home, rendered: rendered.map((f) => f.rel), copied: files.filter((f) => !f.rendered).map((f) => f.rel) };
}

test('they lint clean: warnings for what the original accepted, no error', async () => {
  const out = await hub.cli('workshops', 'lint').catch((e: Error) => e.message);
  expect(out).toMatch(/3 of 3 workshop\(s\) valid; 0 error\(s\)/);
  expect(hub.output()).toMatch(/WKSHP-API101\/wod\.yml:\d+: warning: capacity: capacity 20 is more than the 3 students of range \[1, 3\]: at most 3 seats at once/);
  expect(hub.output()).toMatch(/WKSHP-Docker101\/wod\.yml:2: warning: description: is a placeholder/);
  // the catalog: the overlay's fields override the public wod.yml; seats never more than the range
  // (in priority order: API101's 1 is the overlay's 3)
  const catalog = (await (await fetch(`${hub.url}/services/wod/api/v1/workshops`)).json()) as { items: { folder: string; seats: number }[] };
  expect(catalog.items.map((w) => [w.folder, w.seats])).toEqual([
    ['WKSHP-Docker101', 3],
    ['WKSHP-API101', 3],
    ['WKSHP-Private101', 2],
  ]);
});

test("a public workshop deploys as the original's copy_folder.yml: its templated set rendered as Jinja2 does, the rest copied", async () => {
  await action('CREATE', 'WKSHP-API101', 2);
  const { home, rendered, copied } = expectDeployedAsTheOriginal('WKSHP-API101', 2, { SURVEYURL: 'https://survey.example.org/wod' });
  expect(rendered.sort()).toEqual(['0-ReadMeFirst.ipynb', '1-WKSHP-API101-Lab.ipynb', '2-WKSHP-Conclusion.ipynb', 'Data/api.py', 'Data/env.sh', 'Data/main.tf']);
  expect(copied.sort()).toEqual(['Data/playbook.yml', 'Pictures/note.txt', 'README.md']);
  const readme = fs.readFileSync(path.join(home, '0-ReadMeFirst.ipynb'), 'utf8');
  // the backend's names mean what they meant: the site's /etc/wod.yml, group_vars, the hub's installation
  expect(readme).toContain('Welcome to the HPE Developer Community WKSHP-API101 workshop');
  expect(readme).toContain('You are **student2** on wod.example.org');
  expect(readme).toContain(fs.realpathSync(path.join(ROOT, '.venv')));
  expect(readme).toContain('A literal {{ mustache }} stays as it is.');
  expect(fs.readFileSync(path.join(home, 'Data', 'env.sh'), 'utf8')).toBe(
    '#!/bin/bash\nexport LLM101_API_KEY=sk-test-key\nexport LLM101_BASE_URL=https://llm.example.org/v1\nexport LLM101_MODEL_NAME=granite\n',
  );
  expect(fs.existsSync(path.join(home, '.ipynb_checkpoints'))).toBe(false);
});

test('challenge mode (CHLG-): MODEWS and the quiz link', async () => {
  await action('CREATE', 'CHLG-API101', 3);
  expectDeployedAsTheOriginal('WKSHP-API101', 3, { MODEWS: 'CHLG', CHALLENGE: 'CHLG-API101', SURVEYURL: 'https://survey.example.org/wod' });
  const conclusion = fs.readFileSync(path.join(hub.dataDir, 'homes', 'student3', 'WKSHP-API101', '2-WKSHP-Conclusion.ipynb'), 'utf8');
  expect(conclusion).toContain('Take the quiz: https://wod.example.org/quiz');
});

test("an appliance workshop: the templated create hook gets the original's environment and hands the student's values over; cleanup and reset hooks run", async () => {
  const out = await action('CREATE', 'WKSHP-Docker101', 8);
  const password = out.match(/password: (\S+)/)![1];
  const wid = query<{ id: number }>(hub.dataDir, `SELECT id FROM workshops WHERE folder = 'WKSHP-Docker101'`)[0].id;
  const { home } = expectDeployedAsTheOriginal('WKSHP-Docker101', 8, { PASSSTU: password, SURVEYURL: 'https://survey.example.org/wod', fromHooks: { HTTPPORT: 8008 } });
  const readme = fs.readFileSync(path.join(home, '0-ReadMeFirst.ipynb'), 'utf8');
  expect(readme).toContain('ssh student8@10.20.30.40 -p 8008');
  // a value of the site's Ansible Vault (encrypt_string), and one of a wholly encrypted file
  expect(readme).toContain('appliance user docker, token tok-8-s3cr3t');
  expect(fs.readFileSync(hookLog, 'utf8')).toContain(
    `create stdid=8 w=WKSHP-Docker101 ws=WKSHP-Docker101 wid=${wid} stddir=${path.join(hub.dataDir, 'homes', 'student8')} target=10.20.30.40 pw=16 appliance=10.20.30.40`,
  );
  // the student's values file is the hook's hand-over only: gone once deployed
  expect(fs.readdirSync(path.join(hub.dataDir, 'private', 'production', 'pass'))).toEqual([]);

  await action('CLEANUP', 'WKSHP-Docker101', 8);
  await action('RESET', 'WKSHP-Docker101', 8);
  expect(fs.readFileSync(hookLog, 'utf8')).toMatch(/cleanup stdid=8 w=WKSHP-Docker101 target=10\.20\.30\.40\nreset stdid=8 w=WKSHP-Docker101 target=10\.20\.30\.40\n/);
});

test("a workshop only in the private overlay deploys with the overlay's templated set (.tf and .env copied as they are)", async () => {
  await action('CREATE', 'WKSHP-Private101', 10);
  const { rendered, copied } = expectDeployedAsTheOriginal('WKSHP-Private101', 10, { SURVEYURL: 'https://survey.example.org/wod' });
  expect(rendered.sort()).toEqual(['0-ReadMeFirst.ipynb', 'run.sh']);
  expect(copied.sort()).toEqual(['infra.tf', 'setup.env']);
});

test('import refuses a workshop that would fail for every participant, names each problem, and keeps the last good state', async () => {
  const nb = path.join(site, 'notebooks', 'WKSHP-API101', '1-WKSHP-API101-Lab.ipynb');
  const good = fs.readFileSync(nb, 'utf8');
  fs.writeFileSync(nb, good.replace('Your API endpoint: {{ LLM101_BASE_URL }}', 'Your API endpoint: {{ LLM101_ENDPOINT }} and {{ NOPE }}'));
  try {
    const failed = await hub.cli('workshops', 'import').catch((e: Error) => e.message);
    expect(failed).toMatch(/failed \(1\)/);
    const line = good.split('\n').findIndex((l) => l.includes('Your API endpoint')) + 1;
    expect(failed).toContain(`${nb}:${line}: error: undefined variable LLM101_ENDPOINT (fix: define it in the site variables`);
    expect(failed).toContain(`${nb}:${line}: error: undefined variable NOPE`);
    expect(failed).toMatch(/WKSHP-API101: warning: not imported: WKSHP-API101 keeps its last good state \(imported .*\), still in the catalog/);
  } finally {
    fs.writeFileSync(nb, good);
  }
});
