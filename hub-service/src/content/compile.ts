/**
 * The original's `compile` switch (ansible/compile_scripts.yml): each script a workshop names, found
 * in its folder or else in the overlay scripts folder, is rendered with the student's variables
 * (tokens of private endpoints, the password) and turned into a binary by shc, installed in the
 * student's home as `<name>.x`, the name shc gives it and notebooks of the original call
 * (`~/get-token.sh.x`).
 *
 * shc is obfuscation, not encryption: the binary carries the script, RC4-scrambled with a key stored
 * beside it, and hands it to a shell when run, where a process of the same account can see it
 * (/proc/<pid>/cmdline). It only keeps a value from being read by accident; never rely on it to keep
 * a secret from a participant who wants it. To make even that harder, the binary is owned by this
 * service's account with mode 0711: the student may run it, not read it, copy it or chmod it; the
 * rendered script and shc's C file exist only in a private (0700) temporary folder, removed at once.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { renderTemplate, type Variables } from './templating.js';

const run = promisify(execFile);

/** A name without a path, as the original's `compile: a.sh,b.sh`. */
export const SCRIPT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const SHC_MISSING = 'shc is not installed: compile needs it (apt install shc)';

/** The name the compiled script gets in the student's home. */
export function compiledName(name: string): string {
  return `${name}.x`;
}

/** The first folder holding the script, or null. */
export function findCompileScript(name: string, dirs: string[]): string | null {
  if (!SCRIPT_NAME.test(name)) return null;
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      if (fs.statSync(file).isFile()) return file;
    } catch {
      /* not in this one */
    }
  }
  return null;
}

/** shc on the PATH, or null. */
export function findShc(pathVar = process.env.PATH ?? '/usr/bin:/bin'): string | null {
  for (const dir of pathVar.split(':').filter(Boolean)) {
    const file = path.join(dir, 'shc');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** Where a workshop's `compile` scripts are looked up: its content folder, then the overlay scripts folder (the original's WODSCRIPTDIR, WODSCRIPTPRIVDIR). */
export function compileDirs(contentDir: string, config: { workshops: { overlayScriptsDir?: string } }): string[] {
  return [contentDir, ...(config.workshops.overlayScriptsDir ? [config.workshops.overlayScriptsDir] : [])];
}

export interface CompileOptions {
  /** the workshop's `compile` list */
  names: string[];
  /** where to look, in order: the workshop's folders, then the overlay scripts folder */
  dirs: string[];
  /** the student's variables, as the content's templates get them */
  vars: Variables;
  /** the student's home: the binaries go there */
  home: string;
  /** the shc program (findShc()) */
  shc: string | null;
  /** seconds shc (and the C compiler it runs) may take for one script */
  timeoutSeconds?: number;
}

/** Compiles and installs every script; returns the installed files. Fails on the first script that cannot be. */
export async function compileScripts(o: CompileOptions): Promise<string[]> {
  if (!o.names.length) return [];
  if (!o.shc) throw new Error(SHC_MISSING);
  const installed: string[] = [];
  for (const name of o.names) {
    const source = findCompileScript(name, o.dirs);
    if (!source) throw new Error(`compile: ${name} is in none of ${o.dirs.join(', ')}`);
    const text = renderTemplate(fs.readFileSync(source, 'utf8'), o.vars, source);
    // mkdtemp makes the folder 0700: the rendered script and shc's C file are nobody else's to read.
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-compile-'));
    try {
      const script = path.join(work, name);
      fs.writeFileSync(script, text, { mode: 0o600 });
      await run(o.shc, ['-f', script, '-o', path.join(work, compiledName(name))], { cwd: work, timeout: (o.timeoutSeconds ?? 120) * 1000 }).catch(
        (e: Error & { stderr?: string }) => {
          throw new Error(`compile: shc failed on ${name}: ${(e.stderr ?? e.message).trim().split('\n').slice(-3).join(' ')}`);
        },
      );
      const target = path.join(o.home, compiledName(name));
      // A file the student left there (or a link) is replaced, never written through: one descriptor,
      // opened exclusively without following links, made ours and run-only (0711: the student can run
      // it, not read or chmod it) before a byte is written, so there is no moment to swap or read it.
      fs.rmSync(target, { force: true });
      const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o700);
      try {
        fs.fchownSync(fd, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
        fs.fchmodSync(fd, 0o711);
        fs.writeFileSync(fd, fs.readFileSync(path.join(work, compiledName(name))));
      } finally {
        fs.closeSync(fd);
      }
      installed.push(target);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  return installed;
}
