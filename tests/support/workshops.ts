/** Small, valid workshop folders for tests that must not depend on the sample content. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

export const NOTEBOOK = JSON.stringify({
  cells: [{ cell_type: 'markdown', id: 'a1', metadata: {}, source: ['# Welcome {{ STUDENT }}'] }],
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  nbformat: 4,
  nbformat_minor: 5,
});

export function writeWorkshop(root: string, folder: string, fields: Record<string, unknown> = {}, opts: { notebook?: string | null } = {}): string {
  const dir = path.join(root, folder);
  fs.mkdirSync(dir, { recursive: true });
  const yml = {
    name: `${folder.replace(/^WKSHP-/, '')} workshop`,
    description: `Learn ${folder} by doing.`,
    active: true,
    capacity: 5,
    priority: 10,
    range: [1, 10],
    duration: 2,
    category: ['Open Source'],
    presenter: 'Ada Lovelace',
    role: 'Engineer',
    ...fields,
  };
  fs.writeFileSync(path.join(dir, 'wod.yml'), YAML.stringify(yml));
  if (opts.notebook !== null) fs.writeFileSync(path.join(dir, '0-ReadMeFirst.ipynb'), opts.notebook ?? NOTEBOOK);
  return dir;
}

export function tempWorkshops(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'wod-workshops-'));
}
