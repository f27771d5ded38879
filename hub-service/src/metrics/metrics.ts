/**
 * The service's Prometheus metrics, in the shape of JupyterHub's jupyterhub/metrics.py: every metric
 * defined here once, with its help text, a `wod_` name in JupyterHub's style and its unit in the
 * name. Served at /services/wod/metrics (./route.ts), beside the hub's own /hub/metrics.
 *
 * Events (registrations, logins, mail-API orders, delivery failures, durations) are counted where
 * they happen, through the methods below; what lives in the database (seats, jobs, the mail queue)
 * is read from it at each scrape (./state.ts). Label values are fixed words, workshop folder names
 * and route templates (./labels.ts): never an address, a name or a token.
 *
 * One registry per instance, not prom-client's global one: main.ts makes the service's, and tests
 * make their own without seeing each other's counts.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Verb } from '../jobs/store.js';
import type { RegistrationError } from '../registrations/registrations.js';
import type { Db } from '../store/db.js';
import { workshopLabel } from './labels.js';
import { jobCounts, mailQueueDepth, SEAT_STATES, seatCounts } from './state.js';

/** What the registration desk answered (registrations/desk.ts): registered, or why not. */
export type RegistrationOutcome = 'registered' | 'invalid' | 'address-refused' | 'rate-limited' | RegistrationError['code'];

/**
 * What the mail API did with an order (mail-in/): stored as jobs, stored before (a repeated
 * Message-ID), refused and why, or not stored (451). The door's refusals (client, AUTH, sender, size)
 * come before the subject is read: they count whatever the message would have been.
 */
export type OrderVerdict = 'accepted' | 'duplicate' | 'refused-client' | 'refused-unauthenticated' | 'refused-sender' | 'refused-invalid' | 'refused-too-large' | 'failed';

/** What the authenticator shim was told (web/internal.ts): a password login or a one-click start link. */
export type LoginOutcome = 'accepted' | 'refused' | 'throttled' | 'start-link-accepted' | 'start-link-refused';

/** Seconds, 0.1 s (a warm seat) to 5 min (a cold seat with a slow hook): registration accepted to ready. */
const PROVISION_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 90, 120, 180, 240, 300];
/** Seconds, a database write to a long hook. */
const STEP_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class WodMetrics {
  readonly registry = new Registry();

  /** like jupyterhub_request_duration_seconds; `handler` is the route template (./labels.ts) */
  private readonly requestDuration = new Histogram({
    name: 'wod_request_duration_seconds',
    help: 'Request duration for all HTTP requests of the wod service',
    labelNames: ['code', 'handler', 'method'] as const,
    registers: [this.registry],
  });

  private readonly registrations = new Counter({
    name: 'wod_registrations_total',
    help: "Registrations asked of the desk, by workshop folder and outcome ('registered', or why not)",
    labelNames: ['workshop', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly provisionDuration = new Histogram({
    name: 'wod_provision_duration_seconds',
    help: 'Time from a registration accepted to its credentials sent (ready), by workshop folder',
    labelNames: ['workshop'] as const,
    buckets: PROVISION_BUCKETS,
    registers: [this.registry],
  });

  private readonly jobStepDuration = new Histogram({
    name: 'wod_job_step_duration_seconds',
    help: 'Duration of each step of the lifecycle jobs, failed attempts included, by verb and step',
    labelNames: ['verb', 'step'] as const,
    buckets: STEP_BUCKETS,
    registers: [this.registry],
  });

  private readonly mailDeliveryFailures = new Counter({
    name: 'wod_mail_delivery_failures_total',
    help: 'Participant mails the transport did not take (each is retried later)',
    registers: [this.registry],
  });

  private readonly mailApiOrders = new Counter({
    name: 'wod_mail_api_orders_total',
    help: "Orders given to the SMTP mail API, by verdict: 'accepted', 'duplicate', 'refused-invalid', 'failed'; refusals at the door (client, AUTH, sender, size) whatever the message",
    labelNames: ['verdict'] as const,
    registers: [this.registry],
  });

  private readonly logins = new Counter({
    name: 'wod_logins_total',
    help: 'Hub logins the authenticator asked wod about, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly reroutes = new Counter({
    name: 'wod_registrations_rerouted_total',
    help: "Registrations moved from one location to another (locations/router.ts), by the location left and the one taken ('here': this wod)",
    labelNames: ['from', 'to'] as const,
    registers: [this.registry],
  });

  /** @param db the database the seat, job and mail-queue gauges read at each scrape; none: no such gauges */
  constructor(db?: Db) {
    collectDefaultMetrics({ register: this.registry });
    if (db) this.gaugeState(db);
  }

  private gaugeState(db: Db): void {
    const registers = [this.registry];
    new Gauge({
      name: 'wod_seats',
      help: "Seats of the student pool by state: 'free', 'warm' (free and prepared for a workshop), 'allocated', 'cleanup'",
      labelNames: ['state'] as const,
      registers,
      collect() {
        const counts = seatCounts(db);
        for (const state of SEAT_STATES) this.set({ state }, counts[state]);
      },
    });
    new Gauge({
      name: 'wod_jobs',
      help: 'Lifecycle jobs in the database by verb and state',
      labelNames: ['verb', 'state'] as const,
      registers,
      collect() {
        for (const { verb, state, count } of jobCounts(db)) this.set({ verb, state }, count);
      },
    });
    new Gauge({
      name: 'wod_mail_queue_depth',
      help: 'Participant mails queued, waiting for the transport',
      registers,
      collect() {
        this.set(mailQueueDepth(db));
      },
    });
  }

  /** A portal's backends, read at each scrape from what it last heard of them (locations/health.ts). */
  watchLocations(list: () => { name: string; up: boolean | null; seats: { workshops: { seats: number }[] } | null }[]): void {
    const registers = [this.registry];
    new Gauge({
      name: 'wod_location_up',
      help: 'Whether each backend location answered its last call (1) or not (0); absent before the first',
      labelNames: ['location'] as const,
      registers,
      collect() {
        for (const b of list()) if (b.up !== null) this.set({ location: b.name }, b.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'wod_location_seats',
      help: 'Seats a registration could take now at each backend location, all workshops together, as it last said',
      labelNames: ['location'] as const,
      registers,
      collect() {
        for (const b of list())
          if (b.seats)
            this.set(
              { location: b.name },
              b.seats.workshops.reduce((n, w) => n + w.seats, 0),
            );
      },
    });
  }

  rerouted(from: string, to: string): void {
    this.reroutes.inc({ from, to });
  }

  /** The text exposition format of every metric, with its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  request(method: string, handler: string, code: number, seconds: number): void {
    this.requestDuration.observe({ method, handler, code: String(code) }, seconds);
  }

  /** @param workshop the folder, when the outcome shows it is in the catalog; else null */
  registration(outcome: RegistrationOutcome, workshop: string | null): void {
    this.registrations.inc({ workshop: workshopLabel(workshop), outcome });
  }

  provisioned(workshop: string, seconds: number): void {
    this.provisionDuration.observe({ workshop: workshopLabel(workshop) }, Math.max(0, seconds));
  }

  jobStep(verb: Verb, step: string, seconds: number): void {
    this.jobStepDuration.observe({ verb, step }, seconds);
  }

  mailDeliveryFailed(): void {
    this.mailDeliveryFailures.inc();
  }

  mailApiOrder(verdict: OrderVerdict): void {
    this.mailApiOrders.inc({ verdict });
  }

  login(outcome: LoginOutcome): void {
    this.logins.inc({ outcome });
  }
}
