/**
 * A workshop's pictures (`badgeImg`, `avatar`, `workshopImg` of its wod.yml) found the way the
 * original portal found them, and the one place that decides which file, if any, each is:
 *
 * - an absolute URL (`https://…`, `//…`) is used as it is, and so is a path of this site (`/…`),
 *   except `/img/…`, the original frontend's own folder, which is looked up in the site assets folder;
 * - otherwise it is a file of the workshop's folder (`badge.svg`, `Pictures/badge.png`), or a bare
 *   name as the original's wod.yml files have them (`WOD-Badge-Python101`, resolved by the original
 *   frontend to `/img/badges/<name>`): the workshop folder first, then the site assets folder
 *   (config `workshops.assetsDir`, a copy of the original frontend's `static/img`), under `badges/`
 *   for a badge, under the speakers' folder for an avatar;
 * - each name is tried as it is and with .jpg, .jpeg, .png, .svg, .webp (the original's names have
 *   no extension), then regardless of case, then regardless of `-`, `_` and spaces too (its badge
 *   files are spelt `WOD-Badge-Data-Visu101.jpg` for `WOD-Badge-DataVisu101`, B8).
 *
 * A name found nowhere is `missing`: pages, the API and mails then show wod's drawn badge or avatar,
 * never a broken image, and `checkImages` tells the author. A file is only ever found where the
 * assets routes would serve it (`imageFile`): an image type, no dot-files, no link out of its folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Problem } from './problems.js';
import type { WorkshopSpec } from './spec.js';

export type ImageField = 'badgeImg' | 'avatar' | 'workshopImg';
export const IMAGE_FIELDS: readonly ImageField[] = ['badgeImg', 'avatar', 'workshopImg'];

/** The image types served, by extension. */
export const IMAGE_TYPES: Record<string, string> = {
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};
/** Appended to a name without an image extension, in this order. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.svg', '.webp'];

/** Folders of a workshop and of the site that image names are looked up in. */
export interface ImageRoots {
  /** the workshop's folder on disk; null when unknown */
  workshopDir: string | null;
  /** config `workshops.assetsDir`; null or undefined when not set */
  assetsDir?: string | null;
}

/** Subfolders of the site assets folder per field, in order ('' is the folder itself), as the original frontend laid them out. */
const SITE_FOLDERS: Record<ImageField, string[]> = {
  badgeImg: ['badges', ''],
  avatar: ['wod/SpeakerImages', 'SpeakerImages', 'avatars', ''],
  workshopImg: ['workshops', 'wod', ''],
};
/** How deep a file may be below its root: a workshop's `Pictures/x.png`; the site's `wod/SpeakerImages/x.png`. */
export const MAX_DEPTH = { workshop: 2, site: 3 } as const;

export type ImageSource = { kind: 'none' } | { kind: 'url'; url: string } | { kind: 'workshop' | 'site'; file: string } | { kind: 'missing'; value: string; tried: string[] };

/** A URL with a host of its own (`https://…`, `//…`), used as it is. */
export const isAbsoluteUrl = (value: string): boolean => /^(https?:)?\/\//.test(value);

/** Path parts the routes accept: no empty part, no dot-file or `..`, no slash, backslash or NUL inside one. */
export const isPlainPath = (parts: string[], maxDepth: number): boolean =>
  parts.length >= 1 && parts.length <= maxDepth && parts.every((p) => p && !p.startsWith('.') && !/[\\/\0]/.test(p));

/**
 * The file `parts` names below `root`, if it may be served: an image type, plain parts, a file
 * (not a folder) whose real path is inside the real root, so that no symbolic link leads out.
 */
export function imageFile(root: string | null | undefined, parts: string[], maxDepth: number): { file: string; type: string } | null {
  const type = IMAGE_TYPES[path.extname(parts[parts.length - 1] ?? '').toLowerCase()];
  if (!root || !type || !isPlainPath(parts, maxDepth)) return null;
  try {
    const real = fs.realpathSync(root);
    const full = fs.realpathSync(path.join(real, ...parts));
    return full.startsWith(real + path.sep) && fs.statSync(full).isFile() ? { file: full, type } : null;
  } catch {
    return null;
  }
}

const loose = (name: string) => name.toLowerCase().replace(/[-_\s]+/g, '');

/**
 * The entry of `listing` that `name` means: as it is, then with each image extension, then the same
 * regardless of case, then regardless of `-`, `_` and spaces. Pure.
 */
export function matchName(listing: readonly string[], name: string): string | null {
  const hasType = !!IMAGE_TYPES[path.extname(name).toLowerCase()];
  const wanted = hasType ? [name] : [name, ...IMAGE_EXTENSIONS.map((e) => name + e)];
  for (const compare of [(s: string) => s, (s: string) => s.toLowerCase(), loose]) {
    for (const w of wanted) {
      const hit = listing.find((entry) => compare(entry) === compare(w) && IMAGE_TYPES[path.extname(entry).toLowerCase()]);
      if (hit) return hit;
    }
  }
  return null;
}

const list = (dir: string): string[] => {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
};

/** A name looked up below one root: its folder part as written (`Pictures/`), its last part matched. */
function lookUp(root: string, sub: string, value: string, maxDepth: number): { found: string | null; tried: string } {
  const parts = [...sub.split('/').filter(Boolean), ...value.split('/')];
  const dir = parts.slice(0, -1);
  const tried = path.join(root, ...parts);
  if (!isPlainPath(parts, maxDepth)) return { found: null, tried };
  const hit = matchName(list(path.join(root, ...dir)), parts[parts.length - 1]);
  const rel = hit ? [...dir, hit] : null;
  return { found: rel && imageFile(root, rel, maxDepth) ? rel.join('/') : null, tried };
}

/** Where a field's value is: see the module's comment for the order. */
export function resolveImage(field: ImageField, value: string | null, roots: ImageRoots): ImageSource {
  if (!value) return { kind: 'none' };
  const siteImg = value.match(/^\/img\/(.+)$/);
  if (isAbsoluteUrl(value) || (value.startsWith('/') && !siteImg)) return { kind: 'url', url: value };
  const tried: string[] = [];
  const shown = (t: string) => `${t}${path.extname(t) ? '' : `{,${IMAGE_EXTENSIONS.join(',')}}`}`;
  if (!siteImg && roots.workshopDir) {
    const r = lookUp(roots.workshopDir, '', value, MAX_DEPTH.workshop);
    if (r.found) return { kind: 'workshop', file: r.found };
    tried.push(shown(r.tried));
  }
  if (roots.assetsDir) {
    for (const sub of siteImg ? [''] : SITE_FOLDERS[field]) {
      const r = lookUp(roots.assetsDir, sub, siteImg ? siteImg[1] : value, MAX_DEPTH.site);
      if (r.found) return { kind: 'site', file: r.found };
      tried.push(shown(r.tried));
    }
  }
  return { kind: 'missing', value, tried };
}

const encodePath = (file: string) => file.split('/').map(encodeURIComponent).join('/');

/** The route of a workshop's file, and of a file of the site assets folder (both in web/portal.ts). */
export const workshopAssetUrl = (prefix: string, folder: string, file: string) => `${prefix}workshops/${encodeURIComponent(folder)}/assets/${encodePath(file)}`;
export const siteAssetUrl = (prefix: string, file: string) => `${prefix}assets/${encodePath(file)}`;
/** wod's drawn images: the finisher badge, and a workshop's presenter as initials (web/portal.ts draws them). */
export const drawnBadgeUrl = (prefix: string) => `${prefix}badges/finisher.svg`;
export const drawnAvatarUrl = (prefix: string, folder: string) => `${prefix}workshops/${encodeURIComponent(folder)}/avatar.svg`;

/**
 * The URL a page, the API or a mail shows for a field: null when the field is empty (or a card
 * image is missing: a card goes without one), wod's drawn badge or avatar when a name is missing.
 */
export function imageUrl(prefix: string, folder: string, field: ImageField, source: ImageSource): string | null {
  switch (source.kind) {
    case 'none':
      return null;
    case 'url':
      return source.url;
    case 'workshop':
      return workshopAssetUrl(prefix, folder, source.file);
    case 'site':
      return siteAssetUrl(prefix, source.file);
    case 'missing':
      return field === 'badgeImg' ? drawnBadgeUrl(prefix) : field === 'avatar' ? drawnAvatarUrl(prefix, folder) : null;
  }
}

/** The three URLs of a workshop, resolved once. */
export function workshopImageUrls(prefix: string, folder: string, values: Pick<WorkshopSpec, ImageField>, roots: ImageRoots): Record<ImageField, string | null> {
  return {
    badgeImg: imageUrl(prefix, folder, 'badgeImg', resolveImage('badgeImg', values.badgeImg, roots)),
    avatar: imageUrl(prefix, folder, 'avatar', resolveImage('avatar', values.avatar, roots)),
    workshopImg: imageUrl(prefix, folder, 'workshopImg', resolveImage('workshopImg', values.workshopImg, roots)),
  };
}

const INSTEAD: Record<ImageField, string> = {
  badgeImg: "wod's drawn finisher badge is shown instead",
  avatar: "wod's drawn avatar (the presenter's initials) is shown instead",
  workshopImg: 'the workshop is shown without a picture',
};

/** For lint: each image field whose value is found nowhere, with the places looked in. */
export function checkImages(spec: Pick<WorkshopSpec, ImageField>, workshopDir: string, assetsDir: string | null | undefined): Problem[] {
  const problems: Problem[] = [];
  for (const field of IMAGE_FIELDS) {
    const source = resolveImage(field, spec[field], { workshopDir, assetsDir });
    if (source.kind !== 'missing') continue;
    problems.push({
      severity: 'warning',
      file: path.join(workshopDir, 'wod.yml'),
      field,
      message: `"${source.value}" is found nowhere (looked in ${source.tried.join(', ') || 'no folder'}): ${INSTEAD[field]}`,
      fix: assetsDir
        ? `add the image to the workshop folder or to ${assetsDir}, correct the name, or use a URL`
        : "add the image to the workshop folder, correct the name, or use a URL; for the original frontend's images, copy its static/img to a folder and set workshops.assetsDir",
    });
  }
  return problems;
}
