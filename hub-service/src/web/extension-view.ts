/**
 * Whether a participant can ask for more time now, as /me and the status API say it (so a page shows
 * its button only when asking would work): ../registrations/extension.ts's answer.
 */
import { z } from 'zod';
import { EXTENSION_REFUSALS, type ExtensionAnswer } from '../registrations/extension.js';

export const extensionSchema = z
  .object({
    possible: z.boolean().meta({ description: 'asking now (POST …/extend) would be granted' }),
    minutes: z.number().int().min(1).nullable().meta({ description: 'what one extension gives (wod.yml extend.minutes); null: the workshop allows none' }),
    code: z.enum(EXTENSION_REFUSALS).nullable().meta({ description: 'why not, as the 409 of …/extend says it; null when possible' }),
    reason: z.string().nullable().meta({ description: 'why not, in words to show the participant; null when possible' }),
  })
  .meta({ description: 'more time: whether the participant can ask for it now, and why not' });
export type Extension = z.output<typeof extensionSchema>;

export function presentExtension(a: ExtensionAnswer): Extension {
  return a.allowed ? { possible: true, minutes: a.minutes, code: null, reason: null } : { possible: false, minutes: a.minutes, code: a.code, reason: a.reason };
}
