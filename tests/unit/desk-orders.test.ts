/** Orders at the one desk (registrations/order-desk.ts): operator ranges, permanent refusals, challenge mode. */
import path from 'node:path';
import { scanWorkshops } from '../../hub-service/src/catalog/loader';
import { importWorkshops } from '../../hub-service/src/catalog/sync';
import { OrderError, parseOrder } from '../../hub-service/src/mail-in/orders';
import { syncPool } from '../../hub-service/src/pool/pool';
import { placeAction, placeOrder } from '../../hub-service/src/registrations/order-desk';
import { Registrations } from '../../hub-service/src/registrations/registrations';
import { openDatabase } from '../../hub-service/src/store/db';
import { tempWorkshops, writeWorkshop } from '../support/workshops';

const OPERATOR = 'ops@example.org';

function setup() {
  const root = tempWorkshops();
  writeWorkshop(root, 'WKSHP-Python101', { range: [10, 19], capacity: 10 });
  writeWorkshop(root, 'CHLG-Quiz', { range: [20, 24], capacity: 5 });
  const db = openDatabase(path.join(root, 'wod.sqlite'));
  syncPool(db, 30);
  importWorkshops(db, scanWorkshops({ dir: root }, 30), 'test');
  const registrations = (state = "'registered'") =>
    db
      .prepare(
        `SELECT r.id, s.name AS student, r.external_id AS externalId, r.mode, r.state FROM registrations r JOIN students s ON s.id = r.student_id
                WHERE r.state IN (${state}) ORDER BY r.id`,
      )
      .all() as { id: number; student: string; externalId: string; mode: string; state: string }[];
  return { db, registrations };
}

test('a range of operator orders makes one registration per student, all from the same address', () => {
  const { db, registrations } = setup();
  const jobs = placeAction(db, { verb: 'CREATE', workshop: 'WKSHP-Python101', students: '10,12' }, OPERATOR, 30, 'cli');
  expect(jobs).toHaveLength(3);
  expect(registrations().map((r) => r.student)).toEqual(['student10', 'student11', 'student12']);
  expect(db.prepare(`SELECT verb, student_id AS n FROM jobs ORDER BY id`).all()).toEqual([10, 11, 12].map((n) => ({ verb: 'CREATE', n })));
  // the same range cleaned: each registration ends with its CLEANUP
  const cleanups = placeAction(db, { verb: 'CLEANUP', workshop: 'WKSHP-Python101', students: '10,12' }, OPERATOR, 30, 'cli');
  expect(cleanups).toHaveLength(3);
  expect(registrations("'ended'").map((r) => r.student)).toEqual(['student10', 'student11', 'student12']);
  expect(db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE verb = 'CLEANUP' AND registration_id IS NOT NULL`).get()).toEqual({ n: 3 });
});

test('the portal still allows one running registration per address; orders do not count against it', () => {
  const { db } = setup();
  placeAction(db, { verb: 'CREATE', workshop: 'WKSHP-Python101', students: '10' }, 'ada@example.com', 30, 'cli');
  const desk = new Registrations(db);
  const person = { email: 'ada@example.com', name: 'Ada', company: 'ACME', workshop: 'WKSHP-Python101', acceptTerms: true as const };
  expect(desk.register(person, { source: 'portal' }).student).toBe('student11');
  expect(() => desk.register(person, { source: 'portal' })).toThrow(/already registered/);
});

test('a CREATE for a taken student is refused for good, with the reason, and stores nothing', () => {
  const { db } = setup();
  placeOrder(db, parseOrder(`CREATE 10 825 ada@example.com`, 'WKSHP-Python101'), '<a@x>', 30);
  const before = db.prepare('SELECT COUNT(*) AS n FROM jobs').get();
  expect(() => placeOrder(db, parseOrder(`CREATE 10 826 bob@example.com`, 'WKSHP-Python101'), '<b@x>', 30)).toThrow(OrderError);
  expect(() => placeOrder(db, parseOrder(`CREATE 10 826 bob@example.com`, 'WKSHP-Python101'), '<b@x>', 30)).toThrow(/student 10 is in use \(allocated\)/);
  expect(db.prepare('SELECT COUNT(*) AS n FROM jobs').get()).toEqual(before);
  // a repeated message runs nothing twice
  expect(placeOrder(db, parseOrder(`CREATE 10 825 ada@example.com`, 'WKSHP-Python101'), '<a@x>', 30).duplicate).toBe(true);
});

test('CHLG-X orders WKSHP-X in challenge mode; a folder really named CHLG-X is ordered as itself, in challenge mode', () => {
  const { db, registrations } = setup();
  placeOrder(db, parseOrder('CREATE 11 825 ada@example.com', 'CHLG-Python101'), '<c1@x>', 30);
  placeOrder(db, parseOrder('CREATE 12 826 bob@example.com', 'WKSHP-Python101'), '<c2@x>', 30);
  placeOrder(db, parseOrder('CREATE 20 827 cy@example.com', 'CHLG-Quiz'), '<c3@x>', 30);
  expect(registrations().map((r) => [r.student, r.externalId, r.mode])).toEqual([
    ['student11', '825', 'CHLG'],
    ['student12', '826', 'WKSHP'],
    ['student20', '827', 'CHLG'],
  ]);
  // from the portal, a workshop offered as a challenge (a CHLG- folder) registers in challenge mode too
  const r = new Registrations(db).register({ email: 'dee@example.com', name: 'Dee', company: 'ACME', workshop: 'CHLG-Quiz', acceptTerms: true }, { source: 'portal' });
  expect(db.prepare('SELECT mode FROM registrations WHERE id = ?').get(r.id)).toEqual({ mode: 'CHLG' });
  expect(() => placeOrder(db, parseOrder('CREATE 13 828 e@example.com', 'CHLG-Nothing'), '<c4@x>', 30)).toThrow(/unknown workshop CHLG-Nothing/);
});

test('a CLEANUP or PURGE ordered for a student whose registration ended (a stuck CLEANUP) takes that registration with it', () => {
  const { db } = setup();
  placeAction(db, { verb: 'CREATE', workshop: 'WKSHP-Python101', students: '10' }, OPERATOR, 30, 'cli');
  const [first] = placeAction(db, { verb: 'CLEANUP', workshop: 'WKSHP-Python101', students: '10' }, OPERATOR, 30, 'cli');
  const again = placeAction(db, { verb: 'CLEANUP', workshop: 'WKSHP-Python101', students: '10' }, OPERATOR, 30, 'admin');
  const purge = placeAction(db, { verb: 'PURGE', workshop: 'WKSHP-Python101', students: '10' }, OPERATOR, 30, 'admin');
  const registrationOf = (job: number) => (db.prepare('SELECT registration_id AS r FROM jobs WHERE id = ?').get(job) as { r: number | null }).r;
  const registration = registrationOf(first);
  expect(registration).not.toBeNull();
  expect([...again, ...purge].map(registrationOf)).toEqual([registration, registration]);
});
