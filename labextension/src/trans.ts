/**
 * Every string a student reads goes through JupyterLab's translator, in the `wod` domain (its French:
 * labextension/locale, found by jupyterlab_server through the `jupyterlab.locale` entry point). The
 * pure parts take the bundle as a parameter; without one they speak the source English, with
 * gettext's `%1` placeholders filled as JupyterLab fills them.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

export const DOMAIN = 'wod';

export type Trans = Pick<TranslationBundle, '__' | '_n'>;

const fill = (text: string, args: unknown[]) => text.replace(/%(\d+)/g, (placeholder, i: string) => (Number(i) <= args.length ? String(args[Number(i) - 1]) : placeholder));

export const english: Trans = {
  __: (msgid: string, ...args: unknown[]) => fill(msgid, args),
  _n: (singular: string, plural: string, n: number, ...args: unknown[]) => fill(n === 1 ? singular : plural, [n, ...args]),
};
