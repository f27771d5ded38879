/**
 * A notebook checked as JupyterLab will read it: JSON first (the line and column of the first
 * error), then the nbformat v4 JSON schema of the notebook's own minor version, as nbformat's
 * `validate` does, with every error at once, its JSON path and its line. Pure: text in, problems out.
 *
 * The schemas in ./nbformat/ are verbatim copies of `nbformat/v4/nbformat.v4.<minor>.schema.json`
 * from nbformat 5.11.1 (https://github.com/jupyter/nbformat, BSD-3-Clause, ./nbformat/LICENSE), the
 * version pinned in spawner-config/requirements.txt, so that lint needs no Python environment and
 * gives the same answer everywhere; tests/unit/notebook-schema.test.ts fails when the students'
 * .venv holds other ones (after the pin moved: copy them again). They are JSON Schema draft-04,
 * hence ajv-draft-04, the Ajv class for that draft.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv-draft-04';
import type { Problem } from '../catalog/problems.js';
import v40 from './nbformat/nbformat.v4.0.schema.json';
import v41 from './nbformat/nbformat.v4.1.schema.json';
import v42 from './nbformat/nbformat.v4.2.schema.json';
import v43 from './nbformat/nbformat.v4.3.schema.json';
import v44 from './nbformat/nbformat.v4.4.schema.json';
import v45 from './nbformat/nbformat.v4.5.schema.json';

/** nbformat 4 minor version → its schema; a newer minor than the last is read with the last, as nbformat does. */
const SCHEMAS: object[] = [v40, v41, v42, v43, v44, v45];
export const NBFORMAT_MINOR_MAX = SCHEMAS.length - 1;

/** Branches of the schema's `oneOf`s, told apart by a field of the instance, as nbformat's better_validation_error does. */
const CELL_TYPES = ['raw', 'markdown', 'code'];
const OUTPUT_TYPES = ['execute_result', 'display_data', 'stream', 'error'];

// `strict: false`: the schemas have a typo nbformat lives with (`item` for `items` under metadata.authors).
const ajv = new Ajv({ allErrors: true, strict: false });
SCHEMAS.forEach((s, minor) => ajv.addSchema(s, `v4.${minor}`));

const validator = (minor: number, definition?: string): ValidateFunction => ajv.getSchema(`v4.${minor}${definition ? `#/definitions/${definition}` : ''}`)!;

type Located = { path: string; message: string };

/** `/cells/3/outputs/0` → `cells[3].outputs[0]`: the path as an author reads it. */
export function readablePath(pointer: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return (
    parts.reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : /^[A-Za-z_][\w]*$/.test(p) ? `${out ? `${out}.` : ''}${p}` : `${out}[${JSON.stringify(p)}]`), '') || '(top level)'
  );
}

const at = (value: unknown, pointer: string): unknown =>
  pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((v, p) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[p.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), value);

const TYPE_NAMES: Record<string, string> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'null',
};

function sentence(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `"${String(p.missingProperty)}" is missing`;
    case 'additionalProperties':
      return `"${String(p.additionalProperty)}" is not allowed here`;
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `must be ${TYPE_NAMES[String(p.type)] ?? String(p.type)}`;
    default:
      return e.message ?? e.keyword;
  }
}

/**
 * Ajv reports every branch of a `oneOf` that failed; an author wants the branch their cell or output
 * meant (its cell_type or output_type), or, when that type is unknown, one line saying which exist.
 */
function explain(validate: ValidateFunction, instance: unknown, base: string, minor: number): Located[] {
  if (validate(instance)) return [];
  const errors = validate.errors ?? [];
  const branches = new Set(errors.filter((e) => e.keyword === 'oneOf' && /^\/cells\/\d+(\/outputs\/\d+)?$/.test(base + e.instancePath)).map((e) => e.instancePath));
  const inBranch = (path: string) => [...branches].some((b) => path === b || path.startsWith(`${b}/`));
  const out: Located[] = [];
  for (const b of branches) {
    const full = base + b;
    const value = at(instance, b) as Record<string, unknown> | undefined;
    const isOutput = /\/outputs\/\d+$/.test(full);
    const [field, types] = isOutput ? ['output_type', OUTPUT_TYPES] : ['cell_type', CELL_TYPES];
    const type = value && typeof value === 'object' ? value[field] : undefined;
    if (typeof type !== 'string' || !types.includes(type)) {
      out.push({
        path: value && typeof value === 'object' && field in value ? `${full}/${field}` : full,
        message: `${field} must be one of ${types.map((t) => `"${t}"`).join(', ')}`,
      });
    } else {
      out.push(...explain(validator(minor, isOutput ? type : `${type}_cell`), value, full, minor));
    }
  }
  // The other oneOfs are of types (a string, or a list of strings): one line per value, naming both.
  const rest = new Map<string, Located>();
  for (const e of errors) {
    if (e.keyword === 'oneOf' || inBranch(e.instancePath)) continue;
    const path = base + e.instancePath;
    const message = sentence(e);
    const key = e.keyword === 'type' ? `${path} type` : `${path} ${message}`;
    const prior = rest.get(key);
    if (!prior) rest.set(key, { path, message });
    else if (e.keyword === 'type' && !prior.message.endsWith(message.replace(/^must be /, ''))) prior.message += ` or ${message.replace(/^must be /, '')}`;
  }
  return [...out, ...rest.values()];
}

/** The line each value (and each object member, by its key) starts on, by JSON pointer. `text` is valid JSON. */
export function valueLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  const space = () => {
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) line++;
      else if (c !== 32 && c !== 9 && c !== 13) break;
    }
  };
  const string = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (pointer: string): void => {
    space();
    if (!lines.has(pointer)) lines.set(pointer, line);
    const c = text[i];
    if (c === '{' || c === '[') {
      i++;
      space();
      const close = c === '{' ? '}' : ']';
      for (let n = 0; text[i] !== close; n++) {
        space();
        if (c === '{') {
          const key = string().replace(/~/g, '~0').replace(/\//g, '~1');
          lines.set(`${pointer}/${key}`, line);
          space();
          i++; // ':'
          value(`${pointer}/${key}`);
        } else value(`${pointer}/${n}`);
        space();
        if (text[i] === ',') i++;
      }
      i++;
    } else if (c === '"') string();
    else while (i < text.length && !/[\s,\]}]/.test(text[i])) i++;
  };
  value('');
  return lines;
}

/**
 * Where a line of the rendered notebook came from in its template: the same line when it still
 * matches, else the nearest template line of the same text (or the same text once its `{{ }}` and
 * `{% %}` are let match anything), else the same number, as templating mostly keeps lines.
 */
export function templateLine(rendered: string, source: string, line: number): { line: number; how: 'matched' | 'same number' } {
  const target = rendered.split('\n')[line - 1] ?? '';
  const lines = source.split('\n');
  const TAG = /(\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\})/;
  const pattern = (parts: string[]) => new RegExp(`^${parts.map((part, k) => (k % 2 ? '[\\s\\S]*?' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')}$`);
  const matches = (l: string) => {
    if (l === target) return true;
    const parts = l.split(TAG);
    // A line of tags alone ({% if %}) matches anything: it says nothing of where the text came from.
    return parts.length > 1 && parts.some((p, k) => k % 2 === 0 && p.trim()) && pattern(parts).test(target);
  };
  if (line <= lines.length && matches(lines[line - 1])) return { line, how: 'matched' };
  let best = -1;
  for (let k = 0; k < lines.length; k++) if (matches(lines[k]) && (best < 0 || Math.abs(k + 1 - line) < Math.abs(best + 1 - line))) best = k;
  return best >= 0 ? { line: best + 1, how: 'matched' } : { line: Math.min(line, lines.length), how: 'same number' };
}

/** The offset of a JSON.parse error (Node's messages say "at position N"; the end of the text otherwise). */
function errorOffset(message: string, text: string): number {
  const m = message.match(/position (\d+)/);
  return m ? Number(m[1]) : text.length;
}

const FIX_JSON = 'save the notebook again from JupyterLab; in a template, keep the JSON valid around {{ }} and {% %}';
const FIX_SCHEMA = 'open the notebook in JupyterLab and save it, or correct the field by hand';

/**
 * Problems of one notebook. `text` is what students get; when it was rendered from a template,
 * `sourceText` is the template (the file authors edit): lines are then the template's, as near as
 * can be told, and each message says which line of the rendered notebook it was.
 */
export function checkNotebook(text: string, file: string, sourceText?: string): Problem[] {
  const place = (line: number) => {
    if (sourceText === undefined) return { line, note: '' };
    const t = templateLine(text, sourceText, line);
    return { line: t.line, note: ` (line ${line} of the rendered notebook; template line ${t.how === 'matched' ? 'found by its text' : 'by the same number'})` };
  };
  let nb: unknown;
  try {
    nb = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message.replace(/\s*\(line \d+ column \d+\)$/, '');
    const offset = errorOffset(message, text);
    const before = text.slice(0, offset).split('\n');
    const { line, note } = place(before.length);
    return [
      { severity: 'error', file, line, message: `is not valid JSON at line ${before.length}, column ${before[before.length - 1].length + 1}: ${message}${note}`, fix: FIX_JSON },
    ];
  }
  const version = nb && typeof nb === 'object' ? (nb as { nbformat?: unknown; nbformat_minor?: unknown }) : {};
  if (version.nbformat !== 4) {
    return [
      {
        severity: 'error',
        file,
        field: 'nbformat',
        message: `is ${JSON.stringify(version.nbformat) ?? 'missing'}: JupyterLab reads nbformat 4 notebooks`,
        fix: 'save it from JupyterLab (File > Save Notebook As) to convert it to nbformat 4',
      },
    ];
  }
  const minor = Number.isInteger(version.nbformat_minor) ? Math.min(Math.max(version.nbformat_minor as number, 0), NBFORMAT_MINOR_MAX) : NBFORMAT_MINOR_MAX;
  const lines = valueLines(text);
  const lineOf = (pointer: string) => {
    for (let p = pointer; ; p = p.slice(0, p.lastIndexOf('/'))) {
      const l = lines.get(p);
      if (l !== undefined || !p) return l ?? 1;
    }
  };
  const found = explain(validator(minor), nb, '', minor);
  // nbformat ≥ 4.5 also refuses two cells with one id (JupyterLab would rewrite them).
  if (minor >= 5 && Array.isArray((nb as { cells?: unknown }).cells)) {
    const first = new Map<string, number>();
    ((nb as { cells: { id?: unknown }[] }).cells ?? []).forEach((c, k) => {
      if (!c || typeof c.id !== 'string') return;
      const earlier = first.get(c.id);
      if (earlier === undefined) first.set(c.id, k);
      else found.push({ path: `/cells/${k}/id`, message: `"${c.id}" is already the id of cells[${earlier}]: cell ids must be unique` });
    });
  }
  return found
    .filter((f, k) => found.findIndex((o) => o.path === f.path && o.message === f.message) === k)
    .sort((a, b) => lineOf(a.path) - lineOf(b.path))
    .map((f) => {
      const { line, note } = place(lineOf(f.path));
      return { severity: 'error', file, line, field: readablePath(f.path), message: `${f.message} (nbformat 4.${minor} schema)${note}`, fix: FIX_SCHEMA };
    });
}
