/**
 * More time, as the clock offers it, pure: the service says in /me whether asking now would be
 * granted (wod.yml extend, the last minutes, the seat not needed), so the clock offers it only then.
 */
import type { Me } from './service';

/** "Ask for 30 more minutes" when asking now would be granted; null otherwise. */
export function extensionOffer(me: Pick<Me, 'extension'> | null): string | null {
  const x = me?.extension;
  return x?.possible && x.minutes ? `Ask for ${x.minutes} more minute${x.minutes === 1 ? '' : 's'}` : null;
}

/** What the clock says after asking: the new end, or the service's reason for refusing. */
export function extensionResult(outcome: { deadline: Date } | { refused: string }, at: (d: Date) => string): { title: string; body: string } {
  if ('deadline' in outcome) return { title: 'More time granted', body: `Your workshop now ends at ${at(outcome.deadline)}.` };
  return { title: 'No more time', body: `${outcome.refused.charAt(0).toUpperCase()}${outcome.refused.slice(1)}.` };
}
