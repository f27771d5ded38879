/**
 * What the participant is told, when: the welcome at registration, the credentials when the
 * workshop is ready, the reminder, the thanks with the badge (and a milestone badge), the apology
 * when it could not be prepared. Each is keyed by registration and kind: it goes once.
 */
import crypto from 'node:crypto';
import { generatePassword, hashPassword } from '../accounts/passwords.js';
import { imageUrl, isAbsoluteUrl, resolveImage } from '../catalog/images.js';
import type { WodConfig } from '../config/schema.js';
import { hubUrlFor, portalUrl, SERVICE_PREFIX } from '../config/urls.js';
import { TransientError } from '../jobs/engine.js';
import type { Languages, Translator } from '../i18n/i18n.js';
import { milestoneAt, milestoneSlug, mails } from '../mail-out/content.js';
import type { Mailer } from '../mail-out/mailer.js';
import { type MailLinks, START_LINK, STATUS_LINK, WORK_LINK } from './links.js';
import { findArchive } from '../work/records.js';
import { queueCommand, routedTo } from '../locations/commands.js';
import { RegistrationError } from '../registrations/registrations.js';
import type { Db } from '../store/db.js';
import { CLOCK_RUNNING, sqlList } from '../registrations/states.js';

interface Reg {
  id: number;
  /** set for registrations made by a mail order: the api-db (or the operator) tells its participant itself */
  externalId: string | null;
  name: string;
  email: string;
  participantId: number;
  workshop: string;
  folder: string;
  /** the workshop's folder on disk */
  path: string;
  badgeImg: string | null;
  deadlineAt: string | null;
  completion: number | null;
  /** the language they registered in: their mails are written in it */
  tr: Translator;
  /** backend side: the portal that routed it here, which tells its participant (externalId is its id there) */
  portal: string | null;
  /** portal side: the backend that seats it, whose hub they log in to */
  location: string | null;
}

/** Backend side: hands a routed registration's credentials to its portal, which mails them (locations/updates.ts). */
export type CredentialsRelay = (portal: string, c: { ref: number; key: string; student: string; password: string; deadlineAt: string }) => Promise<void>;

export class Letters {
  constructor(
    private readonly db: Db,
    private readonly mailer: Mailer,
    private readonly links: MailLinks,
    private readonly config: Pick<WodConfig, 'publicUrl' | 'workshops' | 'mail' | 'defaultLanguage' | 'locations'>,
    private readonly languages: Languages,
    private readonly relay?: CredentialsRelay,
  ) {}

  private reg(id: number): Reg {
    const row = this.db
      .prepare(
        `SELECT r.id, r.external_id AS externalId, p.name, p.email, p.id AS participantId, w.name AS workshop, w.folder, w.path, w.spec, r.deadline_at AS deadlineAt, r.completion, r.language, r.portal, r.location
                FROM registrations r JOIN participants p ON p.id = r.participant_id JOIN workshops w ON w.id = r.workshop_id WHERE r.id = ?`,
      )
      .get(id) as Omit<Reg, 'tr'> & { spec: string; language: string | null };
    return {
      ...row,
      name: row.name || row.email,
      badgeImg: (JSON.parse(row.spec) as { badgeImg: string | null }).badgeImg,
      tr: this.languages.get(row.language ?? this.config.defaultLanguage),
    };
  }

  /** Queued mails carry placeholders for the links that act as the participant: they are made at sending. */
  private base(r: Reg) {
    return { name: r.name, workshop: r.workshop, statusUrl: STATUS_LINK };
  }

  private badgeImage(r: Reg): string | null {
    // Resolved as the portal does: a badge found nowhere is wod's drawn one, never a broken image.
    const url = imageUrl(SERVICE_PREFIX, r.folder, 'badgeImg', resolveImage('badgeImg', r.badgeImg, { workshopDir: r.path, assetsDir: this.config.workshops.assetsDir }));
    // A mail is read far from the site: its images need absolute URLs.
    return url && !isAbsoluteUrl(url) ? `${this.config.publicUrl}${url}` : url;
  }

  welcome(id: number): void {
    const r = this.reg(id);
    this.mailer.queue({ kind: 'welcome', key: `welcome-${id}`, registrationId: id, to: r.email, content: mails.welcome(this.base(r), r.tr) });
  }

  reminder(id: number, minutesLeft: number): void {
    const r = this.reg(id);
    if (r.externalId !== null) return;
    this.mailer.queue({
      kind: 'reminder',
      key: `reminder-${id}`,
      registrationId: id,
      to: r.email,
      content: mails.reminder({ ...this.base(r), minutesLeft, startUrl: START_LINK, deadlineAt: r.deadlineAt! }, r.tr),
    });
  }

  /** The thanks (with the link to their work when it was archived), and the milestone mail when this finished workshop reaches one. */
  thanks(id: number): void {
    const r = this.reg(id);
    const portal = portalUrl(this.config);
    const archive = findArchive(this.db, id);
    this.mailer.queue({
      kind: 'thanks',
      key: `thanks-${id}`,
      registrationId: id,
      to: r.email,
      content: mails.thanks(
        {
          ...this.base(r),
          completion: r.completion,
          badgeImage: this.badgeImage(r),
          badgePage: `${portal}badges/workshop/${r.folder}`,
          surveyUrl: this.config.workshops.surveyUrl,
          portalUrl: portal,
          work: archive && { url: WORK_LINK, expiresAt: archive.expiresAt },
        },
        r.tr,
      ),
    });
    const { n } = this.db.prepare(`SELECT COUNT(DISTINCT workshop_id) AS n FROM registrations WHERE participant_id = ? AND state = 'cleaned'`).get(r.participantId) as {
      n: number;
    };
    const level = milestoneAt(n);
    if (!level) return;
    this.db.prepare('UPDATE participants SET milestone = ? WHERE id = ?').run(level, r.participantId);
    const slug = milestoneSlug(level);
    // the drawn badge speaks the mail's language (`?lang`, web/language.ts): a mail client fetching it sends no cookie
    const badgeImage = `${portal}badges/${slug}.svg?lang=${r.tr.language}`;
    this.mailer.queue({
      kind: 'milestone',
      key: `milestone-${r.participantId}-${slug}`,
      registrationId: id,
      to: r.email,
      content: mails.milestone({ name: r.name, level, count: n, badgePage: `${portal}badges/${slug}`, badgeImage }, r.tr),
    });
  }

  /** The acknowledgement of a survey answer: once per registration, however often it is changed. */
  feedback(id: number, rating: number): void {
    const r = this.reg(id);
    if (r.portal !== null) return;
    this.mailer.queue({
      kind: 'feedback',
      key: `feedback-${id}`,
      registrationId: id,
      to: r.email,
      content: mails.feedback({ ...this.base(r), rating, portalUrl: portalUrl(this.config) }, r.tr),
    });
  }

  /** A registration seated at another wod is late: it moved to another place, or waits for its own. Once per registration. */
  delayed(id: number, moved: boolean): void {
    const r = this.reg(id);
    this.mailer.queue({ kind: 'delayed', key: `delayed-${id}`, registrationId: id, to: r.email, content: mails.delayed({ ...this.base(r), moved }, r.tr) });
  }

  apology(id: number): void {
    const r = this.reg(id);
    if (r.externalId !== null) return;
    this.mailer.queue({
      kind: 'apology',
      key: `apology-${id}`,
      registrationId: id,
      to: r.email,
      content: mails.apology({ ...this.base(r), portalUrl: portalUrl(this.config) }, r.tr),
    });
  }

  /**
   * New credentials for a running registration (an admin's "resend"): a new password, mailed first,
   * then set, so that the participant is never left with a password they did not receive.
   */
  async newCredentials(id: number): Promise<void> {
    const at = routedTo(this.db, id);
    if (at) {
      // its backend makes them, and they come back here to be mailed (locations/mirror.ts)
      const { state } = this.db.prepare('SELECT state FROM registrations WHERE id = ?').get(id) as { state: string };
      if (!at.accepted || !(CLOCK_RUNNING as readonly string[]).includes(state))
        throw new RegistrationError(409, 'not-running', `registration ${id} is not ready: there is nothing to log in to`);
      return queueCommand(this.db, { location: at.location, registrationId: id, command: 'credentials' });
    }
    const row = this.db
      .prepare(
        `SELECT s.id AS studentId, s.name AS student, w.folder, w.name FROM registrations r JOIN students s ON s.id = r.student_id
                JOIN workshops w ON w.id = r.workshop_id WHERE r.id = ? AND r.state IN (${sqlList(CLOCK_RUNNING)})`,
      )
      .get(id) as { studentId: number; student: string; folder: string; name: string } | undefined;
    if (!row) throw new RegistrationError(409, 'not-running', `registration ${id} is not ready: there is nothing to log in to`);
    const password = generatePassword(16);
    await this.credentials({
      key: `credentials-${id}-resent-${crypto.randomBytes(3).toString('hex')}`,
      registrationId: id,
      student: row.student,
      password,
      workshop: { folder: row.folder, name: row.name },
    });
    this.db.prepare('UPDATE students SET password_hash = ? WHERE id = ?').run(await hashPassword(password), row.studentId);
  }

  /** Sent at once by the CREATE job (the password lives in memory only). */
  async credentials(c: {
    jobId?: number;
    key?: string;
    registrationId: number | null;
    student: string;
    password: string;
    deadlineAt?: string;
    workshop: { folder: string; name: string };
  }): Promise<void> {
    const r = c.registrationId !== null ? this.reg(c.registrationId) : null;
    const deadlineAt = c.deadlineAt ?? r?.deadlineAt ?? null;
    try {
      if (r?.portal && this.relay && deadlineAt) {
        const key = c.key ?? `credentials-${r.id}-job-${c.jobId}`;
        await this.relay(r.portal, { ref: Number(r.externalId), key, student: c.student, password: c.password, deadlineAt });
      } else await this.send(c, r, deadlineAt);
    } catch (e) {
      // The relay may be down for a while: the job step is retried, with the password still in memory.
      throw new TransientError(`the credentials mail could not be sent: ${(e as Error).message}`);
    }
  }

  private async send(c: { jobId?: number; key?: string; student: string; password: string; workshop: { name: string } }, r: Reg | null, deadlineAt: string | null): Promise<void> {
    // an operator's order (no registration) is mailed to the operator, in the site's language
    const tr = r?.tr ?? this.languages.get(this.config.defaultLanguage);
    await this.mailer.sendNow({
      kind: 'credentials',
      key: c.key ?? `credentials-${r?.id ?? c.student}-job-${c.jobId}`,
      registrationId: r?.id ?? null,
      to: r?.email ?? this.config.mail.operatorAddress,
      bcc: this.config.mail.bccCredentials,
      content: mails.credentials(
        {
          name: r?.name ?? tr.t('mail.operator'),
          workshop: c.workshop.name,
          statusUrl: r ? this.links.statusUrl(r.id) : portalUrl(this.config),
          student: c.student,
          password: c.password,
          startUrl: r ? this.links.startUrl(r.id, deadlineAt) : null,
          // seated at a backend: its hub is where they log in
          hubUrl: `${hubUrlFor(this.config, r?.location ?? null)}/hub/login`,
          deadlineAt,
        },
        tr,
      ),
    });
  }
}
