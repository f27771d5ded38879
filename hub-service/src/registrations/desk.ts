/**
 * The front desk: one path for every registration, from the portal form or the REST API.
 * Rate limits, input validation, address policy, then the allocating transaction. Bad input
 * changes nothing; a 201 means the registration and its CREATE job are stored.
 */
import { fieldErrors, type EmailPolicy, refusedEmail, registrationInput } from './input.js';
import { RateLimiter } from './rate-limit.js';
import type { JobSource } from '../jobs/store.js';
import { RegistrationError, type Registrations, type RegistrationView } from './registrations.js';
import type { WodMetrics } from '../metrics/metrics.js';

export type DeskOutcome =
  | { status: 201; registration: RegistrationView }
  | { status: 422; message: string; errors: { field: string; message: string }[] }
  | { status: 404 | 409; code: RegistrationError['code']; message: string; details: Record<string, unknown> }
  /** `limit`: which one was hit, for a page to say it in its language */
  | { status: 429; limit: 'network' | 'address'; message: string; retryAfterSeconds: number };

export interface DeskLimits {
  perIpPerMinute: number;
  perEmailPerHour: number;
}

export class RegistrationDesk {
  private readonly byIp: RateLimiter;
  private readonly byEmail: RateLimiter;

  constructor(
    private readonly registrations: Registrations,
    private readonly policy: EmailPolicy,
    limits: DeskLimits,
    now: () => number = Date.now,
    /** counts every answer by outcome (wod_registrations_total) */
    private readonly metrics?: WodMetrics,
  ) {
    this.byIp = new RateLimiter(limits.perIpPerMinute, 60_000, now);
    this.byEmail = new RateLimiter(limits.perEmailPerHour, 3_600_000, now);
  }

  submit(body: unknown, meta: { ip: string; source: JobSource; language?: string | null }): DeskOutcome {
    const ipHit = this.byIp.hit(meta.ip);
    if (!ipHit.allowed) {
      this.metrics?.registration('rate-limited', null);
      return { status: 429, limit: 'network', message: 'too many registrations from your network; please wait and try again', retryAfterSeconds: ipHit.retryAfterSeconds };
    }
    const parsed = registrationInput.safeParse(body ?? {});
    if (!parsed.success) {
      this.metrics?.registration('invalid', null);
      return { status: 422, message: 'the registration is incomplete or invalid', errors: fieldErrors(parsed.error) };
    }
    const refused = refusedEmail(parsed.data.email, this.policy);
    if (refused) {
      this.metrics?.registration('address-refused', null);
      return { status: 422, message: refused, errors: [{ field: 'email', message: refused }] };
    }
    const emailHit = this.byEmail.hit(parsed.data.email);
    if (!emailHit.allowed) {
      this.metrics?.registration('rate-limited', null);
      return { status: 429, limit: 'address', message: 'too many registrations for this address; please wait and try again', retryAfterSeconds: emailHit.retryAfterSeconds };
    }
    try {
      const registration = this.registrations.register(parsed.data, meta);
      this.metrics?.registration('registered', registration.workshop.folder);
      return { status: 201, registration };
    } catch (e) {
      if (!(e instanceof RegistrationError)) throw e;
      // The folder is a label only once the catalog has it: a made-up one would be a series of its own.
      this.metrics?.registration(e.code, e.code === 'unknown-workshop' ? null : parsed.data.workshop);
      return { status: e.status, code: e.code, message: e.message, details: e.details };
    }
  }
}
