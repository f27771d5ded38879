/** What a registration request must carry, and which addresses are refused. Pure. */
import MailChecker from 'mailchecker';
import { z } from 'zod';
import { WORKSHOP_FOLDER } from '../catalog/spec.js';
import { cleanText } from '../clean-text.js';

const yes = z.union([z.literal(true), z.enum(['true', 'on', 'yes', '1']).transform(() => true as const)], {
  error: 'the terms and conditions must be accepted',
});

export const registrationInput = z.object({
  email: z
    .string({ error: 'is required' })
    .trim()
    .toLowerCase()
    .max(254, 'is too long')
    .pipe(z.email({ error: 'is not a valid email address' })),
  // Both go into mail lines and the admin panel: one line of visible text.
  name: cleanText({ max: 100 }).min(1, 'is required'),
  company: cleanText({ max: 100 }).min(1, 'is required'),
  workshop: z.string({ error: 'is required' }).regex(WORKSHOP_FOLDER, 'is not a workshop name (WKSHP-…)'),
  acceptTerms: yes,
});

export type RegistrationInput = z.output<typeof registrationInput>;

export interface EmailPolicy {
  denyList: string[];
  refuseDisposable: boolean;
}

/** Why this address may not register, or null. */
export function refusedEmail(email: string, policy: EmailPolicy): string | null {
  const domain = email.slice(email.lastIndexOf('@') + 1);
  for (const entry of policy.denyList.map((e) => e.trim().toLowerCase())) {
    const denied = entry.startsWith('@') ? domain === entry.slice(1) || domain.endsWith(`.${entry.slice(1)}`) : email === entry;
    if (denied) return 'registrations from this address are not accepted; please use another address';
  }
  if (policy.refuseDisposable && !MailChecker.isValid(email)) {
    return 'disposable email addresses are not accepted: the workshop credentials are sent to this address, please use your own mailbox';
  }
  return null;
}

/** Field messages for a 422 answer. */
export function fieldErrors(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
}
