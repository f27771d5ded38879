/**
 * The one rule for text people and operators give us (a participant's name and company, survey
 * answers, the fields of a wod.yml): Unicode NFC, trimmed, bounded; no control characters, no
 * text-direction overrides; nothing but invisible characters counts as empty. That text ends up in
 * mail lines, log lines, the admin panel and the public catalog, where a line break adds a line and
 * a direction override disguises what is written. Pure.
 */
import { z } from 'zod';

export interface TextRule {
  /** the longest accepted value, in characters (UTF-16 units, as JavaScript counts them) */
  max: number;
  /** line breaks (LF; CR LF and CR become LF) are kept; every other control is still refused */
  multiLine?: boolean;
}

/** C0 and C1 controls, DEL, the Unicode line and paragraph separators, bidi embeddings, overrides and isolates. */
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const UNSAFE = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g;
const LINE_BREAK = /[\n\r\u0085\u2028\u2029]/;
const BIDI = /[\u202A-\u202E\u2066-\u2069]/;
/** What renders as nothing: spaces, format characters (zero-width, joiners, BOM…), fillers such as U+3164. */
const INVISIBLE = /^[\p{White_Space}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]*$/u;

const codePoint = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** True when nothing of the text would be seen. */
export const isBlank = (text: string): boolean => INVISIBLE.test(text);

/** NFC, one kind of line break, trimmed; '' when nothing visible is left. Refusing is `unsafeCharacter`'s job. */
export function normaliseText(text: string, multiLine = false): string {
  const nfc = text.normalize('NFC');
  const clean = (multiLine ? nfc.replace(/\r\n?/g, '\n') : nfc).trim();
  return isBlank(clean) ? '' : clean;
}

/** Why the (normalised) text is refused, as a message that follows the field's name; null when it is fine. */
export function unsafeCharacter(text: string, multiLine = false): string | null {
  for (const [ch] of text.matchAll(UNSAFE)) {
    if (multiLine && ch === '\n') continue;
    if (!multiLine && LINE_BREAK.test(ch)) return `must be on one line (it contains a line break, ${codePoint(ch)})`;
    if (BIDI.test(ch)) return `must not contain text-direction controls (${codePoint(ch)} found): they disguise what is written`;
    return `must not contain control characters (${codePoint(ch)} found)`;
  }
  return null;
}

/**
 * A zod string under the rule: normalised, refused with a message naming the character, bounded
 * by `max`. Empty is allowed here: required fields add `.min(1, 'is required')`, optional ones a default.
 */
export function cleanText({ max, multiLine = false }: TextRule) {
  return z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be text') })
    .overwrite((s) => normaliseText(s, multiLine))
    .superRefine((s, ctx) => {
      const why = unsafeCharacter(s, multiLine);
      if (why) ctx.addIssue({ code: 'custom', message: why });
    })
    .max(max, { error: (issue) => `is too long (${String(issue.input).length} characters, ${max} at most)` });
}

/**
 * The text as one line, for what we render ourselves (mail subjects and lines, log lines): every run
 * of controls, line breaks and direction overrides becomes one space. Input is refused earlier; this
 * keeps values stored before the rule, or coming from elsewhere, from adding a line or a header.
 */
export function oneLine(text: string): string {
  return text.replace(new RegExp(`${UNSAFE.source}+`, 'g'), ' ').trim();
}
