/**
 * What the panel needs for the dashboard's charts and a workshop's room page: uPlot's files, served
 * by the service itself (never a CDN: the panel works on a host without Internet access), and the
 * room page's view model. The figures themselves come from the admin API (./stats-view.ts), which
 * the page's scripts (static/admin-charts.js, static/admin-room.js) fetch.
 */
import path from 'node:path';
import { getWorkshop } from '../catalog/catalog.js';
import { WORKSHOP_FOLDER } from '../catalog/spec.js';
import type { Db } from '../store/db.js';

/** uPlot's dist folder (uPlot.iife.min.js, uPlot.min.css), from the installed package. */
export const UPLOT_DIR = path.join(path.dirname(require.resolve('uplot/package.json')), 'dist');

/** How often the room page asks for the room again. */
export const ROOM_POLL_SECONDS = 5;

/** The room page of a workshop; null when there is no such workshop (removed ones included: their last participants may still run). */
export function roomPage(db: Db, folder: string): { workshop: { folder: string; name: string }; pollSeconds: number } | null {
  const w = WORKSHOP_FOLDER.test(folder) ? getWorkshop(db, folder) : null;
  return w && { workshop: { folder: w.folder, name: w.name }, pollSeconds: ROOM_POLL_SECONDS };
}
