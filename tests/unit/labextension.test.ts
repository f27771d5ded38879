/**
 * The lab extension's pure parts: the clock's reading and warnings, the completion rule (checked
 * against the service's CLEANUP rule on the sample workshops), where the service is, and which
 * notebook concludes a workshop (with the catalog's warning for a pattern that names none), and
 * the extension's French (the `wod` gettext domain in labextension/locale).
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkConclusion } from '../../hub-service/src/catalog/checks';
import { parseWorkshopSpec } from '../../hub-service/src/catalog/spec';
import { notebookCounts } from '../../hub-service/src/content/completion';
import { findConclusion, globToRegExp } from '../../hub-service/src/content/conclusion';
import { type Alert, askNow, describeRemaining, dueAlert, formatRemaining, msUntil, secondsShown, urgency } from '../../labextension/src/clock';
import { serviceBaseUrl } from '../../labextension/src/hub';
import { SERVICE_PREFIX } from '../../hub-service/src/config/urls';
import { LatestSender } from '../../labextension/src/reporter';
import { countCells, formatProgress, isWorkshopNotebook, percent, sumCounts } from '../../labextension/src/progress';
import { describeChecks } from '../../labextension/src/checks';
import { extensionOffer, extensionResult } from '../../labextension/src/extension';
import { DOMAIN, type Trans } from '../../labextension/src/trans';

describe('clock', () => {
  test('reads h:mm:ss with hours, m:ss without, never below zero', () => {
    expect(formatRemaining(2 * 3600)).toBe('2:00:00');
    expect(formatRemaining(3600 + 5 * 60 + 9)).toBe('1:05:09');
    expect(formatRemaining(3599)).toBe('59:59');
    expect(formatRemaining(9.9)).toBe('0:09');
    expect(formatRemaining(-5)).toBe('0:00');
  });

  test('says it in words for screen readers', () => {
    expect(describeRemaining(3600 + 120)).toBe('1 hour 2 minutes left');
    expect(describeRemaining(2 * 3600)).toBe('2 hours left');
    expect(describeRemaining(61)).toBe('1 minute left');
    expect(describeRemaining(30)).toBe('less than a minute left');
    expect(describeRemaining(0)).toBe('time is up');
  });

  test('turns amber at 60 minutes and red at 10', () => {
    expect(urgency(3601)).toBe('calm');
    expect(urgency(3600)).toBe('warning');
    expect(urgency(601)).toBe('warning');
    expect(urgency(600)).toBe('critical');
    expect(urgency(1)).toBe('critical');
    expect(urgency(0)).toBe('over');
  });

  test('warns once at ten minutes and once at the end, even when the page opens late', () => {
    const shown = new Set<Alert>();
    expect(dueAlert(601, false, shown)).toBeNull();
    expect(dueAlert(600, false, shown)).toBe('ten-minutes');
    shown.add('ten-minutes');
    expect(dueAlert(300, false, shown)).toBeNull();
    expect(dueAlert(0, false, shown)).toBe('ended');
    shown.add('ended');
    expect(dueAlert(0, true, shown)).toBeNull();
    // A page opened after the end skips the ten-minute call.
    expect(dueAlert(0, true, new Set())).toBe('ended');
  });

  test('the service may end it early; at zero it is over whatever the page last heard', () => {
    expect(dueAlert(5000, true, new Set())).toBe('ended');
    expect(dueAlert(0, false, new Set(['ten-minutes']))).toBe('ended');
  });

  test('asks the service every 10 s in the last minute, so a late extension is known before zero', () => {
    expect(askNow(61, 60_000)).toBe(false);
    expect(askNow(60, 10_000)).toBe(true);
    expect(askNow(30, 9_999)).toBe(false);
    expect(askNow(0, 60_000)).toBe(false);
  });

  test("counts down against the service's clock, and shows 0:00 only when time is up", () => {
    expect(msUntil('2026-11-29T10:00:00.000Z', '2026-11-29T09:59:58.750Z')).toBe(1250);
    expect(msUntil('2026-11-29T10:00:00.000Z', '2026-11-29T10:00:03.000Z')).toBe(0);
    expect(secondsShown(1250)).toBe(2);
    expect(secondsShown(1)).toBe(1);
    expect(secondsShown(0)).toBe(0);
  });
});

describe('completion', () => {
  test('executed code cells over code cells; markdown and raw cells do not count', () => {
    const cells = [
      { cell_type: 'markdown' },
      { cell_type: 'code', execution_count: 3 },
      { cell_type: 'code', execution_count: null },
      { cell_type: 'code' },
      { cell_type: 'raw', execution_count: 1 },
      { cell_type: 'code', execution_count: 0 },
    ];
    expect(countCells(cells)).toEqual({ executed: 2, total: 4 });
    expect(
      sumCounts([
        { executed: 2, total: 4 },
        { executed: 1, total: 3 },
        { executed: 0, total: 0 },
      ]),
    ).toEqual({ executed: 3, total: 7 });
  });

  test('reads as cells and a whole percent, rounded down so 100 % means all', () => {
    expect(formatProgress({ executed: 7, total: 20 })).toBe('7/20 · 35 %');
    expect(percent({ executed: 199, total: 200 })).toBe(99);
    expect(formatProgress({ executed: 3, total: 3 })).toBe('3/3 · 100 %');
    expect(formatProgress({ executed: 0, total: 0 })).toBe('no exercises');
  });

  test('counts what CLEANUP counts, on every sample notebook', () => {
    const root = path.join(__dirname, '..', '..', 'workshops');
    let notebooks = 0;
    for (const folder of fs.readdirSync(root)) {
      for (const file of fs.readdirSync(path.join(root, folder)).filter((f) => f.endsWith('.ipynb'))) {
        const json = fs.readFileSync(path.join(root, folder, file), 'utf8');
        // As shipped, and as a student leaves it: every other code cell run.
        const ran = JSON.parse(json) as { cells: { cell_type: string; execution_count?: number | null }[] };
        ran.cells.forEach((c, i) => c.cell_type === 'code' && (c.execution_count = i % 2 ? i : null));
        for (const nb of [JSON.parse(json) as typeof ran, ran]) expect(countCells(nb.cells)).toEqual(notebookCounts(JSON.stringify(nb)));
        notebooks++;
      }
    }
    expect(notebooks).toBeGreaterThanOrEqual(12);
  });

  test('follows the notebooks at the top of the workshop folder, as CLEANUP reads them', () => {
    expect(isWorkshopNotebook('WKSHP-X/1-Lab.ipynb', 'WKSHP-X')).toBe(true);
    expect(isWorkshopNotebook('WKSHP-X/data/extra.ipynb', 'WKSHP-X')).toBe(false);
    expect(isWorkshopNotebook('WKSHP-X/notes.md', 'WKSHP-X')).toBe(false);
    expect(isWorkshopNotebook('WKSHP-XY/1-Lab.ipynb', 'WKSHP-X')).toBe(false);
    expect(isWorkshopNotebook('Untitled.ipynb', 'WKSHP-X')).toBe(false);
  });
});

describe('progress reports', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());
  /** A send whose answers the test gives, one by one. */
  function fakeSend() {
    const calls: { value: number; settle: (ok: boolean) => void }[] = [];
    const send = (value: number) => new Promise<void>((resolve, reject) => calls.push({ value, settle: (ok) => (ok ? resolve() : reject(new Error('503'))) }));
    return { calls, send };
  }

  test('at most one per interval, carrying the latest value', async () => {
    const { calls, send } = fakeSend();
    const sender = new LatestSender(send, 3000);
    sender.update(1);
    sender.update(2);
    sender.update(3);
    expect(calls).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(3000);
    expect(calls.map((c) => c.value)).toEqual([3]);
    calls[0].settle(true);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(1);
    expect(sender.unsent()).toBeNull();
  });

  test('a value that changes while a report is on its way goes after it', async () => {
    const { calls, send } = fakeSend();
    const sender = new LatestSender(send, 3000);
    sender.update(1);
    await jest.advanceTimersByTimeAsync(3000);
    sender.update(2); // while 1 is in flight
    expect(sender.unsent()).toBe(2);
    calls[0].settle(true);
    await jest.advanceTimersByTimeAsync(3000);
    expect(calls.map((c) => c.value)).toEqual([1, 2]);
  });

  test('a failed report is tried again, with what is latest by then', async () => {
    const { calls, send } = fakeSend();
    const sender = new LatestSender(send, 1000, 5000);
    sender.update(1);
    await jest.advanceTimersByTimeAsync(1000);
    calls[0].settle(false);
    sender.update(2);
    await jest.advanceTimersByTimeAsync(4000);
    expect(calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1000);
    expect(calls.map((c) => c.value)).toEqual([1, 2]);
    calls[1].settle(true);
    await jest.advanceTimersByTimeAsync(0);
    expect(sender.unsent()).toBeNull();
    // The same value again is not sent twice.
    sender.update(2);
    await jest.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(2);
  });
});

test("the service is under the hub's base URL", () => {
  // the extension does not load the service's code: its default name is checked against the service's own
  expect(serviceBaseUrl('/hub/')).toBe(`${SERVICE_PREFIX}api/v1/`);
  expect(serviceBaseUrl('/jupyter/hub/')).toBe('/jupyter/services/wod/api/v1/');
  expect(serviceBaseUrl('/jupyter/hub')).toBe('/jupyter/services/wod/api/v1/');
});

describe('conclusion', () => {
  const names = ['0-ReadMeFirst.ipynb', '1-Basics.ipynb', '10-Bonus.ipynb', '2-Data.ipynb', '3-Conclusion.ipynb', 'README.md'];

  test('is the notebook whose name contains "Conclusion" by default, whatever the case', () => {
    expect(findConclusion(names, null)).toBe('3-Conclusion.ipynb');
    expect(findConclusion(['0-ReadMeFirst.ipynb', '4-conclusion-and-next-steps.ipynb'], null)).toBe('4-conclusion-and-next-steps.ipynb');
  });

  test('else the last numbered notebook, numbers compared as numbers', () => {
    expect(findConclusion(['0-ReadMeFirst.ipynb', '2-Data.ipynb', '10-Wrap.ipynb', '9-More.ipynb', 'scratch.ipynb'], null)).toBe('10-Wrap.ipynb');
    expect(findConclusion(['notes.ipynb', 'README.md'], null)).toBeNull();
  });

  test("follows the workshop's own pattern, * and ? as in a shell", () => {
    expect(findConclusion(names, '*Bonus*')).toBe('10-Bonus.ipynb');
    expect(findConclusion(names, '?-Data.ipynb')).toBe('2-Data.ipynb');
    expect(globToRegExp('a.b(c)*').test('A.B(C)xyz')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
    // A pattern that names nothing falls back to the last numbered notebook...
    expect(findConclusion(names, '*Wrap*')).toBe('10-Bonus.ipynb');
  });

  test('... and the catalog warns about it, naming the line and the notebook used instead', () => {
    const file = '/w/WKSHP-X/wod.yml';
    const parsed = parseWorkshopSpec({ text: 'name: X\ndescription: d\ncapacity: 1\nrange: [1, 1]\nconclusion: "*Wrap*"\n', file }, 'WKSHP-X');
    expect(parsed.spec?.conclusion).toBe('*Wrap*');
    const [warning, ...rest] = checkConclusion(parsed.spec!.conclusion, names, parsed.at.conclusion!);
    expect(rest).toEqual([]);
    expect(warning).toMatchObject({ severity: 'warning', file, line: 5, field: 'conclusion' });
    expect(warning.message).toBe('"*Wrap*" matches no notebook: the survey opens with 10-Bonus.ipynb, the last numbered one');
    expect(checkConclusion('*bonus*', names, { file })).toEqual([]);
    expect(checkConclusion(null, names, { file })).toEqual([]);
  });
});

describe('translations', () => {
  const lab = path.join(__dirname, '..', '..', 'labextension');
  const locales = path.join(lab, 'locale', 'wod_labextension_locale', 'locale');
  type Catalog = Record<string, string[]> & { '': Record<string, string> };
  const catalog = (locale: string) => JSON.parse(fs.readFileSync(path.join(locales, locale, 'LC_MESSAGES', `${DOMAIN}.json`), 'utf8')) as Catalog;
  const fr = catalog('fr_FR');
  const literal = String.raw`'((?:[^'\\]|\\.)*)'`;
  /** Every message the sources give the translator, as gettext's msgids: `trans.__('…')` and `trans._n('…', '…', n)`. */
  const used = new Map<string, string[]>();
  for (const file of fs.readdirSync(path.join(lab, 'src')).filter((f) => f.endsWith('.ts'))) {
    const source = fs.readFileSync(path.join(lab, 'src', file), 'utf8');
    for (const m of source.matchAll(new RegExp(String.raw`\b__\(\s*${literal}`, 'g'))) used.set(m[1], [m[1]]);
    for (const m of source.matchAll(new RegExp(String.raw`\b_n\(\s*${literal},\s*${literal}`, 'g'))) used.set(m[1], [m[1], m[2]]);
  }
  const placeholders = (text: string) => [...new Set(text.match(/%\d+/g))].sort();

  /** gettext as JupyterLab's Gettext reads the file: French plurals are `n > 1`. */
  const french: Trans = {
    __: (msgid: string, ...args: unknown[]) => (fr[msgid]?.[0] ?? msgid).replace(/%(\d+)/g, (_, i: string) => String(args[Number(i) - 1])),
    _n: (singular: string, plural: string, n: number, ...args: unknown[]) =>
      (fr[singular]?.[n > 1 ? 1 : 0] ?? (n === 1 ? singular : plural)).replace(/%(\d+)/g, (_, i: string) => String([n, ...args][Number(i) - 1])),
  };

  test.each(fs.readdirSync(locales))('the sources use literal messages, every one translated in %s, with the same placeholders', (locale) => {
    const translations = catalog(locale);
    const forms = Number(translations[''].plural_forms.match(/nplurals=(\d+)/)![1]);
    expect(used.size).toBeGreaterThanOrEqual(50);
    for (const [msgid, source] of used) {
      expect([msgid, translations[msgid]?.length]).toEqual([msgid, source.length === 1 ? 1 : forms]);
      for (const translated of translations[msgid]) expect([msgid, placeholders(translated)]).toEqual([msgid, placeholders(source.at(-1)!)]);
    }
    // and nothing stale: every message translated is one the sources use
    expect(Object.keys(translations).filter((k) => k && !used.has(k))).toEqual([]);
  });

  test('is the domain jupyterlab_server finds: the entry point names the file, in the package it points to', () => {
    expect(fr['']).toMatchObject({ domain: DOMAIN, language: 'fr-FR', plural_forms: 'nplurals=2; plural=(n > 1);' });
    const pyproject = fs.readFileSync(path.join(lab, 'locale', 'pyproject.toml'), 'utf8');
    expect(pyproject).toMatch(new RegExp(String.raw`\[project\.entry-points\."jupyterlab\.locale"\]\n${DOMAIN} = "wod_labextension_locale"`));
  });

  test('the pure parts speak French through the bundle, English without one', () => {
    expect(describeRemaining(3600 + 120, french)).toBe('il reste 1 heure 2 minutes');
    expect(describeRemaining(2 * 3600 + 60, french)).toBe('il reste 2 heures 1 minute');
    expect(describeRemaining(30, french)).toBe('il reste moins d’une minute');
    expect(describeRemaining(0, french)).toBe('le temps est écoulé');
    expect(formatProgress({ executed: 0, total: 0 }, french)).toBe('aucun exercice');
    expect(formatProgress({ executed: 7, total: 20 }, french)).toBe('7/20 · 35 %');
    expect(describeChecks({ passed: 2, total: 3 }, french)).toBe('Vérifications\u00a0: 2 sur 3 réussies');
    expect(extensionOffer({ extension: { possible: true, minutes: 30 } } as Parameters<typeof extensionOffer>[0], french)).toBe('Demander 30 minutes de plus');
    expect(extensionResult({ deadline: new Date(0) }, () => '10:50', french)).toEqual({
      title: 'Temps supplémentaire accordé',
      body: 'Votre atelier se termine désormais à 10:50.',
    });
    expect(describeRemaining(3600 + 120)).toBe('1 hour 2 minutes left');
  });
});
