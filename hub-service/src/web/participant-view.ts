/**
 * A participant's data as the admin API shows it (lookup, export, erasure): the response schemas
 * of the OpenAPI document (./api-responses.ts) and the presenters that fit them.
 */
import { z } from 'zod';
import type { ErasureResult } from '../participants/erase.js';
import type { ParticipantExport, ParticipantSummary } from '../participants/participants.js';
import { REGISTRATION_STATES } from '../registrations/states.js';
import { checksView, registrationLanguage, surveyAnswerSchema, timestamp } from './views.js';

const count = z.number().int().min(0);

const participantFields = {
  id: z.number().int(),
  email: z.string().meta({ description: '`erased:<id>` once erased' }),
  name: z.string(),
  company: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
};

export const participantSummarySchema = z
  .object({ ...participantFields, registrations: count, erased: z.boolean() })
  .meta({ description: 'a participant, with how many registrations they made' });

export const participantExportSchema = z
  .object({
    exportedAt: timestamp,
    participant: z.object(participantFields),
    registrations: z.array(
      z.object({
        id: z.number().int(),
        workshop: z.object({ folder: z.string(), name: z.string() }),
        student: z.string().nullable(),
        state: z.enum(REGISTRATION_STATES),
        mode: z.string(),
        createdAt: timestamp,
        readyAt: timestamp.nullable(),
        deadlineAt: timestamp.nullable(),
        endedAt: timestamp.nullable(),
        endReason: z.string().nullable(),
        completion: z.number().min(0).max(1).nullable(),
        progress: z.object({ executed: count, total: count, at: timestamp }).nullable(),
        checks: checksView,
        survey: surveyAnswerSchema.nullable(),
        badge: z.string().nullable(),
        clientIp: z.string().nullable().meta({ description: 'the address the registration came from' }),
        externalId: z.string().nullable().meta({ description: "the api-db's participant id, for its orders" }),
        language: registrationLanguage,
        location: z.string().nullable().meta({ description: 'the backend wod that seated it (locations.backends); null: this one' }),
      }),
    ),
    mails: z.array(
      z.object({
        id: z.number().int(),
        key: z.string(),
        kind: z.string(),
        registrationId: z.number().int().nullable(),
        to: z.string(),
        subject: z.string(),
        state: z.enum(['queued', 'sent']),
        attempts: count,
        error: z.string().nullable().meta({ description: "the transport's last refusal" }),
        createdAt: timestamp,
        sentAt: timestamp.nullable(),
        text: z.string().nullable().meta({ description: 'the stored body, links shown as words; null for credentials (never stored) and relayed mails (sealed)' }),
        html: z.string().nullable(),
      }),
    ),
    audit: z.array(
      z.object({
        at: z.string(),
        actor: z.string(),
        action: z.string(),
        subject: z.object({ type: z.string(), id: z.string() }),
        details: z.unknown().meta({ description: 'what the action stored, as JSON' }),
      }),
    ),
  })
  .meta({ description: 'everything wod holds about a participant: their registrations, the mails to them, the audit entries about them' });

export const erasureSchema = z
  .object({
    participant: z.number().int(),
    registrations: count.meta({ description: 'kept, anonymous: their client address, api-db id and survey comments cleared' }),
    mails: count.meta({ description: 'deleted' }),
    outboxFiles: count.meta({ description: 'deleted from the outbox folder' }),
    workArchives: count.meta({ description: 'archives of their work deleted from the work folder' }),
    jobSteps: count.meta({ description: 'step logs scrubbed of their address, name and company' }),
    auditEntries: count.meta({ description: 'entries scrubbed of their address, name and company' }),
    warning: z
      .string()
      .optional()
      .meta({ description: 'the erasure stands, but its freed bytes may still be on disk (a busy WAL checkpoint, a failed VACUUM): the next erasure clears them' }),
  })
  .meta({ description: 'what an erasure changed (the audit entry of the erasure holds the same counts)' });

export const participantPageSchema = z
  .object({ items: z.array(participantSummarySchema), total: count, limit: z.number().int().min(1), offset: count })
  .meta({ description: 'a page of participants, newest first' });

export function presentParticipantSummary(p: ParticipantSummary): z.output<typeof participantSummarySchema> {
  return { id: p.id, email: p.email, name: p.name, company: p.company, createdAt: p.createdAt, updatedAt: p.updatedAt, registrations: p.registrations, erased: p.erased };
}

export function presentParticipantExport(x: ParticipantExport, now = new Date()): z.output<typeof participantExportSchema> {
  const { id, email, name, company, createdAt, updatedAt } = x.participant;
  return {
    exportedAt: now.toISOString(),
    participant: { id, email, name, company, createdAt, updatedAt },
    registrations: x.registrations.map((r) => ({ ...r, workshop: { folder: r.workshop.folder, name: r.workshop.name } })),
    mails: x.mails.map((m) => ({ ...m })),
    audit: x.audit.map((a) => ({ at: a.at, actor: a.actor, action: a.action, subject: { type: a.subject.type, id: a.subject.id }, details: a.details })),
  };
}

export function presentErasure(e: ErasureResult): z.output<typeof erasureSchema> {
  const { participant, registrations, mails, outboxFiles, workArchives, jobSteps, auditEntries, warning } = e;
  return { participant, registrations, mails, outboxFiles, workArchives, jobSteps, auditEntries, ...(warning ? { warning } : {}) };
}
