import { completion, notebookCounts } from '../../hub-service/src/content/completion';
import { parseKeyValues, renderTemplate, TemplateError } from '../../hub-service/src/content/templating';

describe('templating (Jinja2 dialect)', () => {
  const vars = { STDID: 7, STUDENT: 'student7', MODEWS: 'WKSHP', BRANDINGWOD: 'wod' };

  test('variables, raw blocks and conditions as the original content uses them', () => {
    expect(renderTemplate('Hello {{ STUDENT }} ({{STDID}})', vars, 'f')).toBe('Hello student7 (7)');
    expect(renderTemplate('{% raw %}{{ not_a_var }}{% endraw %}', vars, 'f')).toBe('{{ not_a_var }}');
    expect(renderTemplate("{% if MODEWS == 'CHLG' %}quiz{% else %}survey{% endif %}", vars, 'f')).toBe('survey');
    expect(renderTemplate('{{ BRANDINGWOD | upper }}', vars, 'f')).toBe('WOD');
  });

  test('an undefined variable names the file, the line and the variable', () => {
    let error: TemplateError | undefined;
    try {
      renderTemplate('line one\nuses {{ STUDENT }} and {{ PASSSTU }}\n', vars, 'WKSHP-X/1-Lab.ipynb');
    } catch (e) {
      error = e as TemplateError;
    }
    expect(error).toBeInstanceOf(TemplateError);
    expect(error!.message).toBe('WKSHP-X/1-Lab.ipynb:2: undefined variable PASSSTU');
  });

  test('a syntax error names the file and line', () => {
    expect(() => renderTemplate('ok\n{% if %}', vars, 'a.md')).toThrow(/^a\.md:2: /);
  });

  test('KEY=VALUE lines', () => {
    expect(parseKeyValues('# comment\nHTTPPORT=8080\nTOKEN="a b"\nnot a pair\n  X=1 \n')).toEqual({ HTTPPORT: '8080', TOKEN: 'a b', X: '1' });
  });
});

describe('completion ratio', () => {
  const nb = (cells: object[]) => JSON.stringify({ nbformat: 4, cells });
  test('executed code cells over code cells, counted in the JSON', () => {
    const lab = nb([
      { cell_type: 'markdown', source: 'execution_count: null' },
      { cell_type: 'code', execution_count: 3, outputs: [{ output_type: 'execute_result', execution_count: 3 }] },
      { cell_type: 'code', execution_count: null, outputs: [] },
    ]);
    expect(notebookCounts(lab)).toEqual({ executed: 1, total: 2 });
    expect(completion([lab, nb([{ cell_type: 'code', execution_count: 1 }])])).toEqual({ executed: 2, total: 3, ratio: 2 / 3 });
  });
  test('no code cells means no ratio; a broken notebook counts as nothing', () => {
    expect(completion([nb([{ cell_type: 'markdown' }])]).ratio).toBeNull();
    expect(completion(['{broken', nb([{ cell_type: 'code', execution_count: null }])])).toEqual({ executed: 0, total: 1, ratio: 0 });
  });
});
