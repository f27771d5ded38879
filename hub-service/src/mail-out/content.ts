/**
 * The participant mails, written once as blocks and rendered twice: plain text, and HTML through
 * the ejs layout with the configured branding. Their words are the `mail.*` messages of the
 * participant's language (locales/<language>/mail.json). Pure apart from reading the layout and,
 * once, the messages.
 */
import fs from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import { oneLine } from '../clean-text.js';
import type { WodConfig } from '../config/schema.js';
import { shippedLanguages, SOURCE_LANGUAGE, type Translator } from '../i18n/i18n.js';

export type Block =
  { p: string } | { button: { text: string; href: string } } | { link: { text: string; href: string } } | { fields: [string, string][] } | { image: { src: string; alt: string } };

export interface MailContent {
  subject: string;
  preheader: string;
  blocks: Block[];
  /** the language it is written in (the HTML's lang); English when not said */
  lang?: string;
}

const LAYOUT = path.resolve(__dirname, '..', '..', 'views', 'mail', 'layout.ejs');

export function renderText(c: MailContent, brandName: string, portalUrl: string): string {
  const tr = shippedLanguages().get(c.lang);
  const out: string[] = [];
  for (const b of c.blocks) {
    if ('p' in b) out.push(b.p, '');
    else if ('button' in b) out.push(tr.t('mail.text.button', { text: b.button.text }), b.button.href, '');
    else if ('link' in b) out.push(`${b.link.text} ${b.link.href}`, '');
    else if ('fields' in b) out.push(...b.fields.map(([label, value]) => `  ${tr.t('mail.text.field', { label, value })}`), '');
  }
  out.push('--', `${brandName} · ${portalUrl}`);
  return out.join('\n');
}

let layout: ejs.TemplateFunction | null = null;

export function renderHtml(c: MailContent, brand: WodConfig['branding'], portalUrl: string): string {
  layout ??= ejs.compile(fs.readFileSync(LAYOUT, 'utf8'), { filename: LAYOUT });
  return layout({ ...c, lang: c.lang ?? SOURCE_LANGUAGE, brand, portalUrl }) as string;
}

const percent = (ratio: number | null) => (ratio === null ? null : Math.round(ratio * 100));

export interface Participant {
  name: string;
  workshop: string;
  statusUrl: string;
}

/** `name` is the milestone's id (participants.milestone) and its slug's source (badges/<slug>); mails and pages show `levelName`. */
export const MILESTONES: { count: number; name: string }[] = [
  { count: 3, name: 'Apprentice' },
  { count: 5, name: 'Expert' },
  { count: 7, name: 'Hero' },
  { count: 10, name: 'Super Hero' },
  { count: 15, name: 'Legend' },
];

export const milestoneSlug = (name: string) => name.toLowerCase().replace(/\s+/g, '-');

/** A milestone as the language names it (its messages are `mail.level.<slug>`). */
export const levelName = (tr: Translator, name: string) => tr.t(`mail.level.${milestoneSlug(name)}`);

/**
 * Subject, preheader and every block as one line. Names and workshop titles are refused with a line
 * break at the door; this holds for values stored before that rule too, so none adds a line to the text.
 */
function singleLined(c: MailContent): MailContent {
  const block = (b: Block): Block => {
    if ('p' in b) return { p: oneLine(b.p) };
    if ('button' in b) return { button: { text: oneLine(b.button.text), href: oneLine(b.button.href) } };
    if ('link' in b) return { link: { text: oneLine(b.link.text), href: oneLine(b.link.href) } };
    if ('fields' in b) return { fields: b.fields.map(([k, v]) => [oneLine(k), oneLine(v)]) };
    return { image: { src: oneLine(b.image.src), alt: oneLine(b.image.alt) } };
  };
  return { ...c, subject: oneLine(c.subject), preheader: oneLine(c.preheader), blocks: c.blocks.map(block) };
}

const who = (p: Participant) => ({ name: p.name, workshop: p.workshop });

const builders = {
  welcome: (p: Participant, tr: Translator): MailContent => ({
    subject: tr.t('mail.welcome.subject', who(p)),
    preheader: tr.t('mail.welcome.preheader'),
    blocks: [
      { p: tr.t('mail.welcome.hello', who(p)) },
      { p: tr.t('mail.welcome.body', who(p)) },
      { p: tr.t('mail.welcome.clock') },
      { link: { text: tr.t('mail.statusLink'), href: p.statusUrl } },
    ],
  }),
  credentials: (p: Participant & { student: string; password: string; startUrl: string | null; hubUrl: string; deadlineAt: string | null }, tr: Translator): MailContent => ({
    subject: tr.t('mail.credentials.subject', who(p)),
    preheader: tr.t('mail.credentials.preheader'),
    blocks: [
      { p: tr.t('mail.credentials.hello', who(p)) },
      ...(p.startUrl ? [{ button: { text: tr.t('mail.credentials.start'), href: p.startUrl } }] : []),
      { p: tr.t('mail.credentials.login', { hubUrl: p.hubUrl }) },
      {
        fields: [
          [tr.t('mail.credentials.username'), p.student],
          [tr.t('mail.credentials.password'), p.password],
        ],
      },
      ...(p.deadlineAt ? [{ p: tr.t('mail.credentials.deadline', { deadline: tr.dateTime(p.deadlineAt) }) }] : []),
      { link: { text: tr.t('mail.statusLink'), href: p.statusUrl } },
    ],
  }),
  reminder: (p: Participant & { minutesLeft: number; startUrl: string | null; deadlineAt: string }, tr: Translator): MailContent => {
    const vars = { ...who(p), count: p.minutesLeft, deadline: tr.dateTime(p.deadlineAt) };
    return {
      subject: tr.t('mail.reminder.subject', vars),
      preheader: tr.t('mail.reminder.preheader'),
      blocks: [
        { p: tr.t('mail.reminder.hello', vars) },
        { p: tr.t('mail.reminder.save') },
        ...(p.startUrl ? [{ button: { text: tr.t('mail.reminder.back'), href: p.startUrl } }] : []),
        { link: { text: tr.t('mail.reminder.status'), href: p.statusUrl } },
      ],
    };
  },
  thanks: (
    p: Participant & {
      completion: number | null;
      badgeImage: string | null;
      badgePage: string;
      surveyUrl: string;
      portalUrl: string;
      /** the archive of their notebooks and files, when one was made (work/archive.ts) */
      work: { url: string; expiresAt: string } | null;
    },
    tr: Translator,
  ): MailContent => {
    const ran = percent(p.completion);
    return {
      subject: tr.t('mail.thanks.subject', who(p)),
      preheader: tr.t('mail.thanks.preheader'),
      blocks: [
        { p: tr.t('mail.thanks.hello', who(p)) },
        ...(ran !== null ? [{ p: tr.t('mail.thanks.completion', { percent: ran }) }] : []),
        ...(p.badgeImage ? [{ image: { src: p.badgeImage, alt: tr.t('mail.thanks.badge', who(p)) } }] : []),
        { button: { text: tr.t('mail.badge.share'), href: p.badgePage } },
        ...(p.work ? [{ link: { text: tr.t('mail.thanks.work', { expires: tr.dateTime(p.work.expiresAt) }), href: p.work.url } }] : []),
        { link: { text: tr.t('mail.thanks.survey'), href: p.surveyUrl || `${p.statusUrl}#feedback` } },
        { link: { text: tr.t('mail.moreWorkshops'), href: p.portalUrl } },
      ],
    };
  },
  /** `level`: a MILESTONES name */
  milestone: (p: { name: string; level: string; count: number; badgePage: string; badgeImage: string }, tr: Translator): MailContent => {
    const vars = { name: p.name, count: p.count, level: levelName(tr, p.level) };
    return {
      subject: tr.t(`mail.milestone.subject.${milestoneSlug(p.level)}`),
      preheader: tr.t('mail.milestone.preheader', vars),
      blocks: [
        { p: tr.t('mail.milestone.body', vars) },
        { image: { src: p.badgeImage, alt: tr.t('mail.milestone.badge', vars) } },
        { button: { text: tr.t('mail.badge.share'), href: p.badgePage } },
      ],
    };
  },
  feedback: (p: Participant & { rating: number; portalUrl: string }, tr: Translator): MailContent => ({
    subject: tr.t('mail.feedback.subject', who(p)),
    preheader: tr.t('mail.feedback.preheader'),
    blocks: [
      { p: tr.t('mail.feedback.body', { ...who(p), rating: p.rating }) },
      { link: { text: tr.t('mail.feedback.change'), href: p.statusUrl } },
      { link: { text: tr.t('mail.moreWorkshops'), href: p.portalUrl } },
    ],
  }),
  /** a process of theirs the watchdog interrupted or stopped (watchdog/watchdog.ts) */
  watchdog: (p: Omit<Participant, 'name'> & { interrupted: boolean; what: string }, tr: Translator): MailContent => ({
    subject: tr.t(p.interrupted ? 'mail.watchdog.subject.interrupted' : 'mail.watchdog.subject.stopped'),
    preheader: p.what,
    blocks: [
      { p: tr.t('mail.watchdog.hello') },
      { p: tr.t(p.interrupted ? 'mail.watchdog.interrupted' : 'mail.watchdog.stopped', { workshop: p.workshop, what: p.what }) },
      { link: { text: tr.t('mail.watchdog.link'), href: p.statusUrl } },
    ],
  }),
  /** a registration seated at another wod waits, or moved to another one (locations/router.ts) */
  delayed: (p: Participant & { moved: boolean }, tr: Translator): MailContent => ({
    subject: tr.t('mail.delayed.subject', who(p)),
    preheader: tr.t('mail.delayed.preheader'),
    blocks: [
      { p: tr.t('mail.delayed.hello', who(p)) },
      { p: tr.t(p.moved ? 'mail.delayed.moved' : 'mail.delayed.waiting') },
      { p: tr.t('mail.delayed.kept') },
      { link: { text: tr.t('mail.statusLink'), href: p.statusUrl } },
    ],
  }),
  apology: (p: Participant & { portalUrl: string }, tr: Translator): MailContent => ({
    subject: tr.t('mail.apology.subject', who(p)),
    preheader: tr.t('mail.apology.preheader'),
    blocks: [{ p: tr.t('mail.apology.body', who(p)) }, { p: tr.t('mail.apology.seat') }, { button: { text: tr.t('mail.apology.again'), href: p.portalUrl } }],
  }),
};

type Builders = typeof builders;

/** The participant mails by kind, each single-lined, in the translator's language. */
export const mails = Object.fromEntries(
  Object.entries(builders).map(([kind, build]) => [
    kind,
    (p: never, tr: Translator) => singleLined({ ...(build as (p: never, tr: Translator) => MailContent)(p, tr), lang: tr.language }),
  ]),
) as { [K in keyof Builders]: (p: Parameters<Builders[K]>[0], tr: Translator) => MailContent };

/** The milestone reached with `count` finished workshops, if that count is one. */
export function milestoneAt(count: number): string | null {
  return MILESTONES.find((m) => m.count === count)?.name ?? null;
}
