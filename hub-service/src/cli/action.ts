/**
 * `wod action <CREATE|CLEANUP|RESET|PURGE> <WKSHP-X> <stdid|min,max>`: the original's
 * wod-test-action.sh. Sends real mail orders to the mail API, logged in with SMTP AUTH (the
 * password from the data folder's secrets, so only wod's operator can), or, with --direct, stores
 * the jobs itself; then follows the jobs step by step and, for CREATE, prints the credentials.
 */
import fs from 'node:fs';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { dataPaths } from '../config/paths.js';
import type { WodConfig } from '../config/schema.js';
import { finishedSteps, type JobView, jobsById } from '../jobs/queries.js';
import type { Verb } from '../jobs/store.js';
import { readMailApiPassword } from '../mail-in/access.js';
import { placeAction } from '../registrations/order-desk.js';
import { orderSubjects } from '../mail-in/orders.js';
import { outboxFile } from '../mail-out/transport.js';
import { openDatabase } from '../store/db.js';

const say = (line: string) => process.stdout.write(line + '\n');

export interface ActionOptions {
  direct?: boolean;
  timeout: number;
}

/** Where a client of this host reaches the mail API: a wildcard listening address means loopback. */
export function mailApiClientHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

async function send(config: WodConfig, subjects: string[], workshop: string): Promise<number[]> {
  const host = mailApiClientHost(config.mailApi.host);
  const { password } = readMailApiPassword(dataPaths(config).mailApiPassword);
  const transport = nodemailer.createTransport({
    host,
    port: config.mailApi.port,
    ignoreTLS: true,
    auth: { user: config.mailApi.authUser, pass: password },
  });
  const jobs: number[] = [];
  for (const subject of subjects) {
    say(`→ mail order "${subject}" / ${workshop} to ${host}:${config.mailApi.port} as ${config.mailApi.authUser}`);
    const info = await transport.sendMail({ from: config.mailApi.senders[0] ?? config.mail.operatorAddress, to: 'wod@localhost', subject, text: `${workshop}\n` });
    say(`  ${info.response}`);
    jobs.push(
      ...(info.response
        .match(/jobs ([\d, ]+)/)?.[1]
        .split(',')
        .map(Number) ?? []),
    );
  }
  return jobs;
}

export async function action(config: WodConfig, verb: Verb, workshop: string, students: string, opts: ActionOptions): Promise<number> {
  const subjects = orderSubjects(verb, students, config.mail.operatorAddress);
  const db = openDatabase(dataPaths(config).database);
  try {
    let jobs: number[];
    if (opts.direct) {
      jobs = placeAction(db, { verb, workshop, students }, config.mail.operatorAddress, config.students.count, 'cli');
      say(`→ stored ${subjects.map((s) => `"${s}"`).join(', ')} / ${workshop} as job(s) ${jobs.join(', ')}`);
    } else {
      jobs = await send(config, subjects, workshop);
    }
    return await follow(db, config, jobs, opts.timeout);
  } finally {
    db.close();
  }
}

/** Prints each step as the service runs it, until every job is done or failed. */
async function follow(db: ReturnType<typeof openDatabase>, config: WodConfig, jobs: number[], timeoutS: number): Promise<number> {
  const printed = new Set<number>();
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    for (const s of finishedSteps(db, jobs).filter((x) => !printed.has(x.id))) {
      printed.add(s.id);
      const ms = Date.parse(s.finishedAt) - Date.parse(s.startedAt);
      say(`  ${s.student} ${s.ok ? '✓' : '✗'} ${s.step} (${(ms / 1000).toFixed(1)} s)`);
    }
    const rows = jobsById(db, jobs);
    if (rows.every((r) => r.state === 'done' || r.state === 'failed')) {
      for (const r of rows) {
        say(`${r.verb} ${r.student}: ${r.state}${r.error ? ` (${r.error.split('\n')[0]})` : ''}`);
        if (r.verb === 'CREATE' && r.state === 'done') await printCredentials(config, r);
      }
      return rows.some((r) => r.state === 'failed') ? 1 : 0;
    }
    if (Date.now() > deadline) {
      say(
        `still running after ${timeoutS} s: ${rows
          .filter((r) => r.state !== 'done')
          .map((r) => `${r.verb} ${r.student} (${r.state})`)
          .join(', ')}; is the service running (npm start)?`,
      );
      return 1;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function printCredentials(config: WodConfig, job: JobView): Promise<void> {
  const file = outboxFile(dataPaths(config).outbox, `credentials-${job.registrationId ?? job.student}-job-${job.id}`);
  if (!fs.existsSync(file)) return;
  const text = (await simpleParser(fs.readFileSync(file))).text ?? '';
  for (const key of ['username', 'password']) {
    const m = text.match(new RegExp(`${key}: (\\S+)`));
    if (m) say(`  ${key}: ${m[1]}`);
  }
  const link = text.match(/(http\S+\/hub\/wod-login\?\S+)/);
  if (link) say(`  start link: ${link[1]}`);
}
