/**
 * Lint as a dry run of deployment: every workshop's content rendered, as CREATE would render it,
 * for the first student of its range, with the site's variables; every notebook validated against
 * the nbformat schema; every problem reported at once with its source file and line. A workshop
 * that passes deploys. What a hook hands over (ports, tokens) is only known when it runs: a name
 * undefined here but written by the workshop's hooks is a warning, not an error.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WodConfig } from '../config/schema.js';
import { portalUrl } from '../config/urls.js';
import { compileDirs } from '../content/compile.js';
import { checkKernels, type Kernel } from '../content/kernels.js';
import { checkNotebook } from '../content/notebook-schema.js';
import { deploymentFiles, resolveVariables, siteBase, studentValues, VariablesError } from '../content/site-variables.js';
import { renderAll, type Variables } from '../content/templating.js';
import { findHooks } from '../lifecycle/hooks.js';
import { othersCanReach } from '../isolation/student-side.js';
import { modeOf } from '../registrations/registrations.js';
import { contentFiles, workshopFolders } from './folders.js';
import { checkImages } from './images.js';
import type { LoadedWorkshop } from './loader.js';
import { checkCompile, checkLdap, checkLocation, checkRemoteMode, type Problem } from './problems.js';

export type DryRunConfig = Pick<WodConfig, 'publicUrl' | 'projectRoot' | 'dataDir' | 'workshops' | 'mailApi' | 'apiDb' | 'branding' | 'students' | 'mail' | 'ldap' | 'locations'>;

/** Stands for the student's password in a dry run. */
const SAMPLE_PASSWORD = 'dry-run-password';

/** `kernels`: what the students' JupyterLab can start (content/kernels.ts availableKernels) */
export function dryRunWorkshop(w: LoadedWorkshop, config: DryRunConfig, kernels: Kernel[]): Problem[] {
  const problems: Problem[] = [];
  const notebooks: { file: string; text: string }[] = [];
  const spec = w.spec;
  const folders = workshopFolders(config.workshops, spec.folder);
  if (!folders) return problems;
  const stdid = spec.range[0];
  let vars: Variables;
  try {
    vars = resolveVariables({
      ...siteBase(config),
      files: deploymentFiles(config, folders.vars, { workshop: spec.folder, challenge: spec.folder }, stdid),
      student: studentValues({
        stdid,
        student: `student${stdid}`,
        spec,
        mode: modeOf(spec.folder),
        password: SAMPLE_PASSWORD,
        surveyUrl: config.workshops.surveyUrl ? undefined : `${portalUrl(config)}status/…#feedback`,
      }),
    });
  } catch (e) {
    if (!(e instanceof VariablesError)) throw e;
    return [{ severity: 'error', file: e.file, message: e.detail }];
  }

  const hooks = [
    ...findHooks('create', folders.content, spec.folder, config.workshops.overlayScriptsDir),
    ...findHooks('post-copy', folders.content, spec.folder, config.workshops.overlayScriptsDir),
  ];
  const hookTexts = hooks.map((h) => ({ file: h.file, text: fs.readFileSync(h.file, 'utf8') }));
  /** a name a hook of this workshop writes (to $WOD_VARS_FILE or its pass file) */
  const fromHook = (name: string) => hookTexts.find((h) => new RegExp(`\\b${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(h.text))?.file;

  const render = (file: string, text: string): string | null => {
    const out = renderAll(text, vars, file);
    for (const e of out.errors) {
      const name = e.variable?.match(/^[\w-]+$|\['([\w-]+)'\]$/);
      const hook = name ? fromHook(name[1] ?? name[0]) : undefined;
      problems.push(
        hook
          ? {
              severity: 'warning',
              file,
              line: e.line,
              message: `${e.variable} is not defined before the hooks run: ${path.basename(hook)} is expected to hand it over (not checked)`,
            }
          : {
              severity: 'error',
              file,
              line: e.line,
              message: e.variable ? `undefined variable ${e.variable}` : e.message.slice(e.file.length + 2),
              fix: e.variable ? 'define it in the site variables (workshops.variablesDir), the workshop vars.yml, or have a create hook hand it over' : 'correct the template',
            },
      );
    }
    return out.text;
  };

  const { files } = contentFiles(folders);
  if (!files.some((f) => f.rel === '0-ReadMeFirst.ipynb')) {
    problems.push({
      severity: 'error',
      file: path.join(folders.content, '0-ReadMeFirst.ipynb'),
      message: 'is missing',
      fix: 'add 0-ReadMeFirst.ipynb, the notebook students open first',
    });
  }
  for (const f of files.filter((file) => file.rendered && !spec.compile.includes(path.basename(file.rel)))) {
    const source = fs.readFileSync(f.abs, 'utf8');
    const text = render(f.abs, source);
    if (text === null || !f.rel.endsWith('.ipynb')) continue;
    problems.push(...checkNotebook(text, f.abs, source));
    notebooks.push({ file: f.abs, text });
  }
  for (const hook of hooks.filter((h) => h.template)) render(hook.file, hookTexts.find((h) => h.file === hook.file)!.text);
  const specFile = folders.specs[folders.specs.length - 1];
  problems.push(...checkKernels(notebooks, kernels));
  problems.push(...checkImages(spec, folders.content, config.workshops.assetsDir));
  problems.push(...checkLdap(spec, config, w.at.ldap ?? { file: specFile }));
  problems.push(...checkCompile(spec, compileDirs(folders.content, config), w.at.compile ?? { file: specFile }));
  problems.push(...checkRemoteMode(spec, config, w.at.compile ?? { file: specFile }));
  problems.push(...checkLocation(spec, config, { location: w.at.location ?? { file: specFile }, alternateLocation: w.at.alternateLocation ?? { file: specFile } }));
  return problems;
}

/**
 * The site's variables may hold secrets (tokens, appliance passwords), and participants have a
 * shell on this host: a file of them that any account can read is said, once per lint.
 */
export function checkSiteVariables(config: Pick<WodConfig, 'workshops'>): Problem[] {
  const dir = config.workshops.variablesDir;
  if (!dir) return [];
  if (!fs.existsSync(dir))
    return [{ severity: 'error', file: dir, message: 'the site variables folder (workshops.variablesDir) does not exist', fix: 'create it or correct the configuration' }];
  const files = (d: string): string[] =>
    fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(d, e.name)) : e.isFile() ? [path.join(d, e.name)] : []));
  return files(dir)
    .filter((f) => fs.statSync(f).mode & 0o004 && othersCanReach(f))
    .map((file) => ({
      severity: 'warning' as const,
      file,
      message: 'is readable by every account on this host, participants included',
      fix: 'chmod o-rwx it (or its folder): site variables may hold secrets',
    }));
}
