/**
 * The student's workshop as the service tells it, shared by the plugins: fetched when JupyterLab
 * starts, then every minute (an admin may extend the deadline, the workshop may end early).
 */
import { Token } from '@lumino/coreutils';
import { Poll } from '@lumino/polling';
import { type ISignal, Signal } from '@lumino/signaling';
import { msUntil, secondsShown } from './clock';
import type { Me, SurveyAnswer, WodService } from './service';
import { CLOCK_RUNNING } from './states';

export interface IWorkshopSession {
  readonly service: WodService;
  /** The latest answer: the workshop, or null for a user without one (or before the first answer). */
  readonly me: Me | null;
  /** Emitted when an answer differs from the one before (the first workshop included). */
  readonly changed: ISignal<IWorkshopSession, Me | null>;
  /** Whether the workshop still runs (it may end early, by the student's or an admin's hand). */
  running(): boolean;
  /**
   * Whether the service said the workshop is over: its deadline passed, it was ended, or the seat
   * was cleaned. False for a user who never had a workshop.
   */
  ended(): boolean;
  /**
   * Milliseconds left now, counted on from the latest answer: 0 once the workshop ended or the seat
   * was freed; null for a user who never had a workshop, or a workshop without a deadline yet.
   */
  msLeft(): number | null;
  /** The same in whole seconds, rounded up, as the clock shows it. */
  secondsLeft(): number | null;
  /** Keeps a survey answer just stored, without waiting for the next poll. */
  surveyStored(answer: SurveyAnswer): void;
  /** Asks the service now, not at the next poll. */
  refresh(): void;
}

export const IWorkshopSession = new Token<IWorkshopSession>('@wod/labextension:IWorkshopSession', "The student's workshop and clock, from the wod service.");

export class WorkshopSession implements IWorkshopSession {
  private _me: Me | null = null;
  private hadWorkshop = false;
  /** The deadline on this page's monotonic clock (performance.now()). */
  private endsAt: number | null = null;
  private readonly _changed = new Signal<this, Me | null>(this);
  private readonly poll: Poll;

  constructor(readonly service: WodService) {
    // A service out of reach is asked again later, backing off; the plugins wait for `changed`.
    const poll = (this.poll = new Poll({
      factory: async () => {
        const me = await service.me();
        this.endsAt = me?.deadlineAt ? performance.now() + msUntil(me.deadlineAt, me.now) : null;
        this.update(me);
        // A user without a workshop has nothing to follow.
        if (!me) poll.dispose();
      },
      frequency: { interval: 60_000, backoff: true, max: 300_000 },
      name: '@wod/labextension:session',
    }));
  }

  refresh(): void {
    if (!this.poll.isDisposed) void this.poll.refresh();
  }

  get me(): Me | null {
    return this._me;
  }

  get changed(): ISignal<this, Me | null> {
    return this._changed;
  }

  running(): boolean {
    return CLOCK_RUNNING.includes(this._me?.state ?? '');
  }

  ended(): boolean {
    return this.hadWorkshop && (!this.running() || this._me?.secondsLeft === 0);
  }

  msLeft(): number | null {
    if (!this._me) return this.hadWorkshop ? 0 : null;
    if (!this.running()) return 0;
    return this.endsAt === null ? null : Math.max(0, this.endsAt - performance.now());
  }

  secondsLeft(): number | null {
    const ms = this.msLeft();
    return ms === null ? null : secondsShown(ms);
  }

  surveyStored(answer: SurveyAnswer): void {
    if (this._me) this.update({ ...this._me, survey: answer });
  }

  private update(me: Me | null): void {
    // The clock's fields change at every answer; the rest is what plugins follow.
    const same = JSON.stringify({ ...me, secondsLeft: null, now: null }) === JSON.stringify({ ...this._me, secondsLeft: null, now: null });
    this._me = me;
    this.hadWorkshop ||= me !== null;
    if (!same) this._changed.emit(me);
  }
}
