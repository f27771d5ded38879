/**
 * A workshop's wod.yml, read the way the original's real-world files are written (ranges as
 * `[151, 170]`, `[151-170]` or `151-170`; booleans as yes/no/"true"; category as a string or a list;
 * any key case), normalised into a WorkshopSpec. Pure: text in, spec and problems out.
 */
import YAML, { LineCounter, isMap, isScalar, type Node, type Pair } from 'yaml';
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
  /** the notebook that asks for the survey, as a pattern (`*Conclusion*` when not set) */
  conclusion: string | null;
}

export const WORKSHOP_FOLDER = /^(WKSHP|CHLG)-[A-Za-z0-9][A-Za-z0-9._-]*$/;

type FieldKind = 'string' | 'text' | 'bool' | 'int' | 'number' | 'range' | 'list' | 'url';
interface Field {
  key: keyof Omit<WorkshopSpec, 'folder'>;
  kind: FieldKind;
  required?: boolean;
  default?: unknown;
}

const FIELDS: Field[] = [
  { key: 'name', kind: 'string', required: true },
  { key: 'description', kind: 'text', required: true },
  { key: 'active', kind: 'bool', default: false },
  { key: 'capacity', kind: 'int', required: true },
  { key: 'priority', kind: 'int', default: 100 },
  { key: 'range', kind: 'range', required: true },
  { key: 'duration', kind: 'number', default: 4 },
  { key: 'reset', kind: 'bool', default: false },
  { key: 'ldap', kind: 'bool', default: false },
  { key: 'varpass', kind: 'bool', default: false },
  { key: 'compile', kind: 'list', default: [] },
  { key: 'location', kind: 'string', default: null },
  { key: 'alternateLocation', kind: 'list', default: [] },
  { key: 'replayId', kind: 'int', default: null },
  { key: 'replayLink', kind: 'url', default: null },
  { key: 'workshopImg', kind: 'string', default: null },
  { key: 'badgeImg', kind: 'string', default: null },
  { key: 'beta', kind: 'bool', default: false },
  { key: 'category', kind: 'list', default: [] },
  { key: 'presenter', kind: 'string', default: null },
  { key: 'role', kind: 'string', default: null },
  { key: 'avatar', kind: 'string', default: null },
  { key: 'monoAppliance', kind: 'bool', default: false },
  { key: 'multiAppliance', kind: 'bool', default: false },
  { key: 'conclusion', kind: 'string', default: null },
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

function coerce(kind: FieldKind, value: unknown): unknown {
  const text = typeof value === 'string' ? value.trim() : value;
  switch (kind) {
    case 'string':
    case 'text':
    case 'url': {
      if (text === null || text === undefined || (typeof text === 'string' && PLACEHOLDERS.has(text.toLowerCase()))) return null;
      if (typeof text !== 'string' && typeof text !== 'number') throw new Invalid('must be text');
      const s = String(text);
      if (kind === 'url' && !/^(https?:\/\/|\/)/.test(s)) throw new Invalid(`'${s}' is not a link`, 'write a full https:// URL');
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
      if (!Number.isFinite(n) || (kind === 'int' && !Number.isInteger(n)) || n < 0) {
        throw new Invalid(`'${text}' is not a ${kind === 'int' ? 'whole ' : ''}number of 0 or more`);
      }
      return n;
    }
    case 'list': {
      if (text === null || text === undefined || text === false) return [];
      const items = Array.isArray(text) ? text : String(text).split(',');
      return items.map((i) => String(i).trim()).filter((i) => i && !PLACEHOLDERS.has(i.toLowerCase()) && i !== 'false');
    }
    case 'range':
      return parseRange(text);
  }
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
  /** line of each field in the file, for later checks that name a field */
  lines: Partial<Record<keyof WorkshopSpec, number>>;
}

export function parseWorkshopSpec(text: string, file: string, folder: string): ParsedSpec {
  const problems: Problem[] = [];
  const lines: ParsedSpec['lines'] = {};
  const error = (message: string, extra: Partial<Problem> = {}) => problems.push({ severity: 'error', file, message, ...extra });

  if (!WORKSHOP_FOLDER.test(folder)) {
    error(`folder name '${folder}' is not a workshop folder`, { fix: 'name it WKSHP-<Name> (letters, digits, . _ -)' });
  }
  const counter = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: counter, uniqueKeys: true });
  const lineOf = (node: Node | Pair | null | undefined) => {
    const range = (node as Node | null)?.range ?? ((node as Pair | null)?.key as Node | null)?.range;
    return range ? counter.linePos(range[0]).line : undefined;
  };
  if (doc.errors.length) {
    for (const e of doc.errors) error(`YAML: ${e.message.split('\n')[0]}`, { line: e.linePos?.[0].line, fix: 'correct the YAML syntax' });
    return { spec: null, problems, lines };
  }
  if (!isMap(doc.contents)) {
    error('wod.yml must be a mapping of fields (name: …, range: […], …)', { line: 1 });
    return { spec: null, problems, lines };
  }

  const values = new Map<Field, { value: unknown; line?: number }>();
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const field = BY_LOWER.get(key.toLowerCase());
    const line = lineOf(pair.key as Node);
    if (!field) {
      problems.push({ severity: 'warning', file, line, field: key, message: 'unknown field, ignored', fix: `remove it, or use one of ${FIELDS.map((f) => f.key).join(', ')}` });
      continue;
    }
    values.set(field, { value: pair.value == null ? null : (pair.value as Node).toJSON(), line });
    if (line) lines[field.key] = line;
  }

  const spec: Record<string, unknown> = { folder };
  for (const field of FIELDS) {
    const found = values.get(field);
    let value: unknown = field.default;
    if (found) {
      try {
        value = coerce(field.kind, found.value);
      } catch (e) {
        const inv = e as Invalid;
        error(inv.message, { line: found.line, field: field.key, fix: inv.fix });
        continue;
      }
    }
    if ((value === null || value === undefined || value === '') && field.required) {
      error(found ? 'is empty' : 'is missing', {
        line: found?.line,
        field: field.key,
        fix: field.kind === 'range' ? `add ${field.key}: [first, last] student numbers` : `add ${field.key}: …`,
      });
      continue;
    }
    spec[field.key] = value ?? field.default;
  }
  if (typeof spec.duration === 'number' && (spec.duration <= 0 || spec.duration > 72)) {
    error(`${spec.duration} hours is not a workshop length`, { line: lines.duration, field: 'duration', fix: 'give the length in hours, e.g. 2 or 1.5' });
  }
  return { spec: problems.some((p) => p.severity === 'error') ? null : (spec as unknown as WorkshopSpec), problems, lines };
}
