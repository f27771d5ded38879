/**
 * More time, as the clock offers it, pure: the service says in /me whether asking now would be
 * granted (wod.yml extend, the last minutes, the seat not needed), so the clock offers it only then.
 */
import type { Me } from './service';
import { english, type Trans } from './trans';

/** "Ask for 30 more minutes" when asking now would be granted; null otherwise. */
export function extensionOffer(me: Pick<Me, 'extension'> | null, trans: Trans = english): string | null {
  const x = me?.extension;
  return x?.possible && x.minutes ? trans._n('Ask for %1 more minute', 'Ask for %1 more minutes', x.minutes) : null;
}

/**
 * The service's reasons for refusing more time (hub-service/src/registrations/extension.ts,
 * EXTENSION_REFUSALS: tests/unit/extension.test.ts checks the two lists agree), in the lab's words.
 */
export const EXTENSION_REFUSALS = ['not-allowed', 'not-running', 'already-extended', 'too-early', 'seat-needed'] as const;

function refusalText(code: string | null, message: string, trans: Trans): string {
  switch (code) {
    case 'not-allowed':
      return trans.__('This workshop does not allow more time.');
    case 'not-running':
      return trans.__('Your workshop is not running any more.');
    case 'already-extended':
      return trans.__('You have already had all the more time this workshop allows.');
    case 'too-early':
      return trans.__('More time can be asked for in the last minutes of the workshop only.');
    case 'seat-needed':
      return trans.__('Your seat is needed by someone waiting for this workshop.');
    default:
      return `${message.charAt(0).toUpperCase()}${message.slice(1)}.`;
  }
}

/** What the clock says after asking: the new end, or the reason for refusing (by its code; the service's words otherwise). */
export function extensionResult(
  outcome: { deadline: Date } | { refused: string; code: string | null },
  at: (d: Date) => string,
  trans: Trans = english,
): { title: string; body: string } {
  if ('deadline' in outcome) return { title: trans.__('More time granted'), body: trans.__('Your workshop now ends at %1.', at(outcome.deadline)) };
  return { title: trans.__('No more time'), body: refusalText(outcome.code, outcome.refused, trans) };
}
