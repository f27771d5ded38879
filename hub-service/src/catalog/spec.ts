/**
 * A workshop's wod.yml, read the way the original's real-world files are written (ranges as
 * `[151, 170]`, `[151-170]` or `151-170`; booleans as yes/no/"true"; category as a string or a list;
 * any key case), normalised into a WorkshopSpec. Every text is bounded and clean (clean-text.ts):
 * the catalog serves it to anyone who asks, and names go into mails. Pure: text in, spec and problems out.
 */
import YAML, { LineCounter, isMap, isScalar, type Node, type Pair } from 'yaml';
import { cleanText } from '../clean-text.js';
import { parseWorkshopLimits, type WorkshopLimits } from '../isolation/limit-rules.js';
import type { Problem } from './problems.js';

export interface WorkshopSpec {
  folder: string;
  name: string;
  description: string;
  active: boolean;
  capacity: number;
  priority: number;
  range: [number, number];
  /** hours, as in the original */
  duration: number;
  reset: boolean;
  ldap: boolean;
  varpass: boolean;
  compile: string[];
  location: string | null;
  alternateLocation: string[];
  replayId: number | null;
  replayLink: string | null;
  workshopImg: string | null;
  badgeImg: string | null;
  beta: boolean;
  category: string[];
  presenter: string | null;
  role: string | null;
  avatar: string | null;
  monoAppliance: boolean;
  multiAppliance: boolean;
  /** seats kept warm (home ready, server running) before anyone registers; an admin may change it live */
  warm: number;
  /** the notebook that asks for the survey, as a pattern (`*Conclusion*` when not set) */
  conclusion: string | null;
  /** system-users mode: this workshop's per-student limits over the site's (students.limits), key by key */
  limits: WorkshopLimits | null;
  /** participants may ask for more time, so many minutes at a time, so many times (registrations/extension.ts); null: not allowed */
  extend: WorkshopExtend | null;
}

export interface WorkshopExtend {
  minutes: number;
  times: number;
}

/** The bounds of `extend`: more than this is a longer workshop, not an extension. */
export const EXTEND_MAX = { minutes: 240, times: 10 } as const;

/** `varpass` or `ldap`: the student's password is in the content (PASSSTU), so it must exist when the content is made. */
export const passwordInContent = (spec: Pick<WorkshopSpec, 'varpass' | 'ldap'>): boolean => spec.varpass || spec.ldap;

export const WORKSHOP_FOLDER = /^(WKSHP|CHLG)-[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The largest wod.yml read at all (the original's are under 4 KiB): a bigger one is an error, and not imported. */
export const WOD_YML_MAX_BYTES = 64 * 1024;

/** Links and image references: long enough for any real URL. */
const URL_MAX = 2048;

/**
 * A field. Every kind holding text carries its limit in characters (a list: per item, and its number
 * of items), so that no field is left unbounded; `text` is the one kind that may have several lines.
 */
type Field = { key: keyof Omit<WorkshopSpec, 'folder'>; required?: boolean; default?: unknown } & (
  { kind: 'bool' | 'int' | 'number' | 'range' | 'limits' | 'extend' } | { kind: 'string' | 'text' | 'url'; max: number } | { kind: 'list'; max: number; maxItems: number }
);

const FIELDS: Field[] = [
  { key: 'name', kind: 'string', max: 120, required: true },
  { key: 'description', kind: 'text', max: 4000, required: true },
  { key: 'active', kind: 'bool', default: false },
  { key: 'capacity', kind: 'int', required: true },
  { key: 'priority', kind: 'int', default: 100 },
  { key: 'range', kind: 'range', required: true },
  { key: 'duration', kind: 'number', default: 4 },
  { key: 'reset', kind: 'bool', default: false },
  { key: 'ldap', kind: 'bool', default: false },
  { key: 'varpass', kind: 'bool', default: false },
  { key: 'compile', kind: 'list', max: 255, maxItems: 50, default: [] },
  { key: 'location', kind: 'string', max: 255, default: null },
  { key: 'alternateLocation', kind: 'list', max: 255, maxItems: 20, default: [] },
  { key: 'replayId', kind: 'int', default: null },
  { key: 'replayLink', kind: 'url', max: URL_MAX, default: null },
  { key: 'workshopImg', kind: 'string', max: URL_MAX, default: null },
  { key: 'badgeImg', kind: 'string', max: URL_MAX, default: null },
  { key: 'beta', kind: 'bool', default: false },
  { key: 'category', kind: 'list', max: 50, maxItems: 20, default: [] },
  { key: 'presenter', kind: 'string', max: 100, default: null },
  { key: 'role', kind: 'string', max: 100, default: null },
  { key: 'avatar', kind: 'string', max: URL_MAX, default: null },
  { key: 'monoAppliance', kind: 'bool', default: false },
  { key: 'multiAppliance', kind: 'bool', default: false },
  { key: 'conclusion', kind: 'string', max: 255, default: null },
  { key: 'warm', kind: 'int', default: 0 },
  { key: 'limits', kind: 'limits', default: null },
  { key: 'extend', kind: 'extend', default: null },
];
const BY_LOWER = new Map(FIELDS.map((f) => [f.key.toLowerCase(), f]));

/** Placeholder values seen in the original's files, which mean "not set". */
const PLACEHOLDERS = new Set(['', '???', 'tbd', 'none', 'null', '~']);

class Invalid extends Error {
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(message);
  }
}

/** The text under the clean-text rule, or Invalid with the rule's message (the limit, the character found). */
function cleanValue(value: string, max: number, multiLine: boolean, item?: number): string {
  const parsed = cleanText({ max, multiLine }).safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Invalid(
    item === undefined ? issue.message : `item ${item}: ${issue.message}`,
    issue.code === 'too_big' ? `shorten it to ${max} characters or fewer` : 'retype it without the character (an editor that shows invisible characters helps)',
  );
}

function coerce(field: Field, value: unknown): unknown {
  const text = typeof value === 'string' ? value.trim() : value;
  switch (field.kind) {
    case 'string':
    case 'text':
    case 'url': {
      if (text === null || text === undefined || (typeof text === 'string' && PLACEHOLDERS.has(text.toLowerCase()))) return null;
      if (typeof text !== 'string' && typeof text !== 'number') throw new Invalid('must be text');
      // nothing visible left (only zero-width or format characters) is empty
      const s = cleanValue(String(text), field.max, field.kind === 'text') || null;
      if (s && field.kind === 'url' && !/^(https?:\/\/|\/)/.test(s)) throw new Invalid(`'${s}' is not a link`, 'write a full https:// URL');
      return s;
    }
    case 'bool': {
      if (typeof text === 'boolean') return text;
      if (text === null || text === undefined) return false;
      const s = String(text).toLowerCase();
      if (['true', 'yes', 'on', '1'].includes(s)) return true;
      if (['false', 'no', 'off', '0', ''].includes(s)) return false;
      throw new Invalid(`'${text}' is not true or false`, 'write true or false');
    }
    case 'int':
    case 'number': {
      if (text === null || text === undefined || text === '') return null;
      const n = typeof text === 'number' ? text : Number(text);
      const isInt = field.kind === 'int';
      if (!Number.isFinite(n) || (isInt && !Number.isInteger(n)) || n < 0) {
        throw new Invalid(`'${text}' is not a ${isInt ? 'whole ' : ''}number of 0 or more`);
      }
      if (n > Number.MAX_SAFE_INTEGER) throw new Invalid(`${text} is too large (${Number.MAX_SAFE_INTEGER} at most)`);
      return n;
    }
    case 'list': {
      if (text === null || text === undefined || text === false) return [];
      const items = Array.isArray(text) ? text : String(text).split(',');
      if (items.length > field.maxItems) throw new Invalid(`has ${items.length} items (${field.maxItems} at most)`, `keep ${field.maxItems} or fewer`);
      return items.map((i, n) => cleanValue(String(i), field.max, false, n + 1)).filter((i) => i && !PLACEHOLDERS.has(i.toLowerCase()) && i !== 'false');
    }
    case 'range':
      return parseRange(text);
    case 'limits':
      try {
        return parseWorkshopLimits(text);
      } catch (e) {
        throw new Invalid((e as Error).message, 'write e.g. limits: { memory: 2GiB, cpu: 1, pids: 512 }');
      }
    case 'extend':
      return parseExtend(text);
  }
}

/** `extend: { minutes: 30, times: 1 }`; `no`, `false` or nothing: not allowed. */
export function parseExtend(value: unknown): WorkshopExtend | null {
  const fix = `write e.g. extend: { minutes: 30, times: 1 } (minutes 1 to ${EXTEND_MAX.minutes}, times 1 to ${EXTEND_MAX.times}), or remove it`;
  if (value === null || value === undefined || value === false || (typeof value === 'string' && ['no', 'false', ...PLACEHOLDERS].includes(value.trim().toLowerCase()))) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new Invalid(`'${JSON.stringify(value)}' is not a mapping of minutes and times`, fix);
  const given = Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
  const unknown = Object.keys(given).filter((k) => k !== 'minutes' && k !== 'times');
  if (unknown.length) throw new Invalid(`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (only minutes and times)`, fix);
  const bounded = (key: keyof WorkshopExtend): number => {
    const n = typeof given[key] === 'string' ? Number(given[key]) : given[key];
    if (given[key] === undefined) throw new Invalid(`${key} is missing`, fix);
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > EXTEND_MAX[key]) {
      throw new Invalid(`${key} '${String(given[key])}' is not a whole number from 1 to ${EXTEND_MAX[key]}`, fix);
    }
    return n;
  };
  return { minutes: bounded('minutes'), times: bounded('times') };
}

/** `[151, 170]`, `[151-170]` (YAML reads it as ['151-170']), `151-170`, `151,170`. */
export function parseRange(value: unknown): [number, number] {
  const flat = (Array.isArray(value) ? value.map(String).join(',') : String(value ?? '')).replace(/[[\]\s]/g, '');
  const m = flat.match(/^(\d+)[-,](\d+)$/);
  if (!m) throw new Invalid(`'${JSON.stringify(value)}' is not a range of student numbers`, 'write it as [first, last], e.g. [1, 20]');
  const range: [number, number] = [Number(m[1]), Number(m[2])];
  if (range[0] < 1 || range[1] < range[0]) throw new Invalid(`[${range.join(', ')}] is empty or starts below 1`, 'write [first, last] with 1 ≤ first ≤ last');
  return range;
}

export interface ParsedSpec {
  spec: WorkshopSpec | null;
  problems: Problem[];
  /** where each field was read (the overlay's file for a field it overrides), for later checks that name a field */
  at: Partial<Record<keyof WorkshopSpec, { file: string; line?: number }>>;
}

export interface SpecText {
  text: string;
  file: string;
}

/**
 * A workshop's fields from its wod.yml files: the public one, then the overlay's, whose fields
 * override the public ones one by one (catalog/folders.ts).
 */
export function parseWorkshopSpec(layers: SpecText | SpecText[], folder: string): ParsedSpec {
  const files = Array.isArray(layers) ? layers : [layers];
  const problems: Problem[] = [];
  const at: ParsedSpec['at'] = {};
  const last = files[files.length - 1].file;
  const error = (message: string, extra: Partial<Problem> = {}) => problems.push({ severity: 'error', file: last, message, ...extra });

  if (!WORKSHOP_FOLDER.test(folder)) {
    error(`folder name '${folder}' is not a workshop folder`, { fix: 'name it WKSHP-<Name> (letters, digits, . _ -)' });
  }
  const values = new Map<Field, { value: unknown; file: string; line?: number }>();
  for (const { text, file } of files) {
    const counter = new LineCounter();
    const doc = YAML.parseDocument(text, { lineCounter: counter, uniqueKeys: true });
    const lineOf = (node: Node | Pair | null | undefined) => {
      const range = (node as Node | null)?.range ?? ((node as Pair | null)?.key as Node | null)?.range;
      return range ? counter.linePos(range[0]).line : undefined;
    };
    if (doc.errors.length) {
      for (const e of doc.errors) error(`YAML: ${e.message.split('\n')[0]}`, { file, line: e.linePos?.[0].line, fix: 'correct the YAML syntax' });
      return { spec: null, problems, at };
    }
    if (doc.contents === null && files.length > 1 && file !== files[0].file) continue; // an empty override overrides nothing
    if (!isMap(doc.contents)) {
      error('wod.yml must be a mapping of fields (name: …, range: […], …)', { file, line: 1 });
      return { spec: null, problems, at };
    }
    for (const pair of doc.contents.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const field = BY_LOWER.get(key.toLowerCase());
      const line = lineOf(pair.key as Node);
      if (!field) {
        problems.push({ severity: 'warning', file, line, field: key, message: 'unknown field, ignored', fix: `remove it, or use one of ${FIELDS.map((f) => f.key).join(', ')}` });
        continue;
      }
      values.set(field, { value: pair.value == null ? null : (pair.value as Node).toJSON(), file, line });
      at[field.key] = { file, line };
    }
  }

  const spec: Record<string, unknown> = { folder };
  for (const field of FIELDS) {
    const found = values.get(field);
    let value: unknown = field.default;
    if (found) {
      try {
        value = coerce(field, found.value);
      } catch (e) {
        const inv = e as Invalid;
        error(inv.message, { file: found.file, line: found.line, field: field.key, fix: inv.fix });
        continue;
      }
    }
    if ((value === null || value === undefined || value === '') && field.required) {
      // The original's authors leave `description: TBD` while writing: accepted, and said.
      if (found && field.key === 'description') {
        problems.push({
          severity: 'warning',
          file: found.file,
          line: found.line,
          field: field.key,
          message: 'is a placeholder: the catalog shows no description',
          fix: 'write one',
        });
        spec[field.key] = '';
        continue;
      }
      error(found ? 'is empty' : 'is missing', {
        ...(found ? { file: found.file, line: found.line } : {}),
        field: field.key,
        fix: field.kind === 'range' ? `add ${field.key}: [first, last] student numbers` : `add ${field.key}: …`,
      });
      continue;
    }
    spec[field.key] = value ?? field.default;
  }
  if (typeof spec.duration === 'number' && (spec.duration <= 0 || spec.duration > 72)) {
    error(`${spec.duration} hours is not a workshop length`, { ...at.duration, field: 'duration', fix: 'give the length in hours, e.g. 2 or 1.5' });
  }
  return { spec: problems.some((p) => p.severity === 'error') ? null : (spec as unknown as WorkshopSpec), problems, at };
}
