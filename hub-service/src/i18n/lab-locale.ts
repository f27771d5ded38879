/**
 * The participant's language in their JupyterLab: the setting of JupyterLab's translation extension,
 * written into the home at CREATE (the content step, before the home is handed to the student), so
 * that JupyterLab (its language pack) and the wod extension (its `wod` domain, labextension/locale)
 * open in it. English is written too: JupyterLab's own default, "default", follows the server's
 * system locale.
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * Where JupyterLab keeps the user settings of `@jupyterlab/translation-extension:plugin`, under the
 * home: jupyter_config_dir() is ~/.jupyter, as no JUPYTER_CONFIG_DIR is set for students.
 */
export const LAB_LOCALE_FILE = path.join('.jupyter', 'lab', 'user-settings', '@jupyterlab', 'translation-extension', 'plugin.jupyterlab-settings');

/** The settings file for a JupyterLab locale (`language.json`'s `jupyterlab`: "fr_FR", "en"). */
export function labLocaleSettings(locale: string): string {
  return `${JSON.stringify({ locale }, null, 2)}\n`;
}

/** Makes the folders from `home` down to `dir`, refusing a link or a file on the way: a link in a home could point anywhere. */
function ensureDirs(home: string, dir: string): void {
  let at = home;
  for (const part of path.relative(home, dir).split(path.sep)) {
    at = path.join(at, part);
    try {
      fs.mkdirSync(at, { mode: 0o755 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (!fs.lstatSync(at).isDirectory()) throw new Error(`${at} is not a folder: JupyterLab's language not written`, { cause: e });
    }
  }
}

/** Writes the JupyterLab language setting into `home`; returns the file written. */
export function writeLabLocale(home: string, locale: string): string {
  const file = path.join(home, LAB_LOCALE_FILE);
  ensureDirs(home, path.dirname(file));
  // never through a link left in the home
  const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644);
  try {
    fs.writeFileSync(fd, labLocaleSettings(locale));
  } finally {
    fs.closeSync(fd);
  }
  return file;
}
