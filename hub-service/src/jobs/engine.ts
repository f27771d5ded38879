/**
 * The worker: runs queued jobs, at most `concurrency` at once, each as a list of named steps.
 * Every step is idempotent; a finished step is recorded, so a job interrupted by a crash resumes
 * after its last finished step. A transient failure (the hub answering 429 or 5xx, a timeout) is
 * retried with backoff; anything else, or too many attempts, fails the job and calls `onFailed`.
 */
import type { Logger } from '../log.js';
import type { WodMetrics } from '../metrics/metrics.js';
import type { Job, JobStore, Verb } from './store.js';

export interface StepContext {
  job: Job;
  /** appends to the step's log (shown in the admin panel); never give it a secret */
  log(text: string): void;
}

export interface Step {
  name: string;
  run(ctx: StepContext): Promise<void>;
}

export type Plan = (job: Job) => Step[];

/** A failure worth another attempt later. */
export class TransientError extends Error {}

/** Thrown by a step that needs an earlier step done again (e.g. a secret that lived only in memory). */
export class RestartFrom extends Error {
  constructor(readonly step: string) {
    super(`restarting from step ${step}`);
  }
}

export interface RetryPolicy {
  maxAttempts: number;
  /** first retry delay; doubles each attempt, up to a minute */
  backoffMs: number;
}

export interface EngineOptions {
  store: JobStore;
  plans: Record<Verb, Plan>;
  log: Logger;
  concurrency?: number;
  maxAttempts?: number;
  /** first retry delay; doubles each attempt */
  backoffMs?: number;
  /** how often to look for jobs added by other processes */
  pollMs?: number;
  isTransient?: (e: unknown) => boolean;
  /** a verb's own attempts and first retry delay, instead of maxAttempts and backoffMs */
  retryPolicy?: (verb: Verb) => RetryPolicy;
  onFailed?: (job: Job, error: Error) => void;
  onDone?: (job: Job) => void;
  /** told how long each step took, failed ones too (wod_job_step_duration_seconds) */
  metrics?: WodMetrics;
}

export class JobEngine {
  private running = 0;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private readonly idle = new Set<() => void>();
  private readonly active = new Set<Promise<void>>();

  constructor(private readonly o: EngineOptions) {}

  start(): void {
    const resumed = this.o.store.requeueInterrupted();
    if (resumed) this.o.log.info('resuming interrupted jobs', { count: resumed });
    this.stopped = false;
    this.kick();
  }

  /** Waits for the jobs in hand to finish their current attempt. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.active);
  }

  /** Something was enqueued: look now rather than at the next poll. */
  kick(): void {
    if (this.stopped) return;
    while (this.running < (this.o.concurrency ?? 4)) {
      const job = this.o.store.claim();
      if (!job) break;
      this.running++;
      const p = this.execute(job).finally(() => {
        this.running--;
        this.active.delete(p);
        this.kick();
        if (this.running === 0) for (const f of this.idle) f();
      });
      this.active.add(p);
    }
    if (this.timer) clearTimeout(this.timer);
    const due = this.o.store.nextDueInMs();
    const poll = this.o.pollMs ?? 1_000;
    this.timer = setTimeout(() => this.kick(), due === null ? poll : Math.min(poll, due + 5));
    this.timer.unref();
  }

  /** Resolves when no job is running and none is due (for tests and the CLI). */
  async drain(): Promise<void> {
    for (;;) {
      this.kick();
      const due = this.o.store.nextDueInMs();
      if (this.running === 0 && (due === null || due > 60_000)) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.idle.delete(done);
          resolve();
        };
        this.idle.add(done);
        setTimeout(done, Math.min(due ?? 200, 200));
      });
    }
  }

  private async execute(job: Job): Promise<void> {
    const { store, log } = this.o;
    const steps = this.o.plans[job.verb](job);
    const { maxAttempts, backoffMs } = this.o.retryPolicy?.(job.verb) ?? { maxAttempts: this.o.maxAttempts ?? 5, backoffMs: this.o.backoffMs ?? 2_000 };
    const from = job.last_step ? steps.findIndex((s) => s.name === job.last_step) + 1 : 0;
    log.info(`${job.verb} job started`, { job: job.id, student: job.student_id, attempt: job.attempts, from: steps[from]?.name ?? 'end' });
    for (const step of steps.slice(from)) {
      const stepId = store.beginStep(job, step.name);
      let output = '';
      const started = process.hrtime.bigint();
      const timed = () => this.o.metrics?.jobStep(job.verb, step.name, Number(process.hrtime.bigint() - started) / 1e9);
      try {
        await step.run({ job, log: (text) => (output += text) }).finally(timed);
        store.endStep(stepId, true, output);
        store.stepDone(job, step.name);
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        store.endStep(stepId, false, `${output}${output && !output.endsWith('\n') ? '\n' : ''}${error.message}`);
        const restartAt = e instanceof RestartFrom ? steps.findIndex((s) => s.name === e.step) : -1;
        if (restartAt >= 0 && job.attempts < maxAttempts) {
          log.info(`${job.verb} job restarts from a step`, { job: job.id, step: e instanceof RestartFrom ? e.step : '' });
          store.restartFrom(job, restartAt > 0 ? steps[restartAt - 1].name : null);
          return;
        }
        const transient = e instanceof TransientError || (this.o.isTransient?.(e) ?? false);
        if (transient && job.attempts < maxAttempts) {
          const delay = Math.min(60_000, backoffMs * 2 ** (job.attempts - 1));
          log.warn(`${job.verb} job will be retried`, { job: job.id, step: step.name, delayMs: delay, error: error.message });
          store.retryLater(job, delay, `${step.name}: ${error.message}`);
        } else {
          log.error(`${job.verb} job failed`, { job: job.id, step: step.name, error: error.message });
          store.failed(job, `${step.name}: ${error.message}`);
          this.o.onFailed?.(job, error);
        }
        return;
      }
    }
    store.done(job);
    log.info(`${job.verb} job done`, { job: job.id, student: job.student_id });
    this.o.onDone?.(job);
  }
}
