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

/** What the clock says after asking: the new end, or the service's reason for refusing. */
export function extensionResult(outcome: { deadline: Date } | { refused: string }, at: (d: Date) => string, trans: Trans = english): { title: string; body: string } {
  if ('deadline' in outcome) return { title: trans.__('More time granted'), body: trans.__('Your workshop now ends at %1.', at(outcome.deadline)) };
  return { title: trans.__('No more time'), body: `${outcome.refused.charAt(0).toUpperCase()}${outcome.refused.slice(1)}.` };
}
