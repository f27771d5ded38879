/**
 * The links in participant mails that act as the participant: the status page (ends the workshop,
 * takes the survey), the one-click start link (logs in) and the download of their work (work/link.ts). A queued mail is stored with a
 * placeholder in their place; the links are made when the mail is handed to the transport, so no
 * stored row or body holds one, and "send again" carries fresh links.
 */
import type { Sealer } from '../auth/seal.js';
import { portalUrl } from '../config/urls.js';
import { routedTo } from '../locations/commands.js';
import { startToken } from '../registrations/start-link.js';
import { statusToken } from '../registrations/status-token.js';
import type { Db } from '../store/db.js';
import { workToken } from '../work/link.js';
import { findArchive } from '../work/records.js';

export const STATUS_LINK = '[wod:status-link]';
export const START_LINK = '[wod:start-link]';
export const WORK_LINK = '[wod:work-link]';
/** What the admin panel shows where a link will be. */
export const LINK_SHOWN = '(a link made when the mail is sent)';

const PLACEHOLDERS = /\[wod:(status|start|work)-link\]/g;

export class MailLinks {
  private readonly portal: string;

  constructor(
    private readonly db: Db,
    private readonly sealer: Sealer,
    private readonly publicUrl: string,
  ) {
    this.portal = portalUrl({ publicUrl });
  }

  statusUrl(registrationId: number): string {
    return `${this.portal}status/${statusToken(this.sealer, registrationId)}`;
  }

  /**
   * Valid until the registration's deadline; none before it has one. Seated at a backend, only its
   * hub can log them in: the link is the status page's, which asks the backend for one (web/portal.ts).
   */
  startUrl(registrationId: number, deadlineAt: string | null): string | null {
    if (!deadlineAt) return null;
    if (routedTo(this.db, registrationId)) return `${this.statusUrl(registrationId)}/start`;
    return `${this.publicUrl}/hub/wod-login?token=${startToken(this.sealer, registrationId, new Date(deadlineAt))}`;
  }

  /** Valid until the archive expires; none once it is gone (expired or erased). */
  workUrl(registrationId: number): string | null {
    const a = findArchive(this.db, registrationId);
    return a ? `${this.portal}work/${workToken(this.sealer, registrationId, new Date(a.expiresAt))}` : null;
  }

  /** The mail's text with its placeholders replaced by links made now, for the registration's current deadline. */
  fill(text: string, registrationId: number | null): string {
    if (registrationId === null || !text.includes('[wod:')) return text;
    const row = this.db.prepare('SELECT deadline_at AS deadlineAt FROM registrations WHERE id = ?').get(registrationId) as { deadlineAt: string | null } | undefined;
    return text.replace(PLACEHOLDERS, (_m, which: string) => {
      if (which === 'status') return this.statusUrl(registrationId);
      // an archive gone before the mail went: its status page rather than a dead link
      if (which === 'work') return this.workUrl(registrationId) ?? this.statusUrl(registrationId);
      return this.startUrl(registrationId, row?.deadlineAt ?? null) ?? this.portal;
    });
  }
}

/** For showing a stored mail: the placeholders said in words. */
export function showLinks(text: string): string {
  return text.replace(PLACEHOLDERS, LINK_SHOWN);
}
