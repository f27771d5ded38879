/**
 * Workshop content is Jinja2 templates (`{{ VAR }}`, `{% raw %}`, `{% if MODEWS == 'CHLG' %}`):
 * nunjucks renders that dialect. An undefined variable is an error naming the file, the line and
 * the variable, never a silent blank in someone's notebook. Pure: text in, text out.
 */
import nunjucks from 'nunjucks';

export class TemplateError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly variable: string | undefined,
    detail: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${variable ? `undefined variable ${variable}` : detail}`);
  }
}

// As Ansible's template module: blocks eat the newline after them, the file's last newline stays.
const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true, trimBlocks: true });

/** Values by name: text, numbers, true/false, and the lists and mappings of the original's variables files (hostvars). */
export type Variables = Record<string, unknown>;

const EXPRESSION = /\{\{-?\s*(.*?)\s*-?\}\}/g;

/** Which `{{ … }}` of a line is undefined: nunjucks says where, not what, so each is tried alone. */
function undefinedExpression(line: string, vars: Variables): string | undefined {
  for (const m of line.matchAll(EXPRESSION)) {
    try {
      env.renderString(`{{ ${m[1]} }}`, vars);
    } catch {
      return m[1];
    }
  }
  return undefined;
}

export function renderTemplate(text: string, vars: Variables, file: string): string {
  try {
    return env.renderString(text, vars);
  } catch (e) {
    const message = (e as Error).message;
    const pos = message.match(/\[Line (\d+), Column (\d+)\]/);
    const line = pos ? Number(pos[1]) : undefined;
    const variable = /undefined value/.test(message) && line ? undefinedExpression(text.split('\n')[line - 1] ?? '', vars) : undefined;
    throw new TemplateError(file, line, variable, message.split('\n').filter(Boolean).pop()!.trim());
  }
}

/**
 * Renders and names every undefined variable at once (lint): each one found is replaced by a
 * marker in its line and the text rendered again, so the next is found too. The text comes back
 * with the markers (for the checks that follow), or null after an error that is not a variable.
 */
export function renderAll(text: string, vars: Variables, file: string): { text: string | null; errors: TemplateError[] } {
  const errors: TemplateError[] = [];
  let source = text;
  for (let i = 0; i < 200; i++) {
    try {
      return { text: renderTemplate(source, vars, file), errors };
    } catch (e) {
      const err = e as TemplateError;
      errors.push(err);
      if (!err.variable || !err.line) return { text: null, errors };
      const lines = source.split('\n');
      const before = lines[err.line - 1];
      lines[err.line - 1] = before.replace(EXPRESSION, (whole, expr: string) => (expr === err.variable ? `<undefined ${expr.replace(/[{}%]/g, '')}>` : whole));
      if (lines[err.line - 1] === before) return { text: null, errors };
      source = lines.join('\n');
    }
  }
  return { text: null, errors };
}

/** `KEY=VALUE` lines, as in vars files and the create hook's marked channel. */
export function parseKeyValues(text: string): Variables {
  const out: Variables = {};
  for (const line of text.split(/\r?\n/)) {
    const m = line.match(/^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/);
    if (m) out[m[1]] = m[2].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}
