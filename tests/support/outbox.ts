/** Reads the mails wod kept in a test hub's outbox folder. */
import fs from 'node:fs';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { until } from './wait';

export async function outboxMails(dataDir: string): Promise<ParsedMail[]> {
  const dir = path.join(dataDir, 'outbox');
  if (!fs.existsSync(dir)) return [];
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort();
  return Promise.all(files.map((f) => simpleParser(fs.readFileSync(path.join(dir, f)))));
}

/** The credentials in a credentials mail. */
export function credentialsIn(mail: ParsedMail): { student: string; password: string; startUrl: string | null } {
  const text = mail.text ?? '';
  return {
    student: text.match(/username: (\S+)/)![1],
    password: text.match(/password: (\S+)/)![1],
    startUrl: text.match(/(http\S+\/hub\/wod-login\?token=\S+)/)?.[1] ?? null,
  };
}

/** Waits for a mail the service is about to send (it is written at the end of a job step). */
export async function waitForMail(dataDir: string, match: (m: ParsedMail) => boolean, timeoutMs = 60_000): Promise<ParsedMail> {
  const mails = await until(
    () => outboxMails(dataDir),
    (ms) => ms.some(match),
    'the expected mail',
    timeoutMs,
    100,
  ).catch((e: Error) => {
    throw new Error(`the expected mail was not sent (${e.message.split(':')[0]})`);
  });
  return mails.find(match)!;
}
