/**
 * Who the students' processes run as, and what they must reach. No participant process runs as
 * root: in `system-users` mode each student is an account of their own; in `local` mode started by
 * root, every student's server runs as one unprivileged account wod makes (no login shell); only
 * `local` mode started by an ordinary user runs them as that user.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { WodConfig } from '../config/schema.js';

export type StudentsRunAs = { kind: 'self' } | { kind: 'account'; name: string } | { kind: 'per-student'; uidBase: number };

export function studentsRunAs(students: Pick<WodConfig['students'], 'mode' | 'localAccount' | 'uidBase'>, euid = process.geteuid?.() ?? 0): StudentsRunAs {
  if (students.mode === 'system-users') return { kind: 'per-student', uidBase: students.uidBase };
  return euid === 0 ? { kind: 'account', name: students.localAccount } : { kind: 'self' };
}

/** Every folder above `dir` lets others through (o+x): an account other than its owner can reach it. */
export function othersCanReach(dir: string): boolean {
  for (let d = path.dirname(path.resolve(dir)); ; d = path.dirname(d)) {
    try {
      if (!(fs.statSync(d).mode & 0o001)) return false;
    } catch {
      /* not there yet: made by wod, traversable */
    }
    if (d === path.dirname(d)) return true;
  }
}

export interface Ids {
  uid: number;
  gid: number;
}

function accountIds(name: string): Ids | null {
  try {
    return { uid: Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim()), gid: Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim()) };
  } catch {
    return null;
  }
}

/** The local mode's account: made once, a system account with no home and no login shell. */
export function ensureLocalAccount(name: string): Ids {
  const found = accountIds(name);
  if (found) return found;
  const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
  const ids = accountIds(name);
  if (!ids) throw new Error(`could not create the account ${name} that students run as in local mode: ${made.stderr.trim() || made.error?.message}`);
  return ids;
}

/** The ids a reachability check runs as: the account itself, or any unprivileged uid for per-student accounts. */
export function probeIds(runAs: StudentsRunAs): Ids | null {
  if (runAs.kind === 'self') return null;
  return runAs.kind === 'account' ? ensureLocalAccount(runAs.name) : { uid: runAs.uidBase, gid: runAs.uidBase };
}

export interface Reach {
  path: string;
  /** `x`: a folder to enter or a program to run; `r`: a file to read */
  need: 'x' | 'r';
  fix: string;
}

/**
 * Tries, as a student account would (setpriv to its uid, no groups), to reach each path; returns
 * the first that it cannot, or null.
 */
export function unreachable(ids: Ids, targets: Reach[]): Reach | null {
  const script = targets.map((t, i) => `test -${t.need} "$${i + 1}" || { echo ${i}; exit 0; }`).join('\n');
  const res = spawnSync('setpriv', [`--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--clear-groups', '--', 'sh', '-c', script, 'sh', ...targets.map((t) => t.path)], {
    encoding: 'utf8',
  });
  if (res.error || res.status !== 0) throw new Error(`could not check what student accounts reach (setpriv: ${res.error?.message ?? res.stderr.trim()})`);
  const failed = res.stdout.trim();
  return failed === '' ? null : targets[Number(failed)];
}
