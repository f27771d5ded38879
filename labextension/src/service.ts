/**
 * The wod service as the student's JupyterLab sees it: the hub's `wod` service, called with the
 * token JupyterHub put in this page's config (scoped by the hub to `access:services!service=wod`),
 * so no secret of wod's is in the notebook or the page.
 */
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { serviceBaseUrl } from './hub';
import type { Progress } from './live-progress';

export interface SurveyInput {
  rating: number;
  good: string;
  improve: string;
  recommend: boolean;
}

export interface SurveyAnswer extends SurveyInput {
  answeredAt: string;
}

/** GET /api/v1/me */
export interface Me {
  registration: number;
  state: string;
  workshop: { folder: string; name: string; conclusion: string | null };
  deadlineAt: string | null;
  secondsLeft: number | null;
  /** when the server is stopped: the deadline and a grace to download the work */
  closesAt: string | null;
  /** the service's clock when it answered */
  now: string;
  survey: SurveyAnswer | null;
  /** exercise checks passed, as last reported (or measured at CLEANUP); null before any report */
  checks: { passed: number; total: number } | null;
  /** whether asking for more time now would be granted, and why not */
  extension: { possible: boolean; minutes: number | null; code: string | null; reason: string | null };
}

/** A refusal of the service, with its per-field messages when it gives them (422). */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: Record<string, string> = {},
    /** the service's stable reason (`not-allowed`, `seat-needed`, …): what the lab words in its language */
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

export class WodService {
  private readonly settings: ServerConnection.ISettings;

  constructor(hubPrefix = PageConfig.getOption('hubPrefix')) {
    // Requests must start with the settings' base URL: the service's, not this server's.
    this.settings = ServerConnection.makeSettings({ baseUrl: serviceBaseUrl(hubPrefix || '/hub/') });
  }

  /**
   * The student's workshop, or null for a user without one: an admin, or a student whose seat was
   * cleaned (the hub then revoked the page's token). Only the service's own 404 says so: a 404
   * page of a proxy is an error, to be asked again.
   */
  async me(): Promise<Me | null> {
    const res = await this.request('me', { method: 'GET' });
    const fromService = res.headers.get('Content-Type')?.startsWith('application/json');
    if (fromService && [401, 403, 404].includes(res.status)) return null;
    return (await this.read(res)) as Me;
  }

  /** `keepalive` lets the last report leave with a page being closed. */
  async reportProgress(counts: Progress, options: { keepalive?: boolean } = {}): Promise<void> {
    await this.read(await this.request('me/progress', { method: 'PUT', body: JSON.stringify(counts), keepalive: options.keepalive }));
  }

  async answerSurvey(answer: SurveyInput): Promise<SurveyAnswer> {
    return (await this.read(await this.request('me/survey', { method: 'PUT', body: JSON.stringify(answer) }))) as SurveyAnswer;
  }

  /** More time (wod.yml extend): the workshop with its new deadline, or a ServiceError with the reason. */
  async extend(): Promise<Me> {
    return (await this.read(await this.request('me/extend', { method: 'POST' }))) as Me;
  }

  private request(path: string, init: RequestInit): Promise<Response> {
    return ServerConnection.makeRequest(
      URLExt.join(this.settings.baseUrl, path),
      { ...init, cache: 'no-store', headers: { Accept: 'application/json', 'Content-Type': 'application/json' } },
      this.settings,
    );
  }

  private async read(res: Response): Promise<unknown> {
    const body = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) {
      const b = (body ?? {}) as { message?: string; code?: string; errors?: { field: string; message: string }[] };
      const fields = Object.fromEntries((b.errors ?? []).map((e) => [e.field, e.message]));
      throw new ServiceError(res.status, b.message ?? `the workshop service answered ${res.status}`, fields, b.code ?? null);
    }
    return body;
  }
}
