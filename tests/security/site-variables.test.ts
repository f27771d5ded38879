/**
 * The original's secrets paths, against a real hub: the site's variables (a token the operator
 * vaulted), the templated create hook wod renders with them, and the per-student values the hook
 * hands over in its pass file. While the hook runs (it waits for the attacks to finish), a
 * participant's account tries to read each of them; after the CREATE, none is left anywhere a
 * participant can read, and no log holds them.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureLocalAccount, type Ids } from '../../hub-service/src/isolation/student-side';
import { attack } from '../support/attacks';
import { type RunningHub, startHub } from '../support/hub';
import { until } from '../support/wait';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const asRoot = process.getuid?.() === 0;
let hub: RunningHub;
let student: Ids;
const workshops = tempWorkshops();
const site = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-site-sec-'));
const scripts = path.join(site, 'scripts');
const variables = path.join(site, 'ansible');
/** the site's token, rendered into the create hook */
const siteToken = `site-${crypto.randomBytes(8).toString('hex')}`;
/** the student's token the hook hands over */
const handedOver = `tok-${crypto.randomBytes(8).toString('hex')}`;
const gate = path.join(site, 'attacks-done');
const running = path.join(site, 'hook-running');

/** As the participant's account: the command's exit status and what it printed. */
const asStudent = (...cmd: string[]) => spawnSync('setpriv', [`--reuid=${student.uid}`, `--regid=${student.gid}`, '--clear-groups', '--', ...cmd], { encoding: 'utf8' });

(asRoot ? describe : describe.skip)("the original's site variables, rendered hooks and hand-overs", () => {
  beforeAll(async () => {
    student = ensureLocalAccount('wod-student');
    fs.mkdirSync(scripts);
    fs.mkdirSync(path.join(variables, 'group_vars'), { recursive: true });
    fs.writeFileSync(path.join(variables, 'group_vars', 'all.yml'), `SITE_TOKEN: ${siteToken}\n`, { mode: 0o600 });
    const dir = writeWorkshop(workshops, 'WKSHP-Tok', { range: [1, 2], capacity: 2 });
    fs.writeFileSync(
      path.join(dir, '0-ReadMeFirst.ipynb'),
      JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'markdown', id: 'm', metadata: {}, source: 'your token {{ APPTOK }}' }] }),
    );
    // the hook holds the site's token once rendered, writes the student's, then waits for the attacks
    fs.writeFileSync(
      path.join(scripts, 'create-WKSHP-Tok.sh.j2'),
      `#!/bin/sh\n: {{ SITE_TOKEN }}\necho "APPTOK: ${handedOver}" > "$WOD_PASS_FILE"\ndirname "$0" > ${running}\nfor i in $(seq 300); do [ -e ${gate} ] && exit 0; sleep 0.1; done\nexit 1\n`,
    );
    hub = await startHub({ env: { WOD_WORKSHOPS_DIR: workshops, WOD_WORKSHOPS_OVERLAY_SCRIPTS_DIR: scripts, WOD_WORKSHOPS_VARIABLES_DIR: variables } });
  });
  afterAll(async () => {
    await hub?.stop();
    fs.rmSync(workshops, { recursive: true, force: true });
    fs.rmSync(site, { recursive: true, force: true });
  });

  test('a participant reads none of them, while the hook runs or after', async () => {
    const create = hub.cli('action', 'CREATE', 'WKSHP-Tok', '1', '--timeout', '120');
    const hookDir = await until(
      () => (fs.existsSync(running) ? fs.readFileSync(running, 'utf8').trim() : ''),
      (d) => d !== '',
      'the create hook to run',
    );
    const passFile = path.join(hub.dataDir, 'private', 'production', 'pass', 'variables_WKSHP-Tok_1.yml');
    expect(fs.readFileSync(passFile, 'utf8')).toContain(handedOver); // the hand-over is there, for the attacks to aim at
    try {
      await attack("a participant reads the student's values a create hook handed over (the original's pass file)", () => {
        const read = asStudent('cat', passFile);
        expect([read.status === 0, read.stdout.includes(handedOver)]).toEqual([false, false]);
        expect(asStudent('ls', path.dirname(passFile)).status).not.toBe(0);
      });
      await attack("a participant reads the rendered create hook, which holds the site's token", () => {
        const rendered = path.join(hookDir, 'create-WKSHP-Tok.sh');
        expect(fs.readFileSync(rendered, 'utf8')).toContain(siteToken);
        expect(asStudent('cat', rendered).status).not.toBe(0);
        expect(asStudent('grep', '-rlsF', siteToken, os.tmpdir(), hub.dataDir).stdout).toBe('');
      });
    } finally {
      fs.writeFileSync(gate, '');
    }
    expect(await create).toMatch(/CREATE student1: done/);
    await attack("the site's token or the handed-over token left in a log, the database or a file a participant can read", () => {
      expect(hub.output()).not.toContain(siteToken);
      expect(asStudent('grep', '-rlsF', siteToken, os.tmpdir(), hub.dataDir, workshops).stdout).toBe('');
      expect(fs.existsSync(passFile)).toBe(false);
      expect(fs.existsSync(hookDir)).toBe(false);
    });
    // ...while the student's own notebook has their token, as it should
    expect(fs.readFileSync(path.join(hub.dataDir, 'homes', 'student1', 'WKSHP-Tok', '0-ReadMeFirst.ipynb'), 'utf8')).toContain(`your token ${handedOver}`);
  });
});
