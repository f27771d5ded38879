/** The top-bar items: the clock, the progress, the checks, the survey button. Plain DOM, no framework to load. */
import { Widget } from '@lumino/widgets';
import { type Checks, describeChecks } from './checks';
import { describeRemaining, formatRemaining, urgency } from './clock';
import { type Counts, formatProgress, percent } from './progress';
import type { Trans } from './trans';

/** A labelled value in the top bar. */
class TopBarItem extends Widget {
  protected readonly value = document.createElement('span');

  constructor(id: string, className: string, label: string, role: string) {
    super();
    this.id = id;
    this.addClass('wod-TopBarItem');
    this.addClass(className);
    this.node.setAttribute('role', role);
    const labelNode = document.createElement('span');
    labelNode.className = 'wod-TopBarItem-label';
    labelNode.textContent = label;
    this.value.className = 'wod-TopBarItem-value';
    this.node.append(labelNode, this.value);
  }
}

export class ClockWidget extends TopBarItem {
  /** `timeOfDay`: "14:05", as the lab writes times */
  constructor(
    private readonly trans: Trans,
    private readonly timeOfDay: (d: Date) => string,
  ) {
    super('wod-clock', 'wod-Clock', trans.__('Time left'), 'timer');
  }

  setSeconds(seconds: number, deadline: Date): void {
    const text = formatRemaining(seconds);
    if (this.value.textContent !== text) this.value.textContent = text;
    this.node.dataset.urgency = urgency(seconds);
    // The screen reader hears minutes, not every second; the tooltip gives the end time.
    const label = this.trans.__('Workshop: %1', describeRemaining(seconds, this.trans));
    if (this.node.getAttribute('aria-label') !== label) this.node.setAttribute('aria-label', label);
    this.node.title = this.trans.__('The workshop ends at %1', this.timeOfDay(deadline));
  }
}

export class ProgressWidget extends TopBarItem {
  private readonly bar = document.createElement('span');

  constructor(private readonly trans: Trans) {
    super('wod-progress', 'wod-Progress', trans.__('Progress'), 'progressbar');
    this.node.setAttribute('aria-label', trans.__('Workshop progress'));
    this.node.setAttribute('aria-valuemin', '0');
    this.node.setAttribute('aria-valuemax', '100');
    this.node.title = trans.__('Code cells run, over all code cells of the workshop');
    const track = document.createElement('span');
    track.className = 'wod-Progress-track';
    this.bar.className = 'wod-Progress-bar';
    track.append(this.bar);
    this.value.before(track);
  }

  setCounts(c: Counts): void {
    const p = percent(c) ?? 0;
    this.value.textContent = formatProgress(c, this.trans);
    this.bar.style.width = `${p}%`;
    this.node.setAttribute('aria-valuenow', String(p));
    this.node.setAttribute('aria-valuetext', this.trans._n('%2 of %1 code cell run', '%2 of %1 code cells run', c.total, c.executed));
  }
}

/** Exercise checks passed, beside the progress; hidden while the workshop has no check. */
export class ChecksWidget extends TopBarItem {
  constructor(private readonly trans: Trans) {
    super('wod-checks', 'wod-Checks', trans.__('Checks'), 'status');
    this.node.title = trans.__('Check cells whose latest run passed, over all check cells of the workshop');
    this.setChecks({ passed: 0, total: 0 });
  }

  setChecks(c: Checks): void {
    this.setHidden(c.total === 0);
    this.value.textContent = `${c.passed}/${c.total}`;
    this.node.setAttribute('aria-label', describeChecks(c, this.trans));
    this.node.dataset.all = String(c.total > 0 && c.passed === c.total);
  }
}

/** "+30 min": more time, in the top bar while asking would be granted. */
export class ExtendButton extends Widget {
  constructor(
    onClick: () => void,
    private readonly trans: Trans,
  ) {
    super({ node: document.createElement('button') });
    this.id = 'wod-extend-button';
    this.addClass('wod-TopBarItem');
    this.addClass('wod-ExtendButton');
    (this.node as HTMLButtonElement).type = 'button';
    this.node.addEventListener('click', onClick);
  }

  setOffer(label: string, minutes: number): void {
    this.node.textContent = this.trans.__('+%1 min', minutes);
    this.node.title = label;
    this.node.setAttribute('aria-label', label);
  }
}

export class SurveyButton extends Widget {
  constructor(
    onClick: () => void,
    private readonly trans: Trans,
  ) {
    super({ node: document.createElement('button') });
    this.id = 'wod-survey-button';
    this.addClass('wod-TopBarItem');
    this.addClass('wod-SurveyButton');
    (this.node as HTMLButtonElement).type = 'button';
    this.node.addEventListener('click', onClick);
    this.setAnswered(false);
  }

  setAnswered(answered: boolean): void {
    this.node.textContent = answered ? this.trans.__('Your feedback ✓') : this.trans.__('Give feedback');
    this.node.title = answered ? this.trans.__('Change your survey answer (until the workshop ends)') : this.trans.__('A short survey about this workshop');
  }
}
