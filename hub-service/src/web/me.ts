/**
 * What a student's JupyterLab asks the service, with the token JupyterHub gives the page (no secret
 * of wod's in the notebook or the page): their workshop and clock, and their live progress and survey
 * answer to store. A student reads and writes only their own registration.
 */
import fs from 'node:fs';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { STUDENT_NAME } from '../accounts/student-logins.js';
import { findConclusion } from '../content/conclusion.js';
import { fieldErrors } from '../registrations/input.js';
import { saveProgress, type StudentRegistration, studentRegistration } from '../registrations/queries.js';
import { askExtension, ExtensionError, extensionNow } from '../registrations/extension.js';
import { CLOCK_RUNNING, REGISTRATION_STATES } from '../registrations/states.js';
import { readSurvey, saveSurvey, surveyInput } from '../registrations/survey.js';
import type { WebDeps } from './deps.js';
import { extensionSchema, presentExtension } from './extension-view.js';
import { checksView, surveyAnswer, surveyAnswerSchema, timestamp } from './views.js';

export const checksSchema = z
  .object({ passed: z.number().int().min(0), total: z.number().int().min(0) })
  .strict()
  .refine((c) => c.passed <= c.total, { message: 'passed cannot exceed total', path: ['passed'] })
  .meta({ description: 'exercise checks (code cells tagged wod-check) whose latest run passed, over all of them' });

export const progressInput = z
  .object({
    executed: z.number().int().min(0),
    total: z.number().int().min(0),
    // Optional: a lab extension from before the checks reports cells only.
    checks: checksSchema.optional(),
  })
  .strict()
  .refine((p) => p.executed <= p.total, 'executed cannot exceed total');

/** GET /me: what the student's JupyterLab shows (the clock, the conclusion notebook, the survey). */
export const meSchema = z
  .object({
    registration: z.number().int().meta({ description: 'the registration holding this student account' }),
    state: z.enum(REGISTRATION_STATES),
    workshop: z.object({
      folder: z.string(),
      name: z.string(),
      conclusion: z.string().nullable().meta({ description: 'the notebook (file name in the workshop folder) that asks for the survey' }),
    }),
    deadlineAt: timestamp.nullable(),
    secondsLeft: z.number().int().min(0).nullable().meta({ description: 'rounded up: 0 only once the deadline has passed' }),
    closesAt: timestamp.nullable().meta({ description: 'when the server is stopped: the deadline and a grace to download the work' }),
    now: timestamp.meta({ description: "the service's clock, to count down against" }),
    survey: surveyAnswerSchema.nullable(),
    checks: checksView,
    extension: extensionSchema,
  })
  .meta({ description: "a student's own workshop and clock" });
export type Me = z.output<typeof meSchema>;

export function meRouter(deps: WebDeps): express.Router {
  const { db, auth, config } = deps;
  const router = express.Router();
  router.use(auth.requireUser, auth.requireCsrf);

  /** The visitor's current registration: the one holding their student account. */
  const mine = (req: Request, res: Response): StudentRegistration | null => {
    const name = req.visitor!.name;
    const row = STUDENT_NAME.test(name) ? studentRegistration(db, name) : null;
    if (!row) res.status(404).json({ status: 404, message: `${name} has no workshop` });
    return row;
  };

  const present = (r: StudentRegistration): Me => {
    const now = Date.now();
    // Rounded up: 0 only once the deadline has passed.
    const secondsLeft = r.deadlineAt ? Math.max(0, Math.ceil((Date.parse(r.deadlineAt) - now) / 1000)) : null;
    let files: string[] = [];
    try {
      files = fs.readdirSync(r.path);
    } catch {
      // A workshop folder gone since the import: no conclusion to point at, the rest still holds.
    }
    const survey = readSurvey(db, r.id);
    return {
      registration: r.id,
      state: r.state,
      workshop: { folder: r.folder, name: r.name, conclusion: findConclusion(files, r.pattern) },
      deadlineAt: r.deadlineAt,
      secondsLeft,
      // When the server is stopped: the deadline and the grace to download the work.
      closesAt: r.deadlineAt ? new Date(Date.parse(r.deadlineAt) + config.timers.endGraceSeconds * 1000).toISOString() : null,
      // The page counts down from the deadline against this, not against its own clock.
      now: new Date(now).toISOString(),
      survey: survey && surveyAnswer(survey),
      checks: r.checksTotal === null ? null : { passed: r.checksPassed!, total: r.checksTotal },
      extension: presentExtension(extensionNow(db, r.id, config.timers.reminderMinutes, now)!),
    };
  };

  router.get('/', (req, res) => {
    const r = mine(req, res);
    if (r) res.json(present(r));
  });

  /** More time, asked from the lab's clock: the new deadline in the answer, or 409 with the reason. */
  router.post('/extend', (req, res) => {
    const r = mine(req, res);
    if (!r) return;
    try {
      askExtension(db, deps.registrations, r.id, `participant:${r.email}`, config.timers.reminderMinutes);
    } catch (e) {
      if (!(e instanceof ExtensionError)) throw e;
      return void res.status(409).json({ status: 409, code: e.code, message: e.message });
    }
    res.json(present(studentRegistration(db, req.visitor!.name)!));
  });

  router.put('/progress', (req, res) => {
    const r = mine(req, res);
    if (!r) return;
    const p = progressInput.safeParse(req.body);
    if (!p.success) return void res.status(422).json({ status: 422, message: 'invalid progress', errors: fieldErrors(p.error) });
    saveProgress(db, r.id, p.data);
    res.status(204).end();
  });

  router.put('/survey', (req, res) => {
    const r = mine(req, res);
    if (!r) return;
    if (!(CLOCK_RUNNING as readonly string[]).includes(r.state)) return void res.status(409).json({ status: 409, message: 'the workshop has ended: answer on your status page' });
    const answer = surveyInput.safeParse(req.body);
    if (!answer.success) return void res.status(422).json({ status: 422, message: 'incomplete answer', errors: fieldErrors(answer.error) });
    const stored = db.transaction(() => {
      const saved = saveSurvey(db, r.id, answer.data, `student:${req.visitor!.name}`);
      deps.letters.feedback(r.id, answer.data.rating);
      return saved;
    })();
    res.json(surveyAnswer(stored));
  });

  return router;
}
