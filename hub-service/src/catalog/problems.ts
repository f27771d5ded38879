import { oneLine } from '../clean-text.js';

/** A finding about workshop content: where it is, what is wrong, how to fix it. */
export interface Problem {
  severity: 'error' | 'warning';
  /** the file's path */
  file: string;
  line?: number;
  field?: string;
  message: string;
  fix?: string;
}

/** One line per problem, whatever the file held: an unknown key may carry a line break or a terminal escape. */
export function formatProblem(p: Problem): string {
  const where = `${p.file}${p.line ? `:${p.line}` : ''}`;
  return oneLine(`${where}: ${p.severity}: ${p.field ? `${p.field}: ` : ''}${p.message}${p.fix ? ` (fix: ${p.fix})` : ''}`);
}
