/**
 * The conclusion survey as a JupyterLab dialog: rating 1–5, what was good, what to improve, would
 * recommend. The service checks the answer; its per-field messages come back into the form.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { type SurveyAnswer, type SurveyInput, ServiceError, type WodService } from './service';
import type { Trans } from './trans';

/** What the form holds: the rating and recommendation may still be unset. */
type Draft = Partial<SurveyInput>;

let forms = 0;

export class SurveyForm extends Widget implements Dialog.IBodyWidget<Draft> {
  private readonly form = document.createElement('form');

  constructor(draft: Draft, errors: Record<string, string>, intro: string, trans: Trans) {
    super();
    this.addClass('wod-Survey');
    const id = `wod-survey-${++forms}`;
    const error = (field: string) => (errors[field] ? `<p class="wod-Survey-error" id="${id}-${field}-error" role="alert">${escapeHtml(errors[field])}</p>` : '');
    const invalid = (field: string) => (errors[field] ? ` aria-describedby="${id}-${field}-error" aria-invalid="true"` : '');
    const checked = (cond: boolean) => (cond ? ' checked' : '');
    this.form.innerHTML = `
      <p>${escapeHtml(intro)}</p>
      <fieldset class="wod-Survey-rating">
        <legend>${escapeHtml(trans.__('How would you rate this workshop?'))} <span class="wod-Survey-hint">${escapeHtml(trans.__('(1 = poor, 5 = excellent)'))}</span></legend>
        ${[1, 2, 3, 4, 5].map((n) => `<label><input type="radio" name="rating" value="${n}"${checked(draft.rating === n)}${invalid('rating')}> ${n}</label>`).join('')}
      </fieldset>
      ${error('rating')}
      <label class="wod-Survey-field">${escapeHtml(trans.__('What was good?'))}
        <textarea name="good" rows="3" maxlength="2000"${invalid('good')}>${escapeHtml(draft.good ?? '')}</textarea></label>
      ${error('good')}
      <label class="wod-Survey-field">${escapeHtml(trans.__('What should we improve?'))}
        <textarea name="improve" rows="3" maxlength="2000"${invalid('improve')}>${escapeHtml(draft.improve ?? '')}</textarea></label>
      ${error('improve')}
      <fieldset class="wod-Survey-recommend">
        <legend>${escapeHtml(trans.__('Would you recommend it to a colleague?'))}</legend>
        <label><input type="radio" name="recommend" value="yes"${checked(draft.recommend === true)}${invalid('recommend')}> ${escapeHtml(trans.__('Yes'))}</label>
        <label><input type="radio" name="recommend" value="no"${checked(draft.recommend === false)}${invalid('recommend')}> ${escapeHtml(trans.__('No'))}</label>
      </fieldset>
      ${error('recommend')}`;
    // Enter in a field would submit the form and reload the page; the dialog's buttons decide.
    this.form.addEventListener('submit', (e) => e.preventDefault());
    this.node.append(this.form);
  }

  /**
   * The dialog swallows every Enter (in its capturing listener) for its default button; in a text
   * box Enter starts a new line, so the form listens before the dialog does, on the document.
   */
  private readonly onKeydown = (e: KeyboardEvent) => {
    const box = e.target;
    if (e.key !== 'Enter' || e.ctrlKey || e.metaKey || !(box instanceof HTMLTextAreaElement) || !this.form.contains(box)) return;
    e.preventDefault();
    e.stopPropagation();
    box.setRangeText('\n', box.selectionStart, box.selectionEnd, 'end');
  };

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    document.addEventListener('keydown', this.onKeydown, true);
  }

  protected onBeforeDetach(msg: Message): void {
    document.removeEventListener('keydown', this.onKeydown, true);
    super.onBeforeDetach(msg);
  }

  /** Where the dialog puts the focus: the first field in error, else the rating given, else the first. */
  static focusSelector(draft: Draft, errors: Record<string, string>): string {
    const first = ['rating', 'good', 'improve', 'recommend'].find((f) => errors[f]);
    if (first) return `[name="${first}"]`;
    return draft.rating ? `input[name="rating"][value="${draft.rating}"]` : 'input[name="rating"]';
  }

  getValue(): Draft {
    const data = new FormData(this.form);
    const rating = data.get('rating');
    const recommend = data.get('recommend');
    return {
      rating: rating ? Number(rating) : undefined,
      good: String(data.get('good') ?? ''),
      improve: String(data.get('improve') ?? ''),
      recommend: recommend ? recommend === 'yes' : undefined,
    };
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The service's refusal of an answer, field by field, in the lab's words (its own are English). */
function refusedAnswers(fields: Record<string, string>, trans: Trans): Record<string, string> {
  const words: Record<string, string> = {
    rating: trans.__('Choose a rating from 1 to 5.'),
    recommend: trans.__('Say yes or no.'),
    good: trans.__('Too long, or holding characters that cannot be kept.'),
    improve: trans.__('Too long, or holding characters that cannot be kept.'),
  };
  const known = Object.keys(fields).filter((f) => f in words);
  return known.length ? Object.fromEntries(known.map((f) => [f, words[f]])) : { rating: trans.__('Your answer was not saved') };
}

/** What the form must have before it goes to the service (which checks again). */
export function missingAnswers(d: Draft, trans: Trans): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!d.rating) errors.rating = trans.__('Choose a rating from 1 to 5.');
  if (d.recommend === undefined) errors.recommend = trans.__('Say yes or no.');
  return errors;
}

/**
 * Asks until the answer is stored or the student chooses "Later"; returns the stored answer, or
 * null when nothing changed.
 */
export async function askSurvey(service: WodService, workshop: string, previous: SurveyAnswer | null, trans: Trans, locales: string[]): Promise<SurveyAnswer | null> {
  let draft: Draft = previous ?? {};
  let errors: Record<string, string> = {};
  const intro = previous
    ? trans.__('You answered on %1. You can change your answer until the workshop ends.', new Date(previous.answeredAt).toLocaleString(locales))
    : trans.__('You reached the end of %1. Two minutes to tell us how it went?', workshop);
  for (;;) {
    const result = await showDialog<Draft>({
      title: trans.__('How was the workshop?'),
      body: new SurveyForm(draft, errors, intro, trans),
      buttons: [Dialog.cancelButton({ label: trans.__('Later') }), Dialog.okButton({ label: previous ? trans.__('Save changes') : trans.__('Send') })],
      focusNodeSelector: SurveyForm.focusSelector(draft, errors),
    });
    if (!result.button.accept || !result.value) return null;
    draft = result.value;
    errors = missingAnswers(draft, trans);
    if (Object.keys(errors).length) continue;
    try {
      return await service.answerSurvey(draft as SurveyInput);
    } catch (e) {
      if (e instanceof ServiceError && e.status === 422) {
        errors = refusedAnswers(e.fields, trans);
        continue;
      }
      await showDialog({ title: trans.__('Your answer was not saved'), body: e instanceof Error ? e.message : String(e), buttons: [Dialog.okButton()] });
      return null;
    }
  }
}
