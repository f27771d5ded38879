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

export function formatProblem(p: Problem): string {
  const where = `${p.file}${p.line ? `:${p.line}` : ''}`;
  return `${where}: ${p.severity}: ${p.field ? `${p.field}: ` : ''}${p.message}${p.fix ? ` (fix: ${p.fix})` : ''}`;
}
