/**
 * The thanks mail's badge is resolved as the portal resolves it (../../hub-service/src/catalog/images.ts):
 * a bare name found in the site assets folder is that image, a name found nowhere is wod's drawn
 * finisher badge, never a broken image; always an absolute URL, since a mail is read far from the site.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Sealer } from '../../hub-service/src/auth/seal';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { loadConfig } from '../../hub-service/src/config/load';
import { Languages } from '../../hub-service/src/i18n/i18n';
import { Letters } from '../../hub-service/src/journey/letters';
import { MailLinks } from '../../hub-service/src/journey/links';
import { createLogger } from '../../hub-service/src/log';
import { Mailer } from '../../hub-service/src/mail-out/mailer';
import type { MailTransport } from '../../hub-service/src/mail-out/transport';
import { syncPool } from '../../hub-service/src/pool/pool';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const transport: MailTransport = { send: async () => {} };

test('the thanks mail shows the badge found in the assets folder, or the drawn one', () => {
  const root = tempWorkshops();
  const assets = path.join(root, 'img');
  fs.mkdirSync(path.join(assets, 'badges'), { recursive: true });
  fs.writeFileSync(path.join(assets, 'badges', 'WOD-Badge-Python101.jpg'), 'jpeg');
  writeWorkshop(root, 'WKSHP-Found', { range: [1, 10], badgeImg: 'WOD-Badge-Python101' });
  writeWorkshop(root, 'WKSHP-Lost', { range: [11, 20], badgeImg: 'WOD-Badge-Gone' });
  writeWorkshop(root, 'WKSHP-None', { range: [21, 30] });
  const db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 30);
  importWorkshops(db, scanWorkshops({ dir: root }, 30), 'test');
  const config = loadConfig({ env: { WOD_PUBLIC_URL: 'https://wod.example.org', WOD_WORKSHOPS_ASSETS_DIR: assets } });
  const links = new MailLinks(db, new Sealer('k'.repeat(64)), config.publicUrl);
  const mailer = new Mailer(
    db,
    transport,
    links,
    config,
    createLogger('error', 't', () => {}),
  );
  const letters = new Letters(db, mailer, links, config, new Languages());
  const registrations = new Registrations(db, {});
  const badgeOf = (workshop: string) => {
    const id = registrations.register({ email: `${workshop.toLowerCase()}@example.com`, name: 'Ada', company: 'ACME', workshop, acceptTerms: true }, { source: 'portal' }).id;
    db.prepare(`UPDATE registrations SET state = 'cleaned', completion = 1 WHERE id = ?`).run(id);
    letters.thanks(id);
    const { html } = db.prepare(`SELECT html FROM mails WHERE kind = 'thanks' AND registration_id = ?`).get(id) as { html: string };
    return [...html.matchAll(/<img[^>]* src="([^"]+)"/g)].map((m) => m[1]);
  };
  try {
    expect(badgeOf('WKSHP-Found')).toContain('https://wod.example.org/services/wod/assets/badges/WOD-Badge-Python101.jpg');
    expect(badgeOf('WKSHP-Lost')).toContain('https://wod.example.org/services/wod/badges/finisher.svg');
    expect(badgeOf('WKSHP-None').some((src) => src.includes('badges/'))).toBe(false);
  } finally {
    db.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
