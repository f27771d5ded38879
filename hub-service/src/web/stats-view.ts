/**
 * The dashboard's charts and a workshop's live room as the admin API answers them (and the panel's
 * scripts, static/admin-charts.js and static/admin-room.js, read them). One schema each, so the
 * OpenAPI document describes exactly what is answered.
 */
import { z } from 'zod';
import type { Room } from '../stats/room.js';
import type { DashboardStats, Percentiles, Series } from '../stats/stats.js';
import { REGISTRATION_STATES } from '../registrations/states.js';
import { checksView, timestamp } from './views.js';

const count = z.number().int().min(0);
const share = z.number().min(0).max(1);
const seconds = z.number().min(0).nullable();

const seriesSchema = z
  .object({ start: timestamp.meta({ description: 'the first bucket, UTC' }), stepSeconds: count, counts: z.array(count) })
  .meta({ description: 'counts over consecutive buckets of stepSeconds, zero-filled' });
const percentilesSchema = z.object({ n: count, p50: seconds, p90: seconds, p95: seconds }).meta({ description: 'seconds; null without any value' });

export const statsSchema = z
  .object({
    now: timestamp,
    registrations: z.object({
      lastDay: seriesSchema.meta({ description: 'registrations per hour, the last 24 hours (the current one last)' }),
      lastMonth: seriesSchema.meta({ description: 'registrations per day, the last 30 days (today last)' }),
    }),
    provision: z
      .object({
        overall: percentilesSchema,
        byDay: z.object({ start: timestamp, stepSeconds: count, days: z.array(percentilesSchema) }),
      })
      .meta({
        description: 'seconds from registration to a ready JupyterLab (ready_at − created_at), of registrations created over the last 30 days, by the day they were created',
      }),
    completion: z
      .array(
        z.object({
          folder: z.string(),
          name: z.string(),
          measured: count.meta({ description: 'registrations whose completion was measured at CLEANUP' }),
          finished: count.meta({ description: 'of those, the ones that ran every code cell' }),
          finishedShare: share.nullable(),
          meanCompletion: share.nullable(),
        }),
      )
      .meta({ description: 'per workshop (not removed), by priority' }),
    surveys: z
      .array(
        z.object({
          folder: z.string(),
          name: z.string(),
          answers: count,
          ratings: z.tuple([count, count, count, count, count]).meta({ description: 'how many answered 1, 2, 3, 4 and 5' }),
          meanRating: z.number().min(1).max(5).nullable(),
        }),
      )
      .meta({ description: 'survey ratings per workshop (not removed), by priority' }),
  })
  .meta({ description: "the dashboard's charts: registrations over time, provision time, completion and ratings" });
export type StatsView = z.output<typeof statsSchema>;

const series = (s: Series) => ({ start: s.start, stepSeconds: s.stepSeconds, counts: [...s.counts] });
const pct = (p: Percentiles) => ({ n: p.n, p50: p.p50, p90: p.p90, p95: p.p95 });

export function presentStats(s: DashboardStats): StatsView {
  return {
    now: s.now,
    registrations: { lastDay: series(s.registrations.lastDay), lastMonth: series(s.registrations.lastMonth) },
    provision: {
      overall: pct(s.provision.overall),
      byDay: { start: s.provision.byDay.start, stepSeconds: s.provision.byDay.stepSeconds, days: s.provision.byDay.days.map(pct) },
    },
    completion: s.completion.map((c) => ({
      folder: c.folder,
      name: c.name,
      measured: c.measured,
      finished: c.finished,
      finishedShare: c.finishedShare,
      meanCompletion: c.meanCompletion,
    })),
    surveys: s.surveys.map((w) => ({ folder: w.folder, name: w.name, answers: w.answers, ratings: [...w.ratings], meanRating: w.meanRating })),
  };
}

export const roomSchema = z
  .object({
    folder: z.string(),
    name: z.string(),
    now: timestamp.meta({ description: "the service's clock, to count down against" }),
    hubAnswered: z.boolean().meta({ description: 'false when the hub did not answer: every lastActivity is then unknown (null)' }),
    participants: z.array(
      z.object({
        registration: z.number().int(),
        state: z.enum(REGISTRATION_STATES),
        student: z.string().nullable(),
        name: z.string().meta({ description: "the participant's name" }),
        progress: z.object({ executed: count, total: count, at: timestamp }).nullable().meta({ description: 'live, as the JupyterLab extension reports it' }),
        checks: checksView,
        readyAt: timestamp.nullable(),
        deadlineAt: timestamp.nullable(),
        secondsLeft: count.nullable().meta({ description: '0 once the deadline has passed; null while deploying' }),
        lastActivity: timestamp.nullable().meta({ description: "the hub's last activity of the student's server; null when never, or unknown" }),
      }),
    ),
  })
  .meta({ description: "a workshop's live room: every participant deploying or working now, by student" });
export type RoomView = z.output<typeof roomSchema>;

export function presentRoom(r: Room): RoomView {
  return {
    folder: r.folder,
    name: r.name,
    now: r.now,
    hubAnswered: r.hubAnswered,
    participants: r.participants.map((p) => ({
      registration: p.id,
      state: p.state,
      student: p.student,
      name: p.name,
      progress: p.progress && { executed: p.progress.executed, total: p.progress.total, at: p.progress.at },
      checks: p.checks && { passed: p.checks.passed, total: p.checks.total },
      readyAt: p.readyAt,
      deadlineAt: p.deadlineAt,
      secondsLeft: p.secondsLeft,
      lastActivity: p.lastActivity,
    })),
  };
}
