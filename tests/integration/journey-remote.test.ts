/**
 * The journey in remote mode, with proof that the service touches no home: it runs where the homes
 * folder is an empty tmpfs (tests/support/remote.ts), and the journey passes all the same.
 */
import fs from 'node:fs';
import path from 'node:path';
import { findProcesses } from '../../hub-service/src/lifecycle/processes';
import { journeyCases } from './journey-cases';
import { REMOTE_MODE } from '../support/remote';
import { query } from '../support/wait';

const hub = journeyCases(REMOTE_MODE);

test('the service never saw a home: its homes folder is an empty tmpfs, while the spawner wrote and wiped the real one', () => {
  const homes = path.join(hub().dataDir, 'homes');
  const service = findProcesses(hub().hubApiUrl, 'JUPYTERHUB_SERVICE_NAME=wod')[0];
  const mounts = fs.readFileSync(`/proc/${service}/mountinfo`, 'utf8').split('\n');
  expect(mounts.some((m) => m.split(' ')[4] === homes && / - tmpfs wod-no-homes /.test(m))).toBe(true);
  // what the service sees there (through its own root), and what is there
  expect(fs.readdirSync(path.join(`/proc/${service}/root`, homes))).toEqual([]);
  expect(fs.readdirSync(homes)).toEqual(expect.arrayContaining(['student1', '.runtime']));
  // the journey's CREATEs deployed through the students' servers
  const steps = query<{ output: string }>(
    hub().dataDir,
    `SELECT s.output FROM job_steps s JOIN jobs j ON j.id = s.job_id WHERE j.verb = 'CREATE' AND s.step = 'content' AND j.state = 'done'`,
  );
  expect(steps.length).toBeGreaterThan(0);
  expect(steps.every((s) => /deployed to student\d+:~\/WKSHP-/.test(s.output))).toBe(true);
  // and their CLEANUPs read the notebooks and zipped the work through them
  const archived = query<{ output: string }>(
    hub().dataDir,
    `SELECT s.output FROM job_steps s JOIN jobs j ON j.id = s.job_id WHERE j.verb = 'CLEANUP' AND s.step = 'work-archived' AND s.ok = 1`,
  );
  expect(archived.some((s) => /^work archived: [1-9]\d* file\(s\)/.test(s.output))).toBe(true);
  const cleaned = query<{ name: string }>(
    hub().dataDir,
    `SELECT s.name FROM students s WHERE s.state = 'free' AND EXISTS (SELECT 1 FROM jobs j WHERE j.student_id = s.id AND j.verb = 'CLEANUP' AND j.state = 'done')`,
  );
  expect(cleaned.length).toBeGreaterThan(0);
  // and left nothing of the participant: at most the empty checkpoints folder the server makes after each delete
  for (const { name } of cleaned) {
    const home = path.join(homes, name);
    const left = fs.readdirSync(home);
    expect(left.filter((f) => f !== '.ipynb_checkpoints')).toEqual([]);
    for (const f of left) expect(fs.readdirSync(path.join(home, f))).toEqual([]);
  }
});
