import fs from 'node:fs';
import path from 'node:path';
import { checkNotebook, NBFORMAT_MINOR_MAX, readablePath, templateLine, valueLines } from '../../hub-service/src/content/notebook-schema';
import { renderTemplate } from '../../hub-service/src/content/templating';

const ROOT = path.resolve(__dirname, '..', '..');
const WORKSHOPS = path.join(ROOT, 'workshops');
const notebooks = fs.readdirSync(WORKSHOPS).flatMap((w) =>
  fs
    .readdirSync(path.join(WORKSHOPS, w))
    .filter((f) => f.endsWith('.ipynb'))
    .map((f) => path.join(WORKSHOPS, w, f)),
);

/** A small valid notebook of the given minor version (4.5 wants cell ids, 4.4 refuses them). */
function notebook(minor = 5, cells: unknown[] = [{ cell_type: 'markdown', ...(minor >= 5 ? { id: 'intro' } : {}), metadata: {}, source: ['# Hello'] }]) {
  return { cells, metadata: { kernelspec: { name: 'python3', display_name: 'Python 3' } }, nbformat: 4, nbformat_minor: minor };
}
const text = (nb: unknown) => `${JSON.stringify(nb, null, 1)}\n`;

describe('checkNotebook: the nbformat schema', () => {
  test.each(notebooks.map((f) => [path.relative(WORKSHOPS, f), f]))('the sample notebook %s is valid', (_name, file) => {
    expect(checkNotebook(fs.readFileSync(file, 'utf8'), file)).toEqual([]);
  });

  test('the vendored schemas are those of the nbformat in the students’ .venv', () => {
    const venvSchemas = path.join(ROOT, '.venv', 'lib', 'python3.11', 'site-packages', 'nbformat', 'v4');
    for (let minor = 0; minor <= NBFORMAT_MINOR_MAX; minor++) {
      const name = `nbformat.v4.${minor}.schema.json`;
      expect(fs.readFileSync(path.join(ROOT, 'hub-service', 'src', 'content', 'nbformat', name), 'utf8')).toBe(fs.readFileSync(path.join(venvSchemas, name), 'utf8'));
    }
    // No newer minor in the .venv than the ones vendored: nbformat.v4.schema.json is the last of them.
    expect(fs.readFileSync(path.join(venvSchemas, 'nbformat.v4.schema.json'), 'utf8')).toBe(
      fs.readFileSync(path.join(venvSchemas, `nbformat.v4.${NBFORMAT_MINOR_MAX}.schema.json`), 'utf8'),
    );
  });

  test('each notebook is read with the schema of its own minor version, as nbformat does', () => {
    expect(checkNotebook(text(notebook(4)), 'old.ipynb')).toEqual([]);
    expect(checkNotebook(text(notebook(5)), 'new.ipynb')).toEqual([]);
    // A 4.5 cell without an id, and a 4.4 cell with one.
    const [missing] = checkNotebook(text(notebook(5, [{ cell_type: 'markdown', metadata: {}, source: '' }])), 'x.ipynb');
    expect(missing).toMatchObject({ severity: 'error', field: 'cells[0]', message: expect.stringMatching(/^"id" is missing \(nbformat 4\.5 schema\)/) });
    const [extra] = checkNotebook(text(notebook(4, [{ cell_type: 'markdown', id: 'a', metadata: {}, source: '' }])), 'x.ipynb');
    expect(extra).toMatchObject({ field: 'cells[0]', message: expect.stringMatching(/"id" is not allowed here \(nbformat 4\.4 schema\)/) });
    // A minor newer than nbformat knows is read with the newest schema.
    expect(checkNotebook(text({ ...notebook(5), nbformat_minor: 9 }), 'future.ipynb')).toEqual([]);
  });

  test('every schema error at once, in the order of the file, each with its JSON path and its line, in the branch the cell meant', () => {
    const nb = notebook(5, [
      { cell_type: 'code', id: 'a', metadata: {}, source: 'print(1)', outputs: [{ output_type: 'stream', name: 'stdout' }] },
      { cell_type: 'markdown', id: 'b', metadata: {}, source: 3 },
      { cell_type: 'sql', id: 'c', metadata: {}, source: '' },
      { cell_type: 'markdown', id: 'a', metadata: {}, source: '' },
    ]);
    delete (nb.metadata.kernelspec as { display_name?: string }).display_name;
    const t = text(nb);
    const problems = checkNotebook(t, 'W/1-Lab.ipynb');
    const lineOf = (needle: string, from = 0) => t.slice(0, t.indexOf(needle, from)).split('\n').length;
    expect(problems.map((p) => [p.field, p.message.replace(/ \(nbformat 4\.5 schema\)$/, ''), p.line])).toEqual([
      ['cells[0]', '"execution_count" is missing', lineOf('"cell_type": "code"') - 1],
      ['cells[0].outputs[0]', '"text" is missing', lineOf('"output_type": "stream"') - 1],
      ['cells[1].source', 'must be a string or a list', lineOf('"source": 3')],
      ['cells[2].cell_type', 'cell_type must be one of "raw", "markdown", "code"', lineOf('"cell_type": "sql"')],
      ['cells[3].id', '"a" is already the id of cells[0]: cell ids must be unique', lineOf('"id": "a"', t.indexOf('"cell_type": "sql"'))],
      ['metadata.kernelspec', '"display_name" is missing', lineOf('"kernelspec"')],
    ]);
    expect(problems.every((p) => p.severity === 'error' && p.file === 'W/1-Lab.ipynb' && p.fix)).toBe(true);
  });

  test('not nbformat 4 is one error saying how to convert it', () => {
    expect(checkNotebook('{"nbformat": 3, "worksheets": []}', 'v3.ipynb')).toEqual([expect.objectContaining({ field: 'nbformat', message: expect.stringContaining('is 3') })]);
    expect(checkNotebook('[]', 'list.ipynb')).toEqual([expect.objectContaining({ field: 'nbformat', message: expect.stringContaining('missing') })]);
  });
});

describe('checkNotebook: invalid JSON', () => {
  test('names the line and the column', () => {
    const [p] = checkNotebook('{\n "cells": [\n  {"a": 1,}\n ]\n}\n', 'W/2-Lab.ipynb');
    expect(p).toMatchObject({ severity: 'error', file: 'W/2-Lab.ipynb', line: 3, message: expect.stringMatching(/^is not valid JSON at line 3, column 11: /) });
    const [end] = checkNotebook('{"cells": [', 'cut.ipynb');
    expect(end).toMatchObject({ line: 1, message: expect.stringContaining('column 12') });
  });

  test('a rendered template: the line of the template, found by its text, and the rendered line in the message', () => {
    const source = '{\n{% if MODEWS == "CHLG" %}\n "quiz": true,\n{% endif %}\n "cells": [\n  {"who": "{{ STUDENT }}",}\n ]\n}\n';
    const rendered = renderTemplate(source, { MODEWS: 'WKSHP', STUDENT: 'student7' }, 'W/3-Lab.ipynb');
    const [p] = checkNotebook(rendered, 'W/3-Lab.ipynb', source);
    expect(p.line).toBe(6);
    expect(p.message).toMatch(/line 3 of the rendered notebook; template line found by its text/);
  });

  test('a rendered line found nowhere in the template keeps its number, and says so', () => {
    expect(templateLine('a\nb\nzzz', 'a\nb\nc\nd', 3)).toEqual({ line: 3, how: 'same number' });
    expect(templateLine('a\nb\nzzz', 'a', 3)).toEqual({ line: 1, how: 'same number' });
    // A line of tags alone says nothing of where a line came from; one with text around its tags does.
    expect(templateLine('x\n  "value",', '{% if A %}\nx\n  "{{ V }}",', 2)).toEqual({ line: 3, how: 'matched' });
  });
});

describe('helpers', () => {
  test('valueLines: the line of each value and member by JSON pointer', () => {
    const lines = valueLines('{\n "a": [\n  1,\n  {"b/c": "x\\"y"}\n ],\n "d": null\n}');
    expect(Object.fromEntries(lines)).toEqual({ '': 1, '/a': 2, '/a/0': 3, '/a/1': 4, '/a/1/b~1c': 4, '/d': 6 });
  });

  test('readablePath', () => {
    expect(readablePath('')).toBe('(top level)');
    expect(readablePath('/cells/3/outputs/0/data/text~1plain')).toBe('cells[3].outputs[0].data["text/plain"]');
  });
});
