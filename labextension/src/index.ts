/**
 * wod's JupyterLab extension: for a student of a workshop, the time left and the progress in the
 * top bar, warnings before the end, and the survey when the conclusion opens. A user without a
 * workshop sees nothing of it.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { type Alert, askNow, dueAlert, msUntil, staleAlerts } from './clock';
import { LiveProgress, type Progress } from './live-progress';
import { LatestSender } from './reporter';
import { extensionOffer, extensionResult } from './extension';
import type { Me } from './service';
import { ServiceError, WodService } from './service';
import { IWorkshopSession, WorkshopSession } from './session';
import { askSurvey } from './survey';
import { DOMAIN, type Trans } from './trans';
import { ChecksWidget, ClockWidget, ExtendButton, ProgressWidget, SurveyButton } from './widgets';

/** Where our items sit in the top area: right of JupyterLab's top bar (rank 900, with its spacer). */
const RANK = { clock: 1000, extend: 1005, progress: 1010, checks: 1015, survey: 1020 };

/** What the extension says things with: its messages, and the locales times are written for. */
interface Speech {
  trans: Trans;
  locales: string[];
}

/**
 * In the language the student's JupyterLab speaks (its translation setting, which CREATE writes);
 * an English lab leaves times to the browser (en-GB or en-US).
 */
function speech(translator: ITranslator | null): Speech {
  const lab = translator ?? nullTranslator;
  return { trans: lab.load(DOMAIN), locales: lab.languageCode === 'en' ? [] : tagOf(lab.languageCode) };
}

/** A JupyterLab locale as Intl takes it ("fr-FR"; "zh-Hans_CN" → "zh-Hans-CN"); none (the browser's) when Intl does not know it. */
function tagOf(code: string): string[] {
  try {
    return Intl.getCanonicalLocales(code.replace(/_/g, '-'));
  } catch {
    return [];
  }
}

/** Calls `setUp` once, with the first workshop the session reports. */
function whenWorkshop(session: IWorkshopSession, setUp: (me: Me) => void): void {
  if (session.me) return setUp(session.me);
  const once = (_: IWorkshopSession, me: Me | null) => {
    if (!me) return;
    session.changed.disconnect(once);
    setUp(me);
  };
  session.changed.connect(once);
}

const sessionPlugin: JupyterFrontEndPlugin<IWorkshopSession> = {
  id: '@wod/labextension:session',
  description: "The student's workshop and clock, from the wod service.",
  autoStart: true,
  provides: IWorkshopSession,
  activate: () => new WorkshopSession(new WodService()),
};

/** What was already done for a registration (warnings given, the survey asked), kept so a reload does not repeat it. */
function remembered<T extends string>(registration: number, topic: string): { shown: Set<T>; add(a: T): void; forget(a: T): void } {
  const key = `@wod/labextension:${topic}:${registration}`;
  const shown = new Set<T>(JSON.parse(localStorage.getItem(key) ?? '[]') as T[]);
  const save = () => localStorage.setItem(key, JSON.stringify([...shown]));
  return { shown, add: (a) => (shown.add(a), save()), forget: (a) => (shown.delete(a), save()) };
}

const timeOfDay = (d: Date, locales: string[]) => d.toLocaleTimeString(locales, { hour: '2-digit', minute: '2-digit' });

/**
 * Asks the service for more time and says how it went. Then the session asks again at once, so the
 * clock follows the new deadline (and its ten-minute call comes again before it: staleAlerts).
 */
async function askMoreTime(session: IWorkshopSession, { trans, locales }: Speech): Promise<void> {
  let outcome: { deadline: Date } | { refused: string; code: string | null };
  try {
    const me = await session.service.extend();
    outcome = { deadline: new Date(Date.now() + (me.deadlineAt ? msUntil(me.deadlineAt, me.now) : 0)) };
  } catch (e) {
    outcome = e instanceof ServiceError ? { refused: e.message, code: e.code } : { refused: trans.__('the workshop service cannot be reached; try again in a moment'), code: null };
  }
  session.refresh();
  const { title, body } = extensionResult(outcome, (d) => timeOfDay(d, locales), trans);
  await showDialog({ title, body, buttons: [Dialog.okButton({ label: trans.__('OK') })] });
}

/** `graceMs`: how long after the end the server is stopped (time left to download). */
/** `more`: the offer of more time (its label, and how to ask) when asking now would be granted. */
async function warn(
  app: JupyterFrontEnd,
  { trans, locales }: Speech,
  alert: Alert,
  deadline: Date,
  graceMs: number,
  more: { label: string; ask: () => Promise<void> } | null,
): Promise<void> {
  const at = timeOfDay(deadline, locales);
  if (alert === 'ten-minutes') {
    const r = await showDialog({
      title: trans.__('10 minutes left'),
      body: trans.__(
        'Your workshop ends at %1. Save your notebooks now, and download anything you want to keep (File ▸ Download): at the end this JupyterLab is cleaned for the next student.',
        at,
      ),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Close') }),
        ...(more ? [Dialog.createButton({ label: more.label, actions: ['extend'] })] : []),
        Dialog.okButton({ label: trans.__('Save all') }),
      ],
    });
    if (r.button.actions.includes('extend')) await more!.ask();
    else if (r.button.accept) await app.commands.execute('docmanager:save-all');
    return;
  }
  const canDownload = app.commands.isEnabled('docmanager:download');
  const grace = Math.round(graceMs / 1000);
  const minutes = Math.round(grace / 60);
  const closes =
    grace <= 5
      ? trans.__('in a moment')
      : grace >= 90
        ? trans._n('in about %1 minute', 'in about %1 minutes', minutes)
        : trans._n('in about %1 second', 'in about %1 seconds', grace);
  const r = await showDialog({
    title: trans.__('Time is up'),
    body: trans.__('Your workshop has ended. Download what you want to keep now (File ▸ Download): this JupyterLab closes and is cleaned %1. Thank you for taking part!', closes),
    buttons: canDownload
      ? [Dialog.cancelButton({ label: trans.__('Close') }), Dialog.okButton({ label: trans.__('Download this file') })]
      : [Dialog.okButton({ label: trans.__('Close') })],
  });
  if (canDownload && r.button.accept) await app.commands.execute('docmanager:download');
}

const clockPlugin: JupyterFrontEndPlugin<void> = {
  id: '@wod/labextension:clock',
  description: 'Time left of the workshop in the top bar, with warnings at 10 minutes and at the end.',
  autoStart: true,
  requires: [IWorkshopSession],
  optional: [ITranslator],
  activate: (app: JupyterFrontEnd, session: IWorkshopSession, translator: ITranslator | null) =>
    whenWorkshop(session, (me) => {
      const said = speech(translator);
      const { trans } = said;
      const clock = new ClockWidget(trans, (d) => timeOfDay(d, said.locales));
      const alerts = remembered<Alert>(me.registration, 'alerts');
      const ask = () => askMoreTime(session, said);
      const offer = () => {
        const label = extensionOffer(session.me, trans);
        return label ? { label, ask } : null;
      };
      let asked = 0;
      const tick = () => {
        const seconds = session.secondsLeft();
        if (seconds === null) return clock.hide();
        clock.show();
        const deadline = new Date(Date.now() + seconds * 1000);
        clock.setSeconds(seconds, deadline);
        const ended = session.ended();
        for (const stale of staleAlerts(seconds, alerts.shown)) alerts.forget(stale);
        const alert = dueAlert(seconds, ended, alerts.shown);
        if (alert) {
          alerts.add(alert);
          // Over the workspace, not over the splash screen.
          // At the deadline the service leaves a grace before it stops the server; an early end, none.
          const latest = session.me;
          const graceMs = latest?.closesAt && latest.deadlineAt && session.running() ? msUntil(latest.closesAt, latest.deadlineAt) : 0;
          void app.restored.then(() => warn(app, said, alert, deadline, graceMs, offer()));
        }
        if (ended) return clearInterval(timer); // the service's end is final
        if (askNow(seconds, Date.now() - asked)) {
          asked = Date.now();
          session.refresh();
        }
      };
      const timer = setInterval(tick, 1000);
      tick();
      // The second ticks run on the page's own phase; the end must come at the deadline, not up to a
      // second after it (the service stops the server soon after): a timer aims at it.
      let aimed: number | null = null;
      const aim = () => {
        const ms = session.msLeft();
        if (aimed !== null) clearTimeout(aimed);
        aimed = ms !== null && ms > 0 ? window.setTimeout(tick, ms + 10) : null;
      };
      session.changed.connect(aim);
      aim();
      app.shell.add(clock, 'top', { rank: RANK.clock });

      // The top bar offers more time while asking would be granted (the service says so in /me).
      const more = new ExtendButton(() => void ask(), trans);
      const showMore = () => {
        const label = extensionOffer(session.me, trans);
        if (label) more.setOffer(label, session.me!.extension.minutes!);
        more.setHidden(!label);
      };
      app.shell.add(more, 'top', { rank: RANK.extend });
      session.changed.connect(showMore);
      showMore();
    }),
};

const progressPlugin: JupyterFrontEndPlugin<void> = {
  id: '@wod/labextension:progress',
  description: "Live completion and exercise checks of the workshop's notebooks in the top bar, reported to the wod service.",
  autoStart: true,
  requires: [IWorkshopSession, INotebookTracker],
  optional: [ITranslator],
  activate: (app: JupyterFrontEnd, session: IWorkshopSession, tracker: INotebookTracker, translator: ITranslator | null) =>
    whenWorkshop(session, (me) => {
      const { trans } = speech(translator);
      const widget = new ProgressWidget(trans);
      const checks = new ChecksWidget(trans);
      const progress = new LiveProgress(me.workshop.folder, app.serviceManager.contents, tracker);
      // One report per few seconds at most, the latest count always last: admins see it live.
      const report = new LatestSender((counts: Progress) => session.service.reportProgress(counts), 3000);
      progress.changed.connect((_, counts) => {
        widget.setCounts(counts);
        checks.setChecks(counts.checks);
        report.update(counts);
      });
      window.addEventListener('pagehide', () => {
        const unsent = report.unsent();
        if (unsent) void session.service.reportProgress(unsent, { keepalive: true }).catch(() => undefined);
      });
      widget.setCounts(progress.total);
      checks.setChecks(progress.total.checks);
      app.shell.add(widget, 'top', { rank: RANK.progress });
      app.shell.add(checks, 'top', { rank: RANK.checks });
      progress.start().catch((e) => console.warn(`wod: cannot read ${me.workshop.folder}:`, e));
    }),
};

const SURVEY = 'wod:survey';

const surveyPlugin: JupyterFrontEndPlugin<void> = {
  id: '@wod/labextension:survey',
  description: 'The survey, asked when the conclusion notebook opens; changeable until the end.',
  autoStart: true,
  requires: [IWorkshopSession, INotebookTracker],
  optional: [ICommandPalette, ITranslator],
  activate: (app: JupyterFrontEnd, session: IWorkshopSession, tracker: INotebookTracker, palette: ICommandPalette | null, translator: ITranslator | null) =>
    whenWorkshop(session, (me) => {
      const { trans, locales } = speech(translator);
      let asking = false;
      const ask = async () => {
        if (asking || !session.me) return;
        asking = true;
        try {
          const answer = await askSurvey(session.service, session.me.workshop.name, session.me.survey, trans, locales);
          if (answer) session.surveyStored(answer);
        } finally {
          asking = false;
        }
      };
      app.commands.addCommand(SURVEY, {
        label: trans.__('Workshop Survey…'),
        caption: trans.__('Tell us how the workshop went'),
        isEnabled: () => session.running(),
        execute: ask,
      });
      palette?.addItem({ command: SURVEY, category: trans.__('Workshop') });

      const button = new SurveyButton(() => void app.commands.execute(SURVEY), trans);
      const showButton = () => {
        if (!button.isAttached) app.shell.add(button, 'top', { rank: RANK.survey });
        button.setAnswered(!!session.me?.survey);
      };
      if (me.survey) showButton();
      session.changed.connect(() => {
        if (!session.running()) button.dispose();
        else if (session.me?.survey) showButton();
      });

      // Asked once by itself (a reload does not ask again), after the conclusion shows; the button
      // and the command stay.
      const survey = remembered<'asked'>(me.registration, 'survey');
      const conclusion = me.workshop.conclusion && `${me.workshop.folder}/${me.workshop.conclusion}`;
      const onOpen = (panel: NotebookPanel) =>
        void panel.context.ready.then(() => {
          if (panel.context.path !== conclusion || !session.running()) return;
          showButton();
          if (!session.me?.survey && !survey.shown.has('asked')) {
            survey.add('asked');
            void app.restored.then(ask);
          }
        });
      tracker.forEach(onOpen);
      tracker.widgetAdded.connect((_, panel) => onOpen(panel));
    }),
};

export default [sessionPlugin, clockPlugin, progressPlugin, surveyPlugin];
