/**
 * Workshop content is Jinja2 templates (`{{ VAR }}`, `{% raw %}`, `{% if MODEWS == 'CHLG' %}`):
 * nunjucks renders that dialect. An undefined variable is an error naming the file, the line and
 * the variable, never a silent blank in someone's notebook. Pure: text in, text out.
 */
import nunjucks from 'nunjucks';

/** The files that are rendered; everything else is copied as it is. */
export const TEMPLATED = new Set(['.ipynb', '.py', '.sh', '.yaml', '.yml', '.md', '.txt', '.env', '.tf', '.src']);

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

const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true, trimBlocks: false });

export type Variables = Record<string, string | number | boolean>;

export function renderTemplate(text: string, vars: Variables, file: string): string {
  try {
    return env.renderString(text, vars);
  } catch (e) {
    const message = (e as Error).message;
    const pos = message.match(/\[Line (\d+), Column (\d+)\]/);
    const line = pos ? Number(pos[1]) : undefined;
    let variable: string | undefined;
    if (/undefined value/.test(message) && pos) {
      // nunjucks says where, not what: read the expression at that spot.
      const src = text.split('\n')[Number(pos[1]) - 1] ?? '';
      const names = [...src.matchAll(/\{\{-?\s*([A-Za-z_][\w.]*)/g)].map((m) => m[1]);
      variable = names.find((n) => !(n.split('.')[0] in vars)) ?? names[0];
    }
    throw new TemplateError(file, line, variable, message.split('\n').filter(Boolean).pop()!.trim());
  }
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
