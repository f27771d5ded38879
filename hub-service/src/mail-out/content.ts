/**
 * The participant mails, written once as blocks and rendered twice: plain text, and HTML through
 * the ejs layout with the configured branding. Pure apart from reading the layout.
 */
import fs from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import { oneLine } from '../clean-text.js';
import type { WodConfig } from '../config/schema.js';

export type Block =
  { p: string } | { button: { text: string; href: string } } | { link: { text: string; href: string } } | { fields: [string, string][] } | { image: { src: string; alt: string } };

export interface MailContent {
  subject: string;
  preheader: string;
  blocks: Block[];
}

const LAYOUT = path.resolve(__dirname, '..', '..', 'views', 'mail', 'layout.ejs');

export function renderText(c: MailContent, brandName: string, portalUrl: string): string {
  const out: string[] = [];
  for (const b of c.blocks) {
    if ('p' in b) out.push(b.p, '');
    else if ('button' in b) out.push(`${b.button.text}:`, b.button.href, '');
    else if ('link' in b) out.push(`${b.link.text} ${b.link.href}`, '');
    else if ('fields' in b) out.push(...b.fields.map(([k, v]) => `  ${k}: ${v}`), '');
  }
  out.push('--', `${brandName} · ${portalUrl}`);
  return out.join('\n');
}

let layout: ejs.TemplateFunction | null = null;

export function renderHtml(c: MailContent, brand: WodConfig['branding'], portalUrl: string): string {
  layout ??= ejs.compile(fs.readFileSync(LAYOUT, 'utf8'), { filename: LAYOUT });
  return layout({ ...c, brand, portalUrl }) as string;
}

const when = (iso: string) => new Date(iso).toUTCString().replace(' GMT', ' UTC');
const percent = (ratio: number | null) => (ratio === null ? null : `${Math.round(ratio * 100)} %`);

export interface Participant {
  name: string;
  workshop: string;
  statusUrl: string;
}

export const MILESTONES: { count: number; name: string }[] = [
  { count: 3, name: 'Apprentice' },
  { count: 5, name: 'Expert' },
  { count: 7, name: 'Hero' },
  { count: 10, name: 'Super Hero' },
  { count: 15, name: 'Legend' },
];

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
  return { subject: oneLine(c.subject), preheader: oneLine(c.preheader), blocks: c.blocks.map(block) };
}

const builders = {
  welcome: (p: Participant): MailContent => ({
    subject: `Your ${p.workshop} workshop is being prepared`,
    preheader: 'Your login follows in a few seconds.',
    blocks: [
      { p: `Hello ${p.name},` },
      {
        p: `thank you for registering for ${p.workshop}. We are preparing your own JupyterLab now: a second mail with your username, your password and a one-click start link follows in a few seconds.`,
      },
      { p: 'Your time starts when your workshop is ready.' },
      { link: { text: 'Your status page (time left, end the workshop early):', href: p.statusUrl } },
    ],
  }),
  credentials: (p: Participant & { student: string; password: string; startUrl: string | null; hubUrl: string; deadlineAt: string | null }): MailContent => ({
    subject: `Your ${p.workshop} workshop is ready`,
    preheader: 'Start it with one click.',
    blocks: [
      { p: `Hello ${p.name}, your ${p.workshop} workshop is ready.` },
      ...(p.startUrl ? [{ button: { text: 'Start my workshop', href: p.startUrl } }] : []),
      { p: `Or log in at ${p.hubUrl} with:` },
      {
        fields: [
          ['username', p.student],
          ['password', p.password],
        ],
      },
      ...(p.deadlineAt
        ? [{ p: `Your workshop is open until ${when(p.deadlineAt)}. Save what you want to keep before then: at the end the account and its files are wiped.` }]
        : []),
      { link: { text: 'Your status page (time left, end the workshop early):', href: p.statusUrl } },
    ],
  }),
  reminder: (p: Participant & { minutesLeft: number; startUrl: string | null; deadlineAt: string }): MailContent => ({
    subject: `${p.workshop}: ${p.minutesLeft} minutes left`,
    preheader: 'Save your work before the end.',
    blocks: [
      { p: `Hello ${p.name}, your ${p.workshop} workshop ends at ${when(p.deadlineAt)}, in ${p.minutesLeft} minutes.` },
      { p: 'Finish what you are doing and download anything you want to keep (right-click a file → Download): at the end the account and its files are wiped.' },
      ...(p.startUrl ? [{ button: { text: 'Back to my workshop', href: p.startUrl } }] : []),
      { link: { text: 'Your status page:', href: p.statusUrl } },
    ],
  }),
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
  ): MailContent => ({
    subject: `Thank you for taking ${p.workshop}`,
    preheader: 'Your badge is here.',
    blocks: [
      { p: `Hello ${p.name}, thank you for taking ${p.workshop}!` },
      ...(percent(p.completion) ? [{ p: `You ran ${percent(p.completion)} of its exercises.` }] : []),
      ...(p.badgeImage ? [{ image: { src: p.badgeImage, alt: `${p.workshop} badge` } }] : []),
      { button: { text: 'See and share your badge', href: p.badgePage } },
      ...(p.work ? [{ link: { text: `Your notebooks and files, as a zip to download until ${when(p.work.expiresAt)}:`, href: p.work.url } }] : []),
      { link: { text: 'Two minutes to tell us how it went:', href: p.surveyUrl || `${p.statusUrl}#feedback` } },
      { link: { text: 'More workshops:', href: p.portalUrl } },
    ],
  }),
  milestone: (p: { name: string; level: string; count: number; badgePage: string; badgeImage: string }): MailContent => ({
    subject: `You are now ${/^[AEIOU]/.test(p.level) ? 'an' : 'a'} ${p.level}!`,
    preheader: `${p.count} workshops completed.`,
    blocks: [
      { p: `Congratulations ${p.name}: you have completed ${p.count} workshops and earned the ${p.level} badge.` },
      { image: { src: p.badgeImage, alt: `${p.level} badge` } },
      { button: { text: 'See and share your badge', href: p.badgePage } },
    ],
  }),
  feedback: (p: Participant & { rating: number; portalUrl: string }): MailContent => ({
    subject: `Thank you for your feedback on ${p.workshop}`,
    preheader: 'We read every answer.',
    blocks: [
      { p: `Hello ${p.name}, thank you for rating ${p.workshop} ${p.rating} out of 5. We read every answer, and they shape the next version of the workshop.` },
      { link: { text: 'You can change your answer on your status page:', href: p.statusUrl } },
      { link: { text: 'More workshops:', href: p.portalUrl } },
    ],
  }),
  apology: (p: Participant & { portalUrl: string }): MailContent => ({
    subject: `We could not prepare your ${p.workshop} workshop`,
    preheader: 'Sorry: please register again.',
    blocks: [
      { p: `Hello ${p.name}, we are sorry: something went wrong while preparing your ${p.workshop} workshop, and it could not be made ready.` },
      { p: 'Your seat is free again and nothing was kept. Please register again; if it happens twice, tell us by replying to this mail.' },
      { button: { text: 'Register again', href: p.portalUrl } },
    ],
  }),
};

/** The participant mails by kind, each single-lined. */
export const mails = Object.fromEntries(
  Object.entries(builders).map(([kind, build]) => [kind, (p: never) => singleLined((build as (p: never) => MailContent)(p))]),
) as typeof builders;

/** The milestone reached with `count` finished workshops, if that count is one. */
export function milestoneAt(count: number): string | null {
  return MILESTONES.find((m) => m.count === count)?.name ?? null;
}
