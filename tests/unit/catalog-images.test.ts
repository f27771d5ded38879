import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkImages, imageFile, imageUrl, matchName, resolveImage, workshopImageUrls } from '../../hub-service/src/catalog/images';
import { initials } from '../../hub-service/src/web/portal';

const PREFIX = '/services/wod/';
let tmp: string;
let workshop: string;
let assets: string;
const put = (file: string, content = 'x') => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
};
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-images-'));
  workshop = path.join(tmp, 'workshops', 'WKSHP-Python101');
  assets = path.join(tmp, 'img');
  put(path.join(workshop, 'wod.yml'));
  put(path.join(workshop, 'presenter.svg'));
  put(path.join(workshop, 'Pictures', 'card.png'));
  put(path.join(workshop, 'WOD-Badge-Shadowed.png'));
  put(path.join(assets, 'badges', 'WOD-Badge-Python101.jpg'));
  put(path.join(assets, 'badges', 'WOD-Badge-Stackstorm101.jpg'));
  put(path.join(assets, 'badges', 'WOD-Badge-Data-Visu101.jpg'));
  put(path.join(assets, 'badges', 'WOD-Badge-Shadowed.jpg'));
  put(path.join(assets, 'wod', 'SpeakerImages', 'karthick.png'));
  put(path.join(assets, 'penguin-worried.jpg'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('matchName (pure)', () => {
  const listing = ['WOD-Badge-Python101.jpg', 'WOD-Badge-Stackstorm101.jpg', 'WOD-Badge-Data-Visu101.jpg', 'notes.txt', 'badge', 'logo.svg'];
  test.each([
    ['logo.svg', 'logo.svg'],
    ['WOD-Badge-Python101', 'WOD-Badge-Python101.jpg'],
    ['WOD-Badge-Python101.jpg', 'WOD-Badge-Python101.jpg'],
    ['wod-badge-python101', 'WOD-Badge-Python101.jpg'],
    ['WOD-Badge-StackStorm101', 'WOD-Badge-Stackstorm101.jpg'],
    ['WOD-Badge-DataVisu101', 'WOD-Badge-Data-Visu101.jpg'],
    ['logo', 'logo.svg'],
    ['notes', null],
    ['notes.txt', null],
    ['badge', null],
    ['WOD-Badge-Python101.png', null],
  ])('%s → %s', (name, expected) => expect(matchName(listing, name)).toBe(expected));
});

describe('resolveImage', () => {
  const roots = () => ({ workshopDir: workshop, assetsDir: assets });
  test('URLs and paths of the site are used as they are', () => {
    expect(resolveImage('badgeImg', 'https://cdn.example/b.png', roots())).toEqual({ kind: 'url', url: 'https://cdn.example/b.png' });
    expect(resolveImage('badgeImg', '//cdn.example/b.png', roots())).toEqual({ kind: 'url', url: '//cdn.example/b.png' });
    expect(resolveImage('avatar', '/static/me.png', roots())).toEqual({ kind: 'url', url: '/static/me.png' });
    expect(resolveImage('avatar', null, roots())).toEqual({ kind: 'none' });
  });

  test('a file of the workshop folder first, as written or without its extension', () => {
    expect(resolveImage('avatar', 'presenter.svg', roots())).toEqual({ kind: 'workshop', file: 'presenter.svg' });
    expect(resolveImage('avatar', 'presenter', roots())).toEqual({ kind: 'workshop', file: 'presenter.svg' });
    expect(resolveImage('workshopImg', 'Pictures/card', roots())).toEqual({ kind: 'workshop', file: 'Pictures/card.png' });
    expect(resolveImage('badgeImg', 'WOD-Badge-Shadowed', roots())).toEqual({ kind: 'workshop', file: 'WOD-Badge-Shadowed.png' });
  });

  test('then the site assets folder: badges under badges/, avatars under the speakers’ folder, /img/… as the original frontend’s path', () => {
    expect(resolveImage('badgeImg', 'WOD-Badge-Python101', roots())).toEqual({ kind: 'site', file: 'badges/WOD-Badge-Python101.jpg' });
    expect(resolveImage('badgeImg', 'WOD-Badge-StackStorm101', roots())).toEqual({ kind: 'site', file: 'badges/WOD-Badge-Stackstorm101.jpg' });
    expect(resolveImage('avatar', 'karthick', roots())).toEqual({ kind: 'site', file: 'wod/SpeakerImages/karthick.png' });
    expect(resolveImage('workshopImg', 'penguin-worried', roots())).toEqual({ kind: 'site', file: 'penguin-worried.jpg' });
    expect(resolveImage('badgeImg', '/img/badges/WOD-Badge-Python101.jpg', roots())).toEqual({ kind: 'site', file: 'badges/WOD-Badge-Python101.jpg' });
    // A badge name is not looked for among the avatars.
    expect(resolveImage('avatar', 'WOD-Badge-Python101', roots()).kind).toBe('missing');
  });

  test('missing: every place looked in; no assets folder, no site lookup', () => {
    const r = resolveImage('badgeImg', 'WOD-Badge-Nope', roots());
    expect(r).toEqual({
      kind: 'missing',
      value: 'WOD-Badge-Nope',
      tried: [
        `${path.join(workshop, 'WOD-Badge-Nope')}{,.jpg,.jpeg,.png,.svg,.webp}`,
        `${path.join(assets, 'badges', 'WOD-Badge-Nope')}{,.jpg,.jpeg,.png,.svg,.webp}`,
        `${path.join(assets, 'WOD-Badge-Nope')}{,.jpg,.jpeg,.png,.svg,.webp}`,
      ],
    });
    expect(resolveImage('badgeImg', 'WOD-Badge-Python101', { workshopDir: workshop, assetsDir: undefined }).kind).toBe('missing');
  });

  test('nothing outside its folder, hidden, too deep, a folder, or not an image', () => {
    put(path.join(tmp, 'secret.png'));
    fs.symlinkSync(path.join(tmp, 'secret.png'), path.join(workshop, 'leak.png'));
    put(path.join(workshop, '.hidden.png'));
    put(path.join(workshop, 'Pictures', 'deeper', 'deep.png'));
    fs.mkdirSync(path.join(workshop, 'folder.png'));
    put(path.join(workshop, 'notes.txt'));
    for (const value of [
      'leak.png',
      'leak',
      '../secret.png',
      '../secret',
      '.hidden.png',
      'Pictures/deeper/deep.png',
      'folder.png',
      'notes.txt',
      'Pictures//card.png',
      'Pictures\\card.png',
    ]) {
      expect([value, resolveImage('workshopImg', value, roots()).kind]).toEqual([value, 'missing']);
    }
    expect(imageFile(workshop, ['..', 'secret.png'], 2)).toBeNull();
    expect(imageFile(workshop, ['leak.png'], 2)).toBeNull();
    expect(imageFile(workshop, ['presenter.svg'], 2)).toEqual({ file: fs.realpathSync(path.join(workshop, 'presenter.svg')), type: 'image/svg+xml' });
    expect(imageFile(null, ['presenter.svg'], 2)).toBeNull();
  });
});

describe('URLs: never a broken image', () => {
  test('found files through their routes; a missing badge or avatar is drawn; a missing card image is none', () => {
    const urls = (values: Partial<Record<'badgeImg' | 'avatar' | 'workshopImg', string | null>>) =>
      workshopImageUrls(PREFIX, 'WKSHP-Python101', { badgeImg: null, avatar: null, workshopImg: null, ...values }, { workshopDir: workshop, assetsDir: assets });
    expect(urls({ badgeImg: 'WOD-Badge-Python101', avatar: 'presenter', workshopImg: 'Pictures/card.png' })).toEqual({
      badgeImg: '/services/wod/assets/badges/WOD-Badge-Python101.jpg',
      avatar: '/services/wod/workshops/WKSHP-Python101/assets/presenter.svg',
      workshopImg: '/services/wod/workshops/WKSHP-Python101/assets/Pictures/card.png',
    });
    expect(urls({ badgeImg: 'WOD-Badge-Nope', avatar: 'nobody', workshopImg: 'nothing' })).toEqual({
      badgeImg: '/services/wod/badges/finisher.svg',
      avatar: '/services/wod/workshops/WKSHP-Python101/avatar.svg',
      workshopImg: null,
    });
    expect(urls({})).toEqual({ badgeImg: null, avatar: null, workshopImg: null });
    expect(imageUrl(PREFIX, 'WKSHP-A b', 'badgeImg', { kind: 'workshop', file: 'Pictures/a b.png' })).toBe('/services/wod/workshops/WKSHP-A%20b/assets/Pictures/a%20b.png');
  });

  test('initials of the drawn avatar', () => {
    expect(initials('Grace Brewster Hopper')).toBe('GH');
    expect(initials('ada')).toBe('A');
    expect(initials('  ')).toBe('?');
    expect(initials(null)).toBe('?');
  });
});

describe('checkImages (for lint)', () => {
  test('a warning per image found nowhere, naming the field, the value and the places looked in', () => {
    const problems = checkImages({ badgeImg: 'WOD-Badge-Nope', avatar: 'presenter.svg', workshopImg: 'https://cdn.example/x.png' }, workshop, assets);
    expect(problems).toEqual([
      {
        severity: 'warning',
        file: path.join(workshop, 'wod.yml'),
        field: 'badgeImg',
        message: expect.stringMatching(
          /^"WOD-Badge-Nope" is found nowhere \(looked in .*WKSHP-Python101\/WOD-Badge-Nope\{,\.jpg.*img\/badges\/WOD-Badge-Nope.*\): wod's drawn finisher badge is shown instead$/,
        ),
        fix: expect.stringContaining(assets),
      },
    ]);
    const [avatar] = checkImages({ badgeImg: null, avatar: 'karthick', workshopImg: null }, workshop, undefined);
    expect(avatar).toMatchObject({ field: 'avatar', fix: expect.stringContaining('workshops.assetsDir') });
    expect(checkImages({ badgeImg: 'WOD-Badge-Python101', avatar: 'karthick', workshopImg: 'Pictures/card' }, workshop, assets)).toEqual([]);
  });
});
