/**
 * The dashboard's figures: registrations per hour over the last 24 hours and per day over the last
 * 30 days, how long a registration waits for its JupyterLab (percentiles), how far participants got
 * per workshop, and the survey ratings per workshop. Buckets are UTC and zero-filled, so a quiet
 * hour is a 0 on the chart, not a gap. The SQL reads are in `dashboardStats`; the arithmetic is
 * plain functions of their inputs.
 */
import type { SurveyAnswer } from '../registrations/survey.js';
import type { Db } from '../store/db.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
export const HOURS = 24;
export const DAYS = 30;

/** Counts over consecutive buckets of equal length, the first starting at `start`. */
export interface Series {
  start: string;
  stepSeconds: number;
  counts: number[];
}

export interface Percentiles {
  /** how many values */
  n: number;
  p50: number | null;
  p90: number | null;
  p95: number | null;
}

export interface WorkshopCompletion {
  folder: string;
  name: string;
  /** registrations whose completion was measured (at CLEANUP) */
  measured: number;
  /** of those, the ones that ran every code cell */
  finished: number;
  /** finished ÷ measured, 0 to 1 */
  finishedShare: number | null;
  meanCompletion: number | null;
}

export interface WorkshopRatings {
  folder: string;
  name: string;
  answers: number;
  /** how many answered 1, 2, 3, 4 and 5 */
  ratings: [number, number, number, number, number];
  meanRating: number | null;
}

export interface DashboardStats {
  now: string;
  registrations: { lastDay: Series; lastMonth: Series };
  /** seconds from registration to ready (ready_at − created_at), of registrations created over the last 30 days */
  provision: { overall: Percentiles; byDay: { start: string; stepSeconds: number; days: Percentiles[] } };
  completion: WorkshopCompletion[];
  surveys: WorkshopRatings[];
}

/** The first of the `n` buckets of `stepMs` that end with the one holding `now` (UTC, aligned). */
export function firstBucket(now: Date, stepMs: number, n: number): Date {
  return new Date(Math.floor(now.getTime() / stepMs) * stepMs - (n - 1) * stepMs);
}

/** How many of `times` (ISO timestamps) fall in each of `n` buckets of `stepMs` from `start`; others are left out. */
export function bucketCounts(times: readonly string[], start: Date, stepMs: number, n: number): number[] {
  const counts = new Array<number>(n).fill(0);
  for (const t of times) {
    const i = Math.floor((Date.parse(t) - start.getTime()) / stepMs);
    if (i >= 0 && i < n) counts[i]++;
  }
  return counts;
}

/** Linear interpolation between the closest ranks (as a spreadsheet's PERCENTILE does); null of nothing. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p95: percentile(sorted, 95) };
}

/** Provision times grouped into the day buckets their registration was created in. */
export function provisionByDay(rows: readonly { createdAt: string; seconds: number }[], start: Date, n: number): Percentiles[] {
  const days = Array.from({ length: n }, () => [] as number[]);
  for (const r of rows) {
    const i = Math.floor((Date.parse(r.createdAt) - start.getTime()) / DAY_MS);
    if (i >= 0 && i < n) days[i].push(r.seconds);
  }
  return days.map(percentiles);
}

/** The rating distribution of one workshop's answers. */
export function ratingsOf(answers: readonly Pick<SurveyAnswer, 'rating'>[]): Pick<WorkshopRatings, 'answers' | 'ratings' | 'meanRating'> {
  const ratings: WorkshopRatings['ratings'] = [0, 0, 0, 0, 0];
  for (const a of answers) ratings[a.rating - 1]++;
  return { answers: answers.length, ratings, meanRating: answers.length ? answers.reduce((s, a) => s + a.rating, 0) / answers.length : null };
}

export function dashboardStats(db: Db, now: Date): DashboardStats {
  const dayStart = firstBucket(now, HOUR_MS, HOURS);
  const monthStart = firstBucket(now, DAY_MS, DAYS);
  const created = (db.prepare('SELECT created_at AS t FROM registrations WHERE created_at >= ?').all(monthStart.toISOString()) as { t: string }[]).map((r) => r.t);
  // In milliseconds from the text: julianday() arithmetic loses them.
  const provision = (
    db.prepare('SELECT created_at AS createdAt, ready_at AS readyAt FROM registrations WHERE ready_at IS NOT NULL AND created_at >= ?').all(monthStart.toISOString()) as {
      createdAt: string;
      readyAt: string;
    }[]
  ).map((r) => ({ createdAt: r.createdAt, seconds: (Date.parse(r.readyAt) - Date.parse(r.createdAt)) / 1000 }));
  const workshops = db.prepare('SELECT id, folder, name FROM workshops WHERE removed_at IS NULL ORDER BY priority, folder').all() as { id: number; folder: string; name: string }[];
  const completion = db.prepare(
    'SELECT COUNT(*) AS measured, SUM(completion >= 1) AS finished, AVG(completion) AS mean FROM registrations WHERE workshop_id = ? AND completion IS NOT NULL',
  );
  const surveys = db.prepare('SELECT survey FROM registrations WHERE workshop_id = ? AND survey IS NOT NULL');
  return {
    now: now.toISOString(),
    registrations: {
      lastDay: { start: dayStart.toISOString(), stepSeconds: HOUR_MS / 1000, counts: bucketCounts(created, dayStart, HOUR_MS, HOURS) },
      lastMonth: { start: monthStart.toISOString(), stepSeconds: DAY_MS / 1000, counts: bucketCounts(created, monthStart, DAY_MS, DAYS) },
    },
    provision: {
      overall: percentiles(provision.map((r) => r.seconds)),
      byDay: { start: monthStart.toISOString(), stepSeconds: DAY_MS / 1000, days: provisionByDay(provision, monthStart, DAYS) },
    },
    completion: workshops.map((w) => {
      const c = completion.get(w.id) as { measured: number; finished: number | null; mean: number | null };
      return {
        folder: w.folder,
        name: w.name,
        measured: c.measured,
        finished: c.finished ?? 0,
        finishedShare: c.measured ? (c.finished ?? 0) / c.measured : null,
        meanCompletion: c.mean,
      };
    }),
    surveys: workshops.map((w) => ({
      folder: w.folder,
      name: w.name,
      ...ratingsOf((surveys.all(w.id) as { survey: string }[]).map((r) => JSON.parse(r.survey) as SurveyAnswer)),
    })),
  };
}
