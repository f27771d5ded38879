/**
 * The shapes the API and the pages show, built from domain objects: what a visitor may see of a
 * workshop, what a participant sees of their registration.
 */
import { assetUrl, type CatalogEntry } from '../catalog/catalog.js';
import type { ServerHealth } from '../lifecycle/reconcile.js';
import type { RegistrationView } from '../registrations/registrations.js';

export function publicWorkshop(prefix: string, e: CatalogEntry) {
  return {
    folder: e.folder,
    name: e.name,
    description: e.description,
    durationMinutes: e.durationMinutes,
    category: e.category,
    presenter: e.presenter,
    role: e.role,
    avatar: assetUrl(prefix, e.folder, e.avatar),
    badgeImg: assetUrl(prefix, e.folder, e.badgeImg),
    workshopImg: assetUrl(prefix, e.folder, e.workshopImg),
    replayLink: e.replayLink,
    beta: e.beta,
    popular: e.popular,
    seats: e.seats,
    full: e.seats === 0,
    url: `${prefix}workshops/${encodeURIComponent(e.folder)}`,
  };
}
export type PublicWorkshop = ReturnType<typeof publicWorkshop>;

export function adminWorkshop(prefix: string, e: CatalogEntry) {
  return {
    ...publicWorkshop(prefix, e),
    active: e.active,
    capacity: e.capacity,
    priority: e.priority,
    range: e.range,
    running: e.running,
    participants: e.participants,
    source: e.source,
    pinned: e.pinned,
    removed: e.removed,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

/** What the participant's status page and API show: never the password, never other people. */
export function participantStatus(r: RegistrationView, publicUrl: string, now = Date.now()) {
  const running = ['registered', 'deploying', 'ready', 'reminded'].includes(r.state);
  const secondsLeft = r.deadlineAt ? Math.max(0, Math.round((Date.parse(r.deadlineAt) - now) / 1000)) : null;
  return {
    id: r.id,
    state: r.state,
    running,
    workshop: { folder: r.workshop.folder, name: r.workshop.name, durationMinutes: r.workshop.durationMinutes },
    name: r.participant.name,
    email: r.participant.email,
    student: r.student,
    createdAt: r.createdAt,
    readyAt: r.readyAt,
    deadlineAt: r.deadlineAt,
    secondsLeft,
    endedAt: r.endedAt,
    completion: r.completion,
    jupyterUrl: running && r.readyAt && r.student ? `${publicUrl}/user/${r.student}/lab` : null,
  };
}
export type ParticipantStatus = ReturnType<typeof participantStatus>;

/** The student's server on the admin registration page: watched while the registration runs. */
export function adminServer(state: string, h: ServerHealth | null) {
  if (!h || (state !== 'ready' && state !== 'reminded')) return null;
  return {
    down: h.problem !== null,
    status: h.problem ? 'down' : h.failures ? `restarting (${h.failures} failed attempt${h.failures === 1 ? '' : 's'})` : h.checkedAt ? 'no problem' : 'not checked yet',
    problem: h.problem,
    checkedAt: h.checkedAt,
  };
}
