/**
 * The participant's answer to the short survey: one per registration, which they may change.
 * Given on the status page (and, with the lab extension, in JupyterLab); acknowledged by mail once.
 */
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import type { Db } from '../store/db.js';

const text = z.string().trim().max(2000, 'is too long (2000 characters at most)').optional().default('');

export const surveyInput = z.object({
  rating: z.coerce.number({ error: 'choose from 1 to 5' }).int().min(1, 'choose from 1 to 5').max(5, 'choose from 1 to 5'),
  good: text,
  improve: text,
  recommend: z.union([z.boolean(), z.enum(['yes', 'no']).transform((v) => v === 'yes')], { error: 'say yes or no' }),
});

export type SurveyAnswer = z.output<typeof surveyInput> & { answeredAt: string };

export function saveSurvey(db: Db, registrationId: number, answer: z.output<typeof surveyInput>, actor: string): SurveyAnswer {
  const stored: SurveyAnswer = { ...answer, answeredAt: new Date().toISOString() };
  db.prepare('UPDATE registrations SET survey = ? WHERE id = ?').run(JSON.stringify(stored), registrationId);
  audit(db, actor, 'registration.survey', { type: 'registration', id: registrationId }, { rating: answer.rating });
  return stored;
}

export function readSurvey(db: Db, registrationId: number): SurveyAnswer | null {
  const row = db.prepare('SELECT survey FROM registrations WHERE id = ?').get(registrationId) as { survey: string | null } | undefined;
  return row?.survey ? (JSON.parse(row.survey) as SurveyAnswer) : null;
}

export function surveySummary(db: Db): { answers: number; meanRating: number | null; recommend: number | null } {
  const rows = (db.prepare('SELECT survey FROM registrations WHERE survey IS NOT NULL').all() as { survey: string }[]).map((r) => JSON.parse(r.survey) as SurveyAnswer);
  if (!rows.length) return { answers: 0, meanRating: null, recommend: null };
  return {
    answers: rows.length,
    meanRating: rows.reduce((s, r) => s + r.rating, 0) / rows.length,
    recommend: rows.filter((r) => r.recommend).length / rows.length,
  };
}
