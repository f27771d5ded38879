/**
 * `wod workshops new`: a new workshop folder in the template's shape, valid at once: a wod.yml on a
 * student range no other workshop uses, the notebooks students take in order (read-me-first, a
 * lesson, a lab with an exercise, the conclusion), README.md and LICENCE.md. The lab's solution is
 * shipped in `solutions/` (solutions.ts), which wod never deploys. Pure but for `createWorkshop`.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { parseRange, WORKSHOP_FOLDER } from '../catalog/spec.js';
import { listWorkshopFolders, workshopFolders, type WorkshopRoots } from '../catalog/folders.js';
import { CHECK_TAG } from '../content/checks.js';
import { SOLUTIONS_DIR } from './solutions.js';

export const KERNELS = {
  python3: { spec: { name: 'python3', display_name: 'Python 3', language: 'python' }, ext: '.py' },
  bash: { spec: { name: 'bash', display_name: 'Bash', language: 'bash' }, ext: '.sh' },
} as const;
export type KernelName = keyof typeof KERNELS;

/** Students a new workshop takes: twice its capacity, so that seats are free while CLEANUP runs. */
export const NEW_RANGE_SIZE = 10;
const NEW_CAPACITY = 5;

export class ScaffoldError extends Error {}

/** The lowest `size` consecutive students of 1..poolSize that no range in `taken` touches, or null. */
export function chooseRange(taken: readonly (readonly [number, number])[], poolSize: number, size = NEW_RANGE_SIZE): [number, number] | null {
  const sorted = [...taken].sort((a, b) => a[0] - b[0]);
  let first = 1;
  for (const [lo, hi] of sorted) {
    if (first + size - 1 < lo) break;
    first = Math.max(first, hi + 1);
  }
  return first + size - 1 <= poolSize ? [first, first + size - 1] : null;
}

/** The ranges of every workshop folder, valid or not, active or not: each file's range alone, so that an invalid field elsewhere hides none. */
export function takenRanges(roots: WorkshopRoots): [number, number][] {
  return listWorkshopFolders(roots).flatMap((folder) =>
    (workshopFolders(roots, folder)?.specs ?? []).flatMap((file) => {
      try {
        const fields = YAML.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> | null;
        const key = Object.keys(fields ?? {}).find((k) => k.toLowerCase() === 'range');
        return key ? [parseRange(fields![key])] : [];
      } catch {
        return []; // lint reports it; an unreadable range cannot be avoided
      }
    }),
  );
}

export interface NewWorkshop {
  /** WKSHP-<Name> */
  folder: string;
  title: string;
  kernel: KernelName;
  range: [number, number];
}

/** The folder for a name given on the command line (`Kubernetes101` or `WKSHP-Kubernetes101`), or a ScaffoldError. */
export function folderFor(name: string): string {
  const folder = name.startsWith('WKSHP-') ? name : `WKSHP-${name}`;
  if (!WORKSHOP_FOLDER.test(folder) || folder.length > 64) {
    throw new ScaffoldError(`'${name}' is not a workshop name: letters and digits first, then letters, digits, . _ - (64 characters at most), e.g. Kubernetes101`);
  }
  return folder;
}

const yamlString = (s: string) => JSON.stringify(s);

export function renderWodYml(w: NewWorkshop): string {
  return `# How wod lists, schedules and runs ${w.folder}; every field is described in
# workshops/WKSHP-Template/wod.yml. Check your changes with \`npx wod workshops lint\`,
# prove the workshop with \`npx wod workshops test ${w.folder}\`.
name: ${yamlString(w.title)}
description: ${yamlString(`A hands-on ${KERNELS[w.kernel].spec.display_name} workshop: ${w.title}. Replace this text with what participants will learn.`)}
category: ['Open Source']
duration: 2                     # hours
presenter: 'Your Name'
role: 'Your Role'
avatar: 'presenter.svg'
badgeImg: 'badge.svg'
# Inactive until an admin opens it; \`wod workshops test\` runs it all the same.
active: false
priority: 100
range: [${w.range[0]}, ${w.range[1]}]               # chosen free of every other workshop's range
capacity: ${NEW_CAPACITY}
`;
}

interface Cell {
  cell_type: 'markdown' | 'code';
  id: string;
  metadata: Record<string, unknown>;
  source: string[];
  execution_count?: null;
  outputs?: [];
}

const lines = (text: string) => text.split(/(?<=\n)/);
const md = (id: string, text: string): Cell => ({ cell_type: 'markdown', id, metadata: {}, source: lines(text) });
const code = (id: string, text: string, metadata: Record<string, unknown> = {}): Cell => ({
  cell_type: 'code',
  id,
  metadata,
  source: lines(text),
  execution_count: null,
  outputs: [],
});

export function notebookJson(kernel: KernelName, cells: Cell[]): string {
  return JSON.stringify({ cells, metadata: { kernelspec: KERNELS[kernel].spec }, nbformat: 4, nbformat_minor: 5 }, null, 1) + '\n';
}

/** What each kernel runs in the generated notebooks. */
const SNIPPETS: Record<KernelName, { hello: string; work: string; exercise: string; solution: string; check: string }> = {
  python3: {
    hello: 'print("Hello, {{ STUDENT }}!")',
    work: 'words = ["wod", "is", "fun"]\nprint(len(words), "words:", " ".join(words))',
    exercise: '# Exercise: set answer to the number of words in the list `words` above.\nanswer = None  # your code here',
    solution: '# Exercise: set answer to the number of words in the list `words` above.\nanswer = len(words)',
    check: 'assert answer == 3, "Not yet: answer should be the number of words (try len(words))"\nprint("✅ Well done!")',
  },
  bash: {
    hello: 'echo "Hello, {{ STUDENT }}!"',
    work: 'words="wod is fun"\necho "$words" | wc -w',
    exercise: '# Exercise: set answer to the number of words in $words above.\nanswer=""  # your command here',
    solution: '# Exercise: set answer to the number of words in $words above.\nanswer=$(echo "$words" | wc -w)',
    check: '[ "$answer" = 3 ] && echo "✅ Well done!" || { echo "Not yet: answer should be the number of words (try wc -w)"; false; }',
  },
};

export const LAB_NOTEBOOK = '2-Lab.ipynb';
export const EXERCISE_CELL = 'lab-exercise';

/** Every file of the new workshop, by its path in the folder (binary files of the template aside). */
export function workshopFiles(w: NewWorkshop): Record<string, string> {
  const s = SNIPPETS[w.kernel];
  const nb = (cells: Cell[]) => notebookJson(w.kernel, cells);
  const lab = (exercise: string) =>
    nb([
      md('lab-intro', '# 2 · Lab\n\nPut what you learnt to work. Run each cell with **Shift+Enter**.'),
      code('lab-setup', s.work),
      md('lab-task', '## Exercise\n\nWrite your answer in the next cell, run it, then run the check below it.'),
      code(EXERCISE_CELL, exercise),
      // Tagged so the lab and the admins count it as a check passed once it runs without error.
      code('lab-check', s.check, { tags: [CHECK_TAG] }),
      md('lab-next', 'Next: [3-Conclusion](3-Conclusion.ipynb).'),
    ]);
  return {
    'wod.yml': renderWodYml(w),
    '0-ReadMeFirst.ipynb': nb([
      md(
        'readme-welcome',
        `# ${w.title}\n\nWelcome, {{ STUDENT }}! This workshop is a series of notebooks: take them in order.\n\n1. [1-FirstSteps](1-FirstSteps.ipynb): a first lesson\n2. [${LAB_NOTEBOOK.replace('.ipynb', '')}](${LAB_NOTEBOOK}): a lab with an exercise\n3. [3-Conclusion](3-Conclusion.ipynb): what you learnt, and the survey`,
      ),
      code('readme-hello', s.hello),
    ]),
    '1-FirstSteps.ipynb': nb([
      md('first-intro', '# 1 · First steps\n\nRun the cell below with **Shift+Enter**.'),
      code('first-work', s.work),
      md('first-next', `Next: [${LAB_NOTEBOOK.replace('.ipynb', '')}](${LAB_NOTEBOOK}).`),
    ]),
    [LAB_NOTEBOOK]: lab(s.exercise),
    [path.join(SOLUTIONS_DIR, LAB_NOTEBOOK)]: nb([code(EXERCISE_CELL, s.solution)]),
    '3-Conclusion.ipynb': nb([
      md('conclusion-text', `# 3 · Conclusion\n\nWell done, {{ STUDENT }}: you finished ${w.title}.\n\nPlease tell us what you thought of it in the survey: it takes a minute.`),
    ]),
    'README.md': `# ${w.folder}\n\n${w.title}.\n\n- \`0-ReadMeFirst.ipynb\` … \`3-Conclusion.ipynb\`: the notebooks students take in order.\n- \`solutions/\`: a notebook per lab whose code cells replace the cells with the same \`id\` when\n  \`npx wod workshops test ${w.folder}\` runs the workshop; wod never deploys this folder.\n- \`wod.yml\`: how wod lists and schedules it (range ${w.range[0]}-${w.range[1]}).\n\nCheck it with \`npx wod workshops lint\`, prove it with \`npx wod workshops test ${w.folder}\`.\n`,
  };
}

/** The template's pictures, copied as they are when the template has them. */
const TEMPLATE_ASSETS = ['LICENCE.md', 'badge.svg', 'presenter.svg'];

/**
 * Writes the new workshop into `dir`. Refuses a bad name, a folder that exists (here or in the
 * overlay) and a full pool before writing anything.
 */
export function createWorkshop(opts: { name: string; kernel: string; roots: WorkshopRoots; poolSize: number; template?: string }): { dir: string; workshop: NewWorkshop } {
  const folder = folderFor(opts.name);
  if (!(opts.kernel in KERNELS)) throw new ScaffoldError(`'${opts.kernel}' is not a kernel wod can write a workshop for: ${Object.keys(KERNELS).join(' or ')}`);
  const dir = path.join(opts.roots.dir, folder);
  for (const root of [opts.roots.dir, opts.roots.overlayDir].filter((r): r is string => !!r)) {
    if (fs.existsSync(path.join(root, folder))) throw new ScaffoldError(`${path.join(root, folder)} exists already: choose another name`);
  }
  const range = chooseRange(takenRanges(opts.roots), opts.poolSize);
  if (!range)
    throw new ScaffoldError(`no ${NEW_RANGE_SIZE} consecutive students of the pool (students.count ${opts.poolSize}) are free of other workshops' ranges: raise students.count`);
  const title = folder.replace(/^WKSHP-/, '').replace(/([a-z])([A-Z0-9])/g, '$1 $2');
  const workshop: NewWorkshop = { folder, title, kernel: opts.kernel as KernelName, range };
  fs.mkdirSync(path.join(dir, SOLUTIONS_DIR), { recursive: true });
  for (const [rel, text] of Object.entries(workshopFiles(workshop))) fs.writeFileSync(path.join(dir, rel), text);
  for (const asset of TEMPLATE_ASSETS) {
    const from = opts.template && path.join(opts.template, asset);
    if (from && fs.existsSync(from)) fs.copyFileSync(from, path.join(dir, asset));
    else if (asset === 'LICENCE.md') fs.writeFileSync(path.join(dir, asset), '# Licence\n\nChoose the licence of this workshop (the samples use CC BY-SA 4.0).\n');
  }
  return { dir, workshop };
}
