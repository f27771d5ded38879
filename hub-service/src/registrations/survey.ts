/**
 * The participant's answer to the short survey: one per registration, which they may change.
 * Given on the status page (and, with the lab extension, in JupyterLab); acknowledged by mail once.
 */
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import { cleanText } from '../clean-text.js';
import type { Db } from '../store/db.js';

/** A free-text answer: its paragraphs are kept; other controls and direction overrides are refused, as for a name. */
const text = cleanText({ max: 2000, multiLine: true }).optional().default('');

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

export interface SurveyRow extends SurveyAnswer {
  registrationId: number;
  workshop: { folder: string; name: string };
  participant: { name: string; email: string };
}

export interface SurveyQuery {
  workshop?: string;
  limit: number;
  offset: number;
}

/** Every answer, newest first, with who gave it for which workshop, and what they add up to. */
export function listSurveys(db: Db, q: SurveyQuery): { items: SurveyRow[]; total: number; summary: SurveySummary } {
  const rows = db
    .prepare(
      `SELECT r.id, r.survey, w.folder, w.name AS workshopName, p.name, p.email
              FROM registrations r JOIN workshops w ON w.id = r.workshop_id JOIN participants p ON p.id = r.participant_id
              WHERE r.survey IS NOT NULL AND (@workshop IS NULL OR w.folder = @workshop)
              ORDER BY json_extract(r.survey, '$.answeredAt') DESC, r.id DESC LIMIT @limit OFFSET @offset`,
    )
    .all({ workshop: q.workshop ?? null, limit: q.limit, offset: q.offset }) as { id: number; survey: string; folder: string; workshopName: string; name: string; email: string }[];
  const summary = surveySummary(db, q.workshop);
  return {
    items: rows.map((r) => ({
      registrationId: r.id,
      workshop: { folder: r.folder, name: r.workshopName },
      participant: { name: r.name, email: r.email },
      ...(JSON.parse(r.survey) as SurveyAnswer),
    })),
    total: summary.answers,
    summary,
  };
}

export interface SurveySummary {
  answers: number;
  meanRating: number | null;
  /** the share who would recommend, 0 to 1 */
  recommend: number | null;
}

/** What the answers add up to, for every workshop or one. */
export function surveySummary(db: Db, workshop?: string): SurveySummary {
  const rows = db
    .prepare(
      `SELECT r.survey FROM registrations r JOIN workshops w ON w.id = r.workshop_id
              WHERE r.survey IS NOT NULL AND (@workshop IS NULL OR w.folder = @workshop)`,
    )
    .all({ workshop: workshop ?? null }) as { survey: string }[];
  return summarise(rows.map((r) => JSON.parse(r.survey) as SurveyAnswer));
}

function summarise(rows: SurveyAnswer[]): SurveySummary {
  if (!rows.length) return { answers: 0, meanRating: null, recommend: null };
  return {
    answers: rows.length,
    meanRating: rows.reduce((s, r) => s + r.rating, 0) / rows.length,
    recommend: rows.filter((r) => r.recommend).length / rows.length,
  };
}
