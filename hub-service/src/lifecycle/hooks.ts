/**
 * Workshop hooks: executables named `create`, `post-copy`, `cleanup`, `reset` or `setup` in the
 * workshop folder, and the original's `<hook>-WKSHP-X.sh` in the overlay scripts folder, or its
 * template `<hook>-WKSHP-X.sh.j2`, rendered with the deployment's variables first as the original's
 * deliver step rendered it (into a private folder, removed after the run). They run in
 * a pseudo-terminal (node-pty: tools behave as they do for a person), with a documented environment
 * and a time limit; the terminal output goes to the job's step log; a non-zero exit fails the step.
 *
 * A hook hands values to the templates (tokens, ports) by writing KEY=VALUE lines to the file named
 * by $WOD_VARS_FILE: a channel of its own, so that those values stay out of the logged output.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as pty from 'node-pty';
import { parseKeyValues, renderTemplate, type Variables } from '../content/templating.js';

export type HookKind = 'create' | 'post-copy' | 'cleanup' | 'reset' | 'setup';

export interface Hook {
  file: string;
  /** a `.sh.j2`: rendered before it runs */
  template: boolean;
}

const isExecutable = (file: string) => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

/** The hooks to run, in order: the workshop folder's, then the overlay scripts folder's (its `.sh`, else its `.sh.j2`). */
export function findHooks(kind: HookKind, workshopDir: string, folder: string, overlayScriptsDir?: string): Hook[] {
  const hooks: Hook[] = [];
  if (isExecutable(path.join(workshopDir, kind))) hooks.push({ file: path.join(workshopDir, kind), template: false });
  if (overlayScriptsDir) {
    const script = path.join(overlayScriptsDir, `${kind}-${folder.replace(/^CHLG-/, 'WKSHP-')}.sh`);
    if (isExecutable(script)) hooks.push({ file: script, template: false });
    else if (fs.statSync(`${script}.j2`, { throwIfNoEntry: false })?.isFile()) hooks.push({ file: `${script}.j2`, template: true });
  }
  return hooks;
}

export class HookError extends Error {}

export interface HookResult {
  output: string;
  vars: Variables;
}

export async function runHook(
  hook: Hook,
  vars: Variables,
  opts: { env: Record<string, string>; cwd: string; timeoutMs: number; onOutput?: (text: string) => void },
): Promise<HookResult> {
  // mkdtemp makes it 0700: the rendered script and the values channel stay the service's
  const varsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wod-hook-')), 'vars');
  fs.writeFileSync(varsFile, '', { mode: 0o600 });
  const file = hook.template ? path.join(path.dirname(varsFile), path.basename(hook.file, '.j2')) : hook.file;
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8', TERM: 'xterm-256color', ...opts.env, WOD_VARS_FILE: varsFile };
  let output = '';
  try {
    if (hook.template) fs.writeFileSync(file, renderTemplate(fs.readFileSync(hook.file, 'utf8'), vars, hook.file), { mode: 0o700 });
    const code = await new Promise<number>((resolve, reject) => {
      let child: pty.IPty;
      try {
        child = pty.spawn(file, [], { name: 'xterm-256color', cols: 160, rows: 40, cwd: opts.cwd, env });
      } catch (e) {
        reject(new HookError(`${path.basename(file)} could not start: ${(e as Error).message}`));
        return;
      }
      const timer = setTimeout(() => {
        output += `\n[wod: stopped after ${opts.timeoutMs / 1000} s]\n`;
        child.kill('SIGKILL');
      }, opts.timeoutMs);
      child.onData((d) => {
        output += d;
        opts.onOutput?.(d);
      });
      child.onExit(({ exitCode, signal }) => {
        clearTimeout(timer);
        resolve(signal ? 128 + signal : exitCode);
      });
    });
    if (code !== 0) throw new HookError(`${path.basename(file)} exited with ${code}`);
    return { output, vars: parseKeyValues(fs.readFileSync(varsFile, 'utf8')) };
  } catch (e) {
    if (e instanceof HookError) e.message += output ? `\n${tail(output)}` : '';
    throw e;
  } finally {
    fs.rmSync(path.dirname(varsFile), { recursive: true, force: true });
  }
}

/** The last lines of a hook's output, for an error message. */
function tail(text: string, lines = 15): string {
  return text.replace(/\r/g, '').trimEnd().split('\n').slice(-lines).join('\n');
}
