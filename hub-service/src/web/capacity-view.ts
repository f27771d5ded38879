/**
 * Capacity as the admin API, the dashboard and `wod capacity --json` show it: what a working seat
 * costs on this host (measured by ../capacity/meter.ts), the memory available now, how many more
 * seats fit. One schema, so the OpenAPI document describes exactly what is answered.
 */
import { z } from 'zod';
import { formatBytes } from '../capacity/capacity.js';
import type { CapacityFigures } from '../capacity/meter.js';
import { timestamp } from './views.js';

const bytes = z.number().int().min(0);

export const capacitySchema = z
  .object({
    measuredAt: timestamp.nullable().meta({ description: 'the last sample that found a working seat; null before the first' }),
    perSeatBytes: bytes.nullable().meta({
      description: "median resident memory (RSS) of a working seat: its student's server and all its children, over the latest 500 readings; null until measured",
    }),
    samples: z.number().int().min(0).meta({ description: 'seat readings the median is over (one per working seat a minute)' }),
    byWorkshop: z.array(z.object({ folder: z.string(), perSeatBytes: bytes, samples: z.number().int().min(0) })).meta({ description: 'the same, per workshop' }),
    perWarmSeatBytes: bytes.nullable().meta({ description: 'median resident memory of a warm seat (a server waiting for a participant); null until measured' }),
    warmSamples: z.number().int().min(0).meta({ description: 'warm seat readings that median is over' }),
    availableBytes: bytes.nullable().meta({ description: 'MemAvailable of /proc/meminfo now' }),
    reserveBytes: bytes.meta({ description: 'kept for the system, the hub and wod, never counted as room for seats' }),
    seatsMore: z
      .number()
      .int()
      .min(0)
      .nullable()
      .meta({ description: 'working seats this host can hold on top of the running ones: ⌊(available − reserve) ÷ per seat⌋; null until measured' }),
  })
  .meta({ description: 'what a working seat costs on this host and how many more fit' });
export type CapacityView = z.output<typeof capacitySchema>;

export function presentCapacity(f: CapacityFigures): CapacityView {
  return {
    measuredAt: f.measuredAt,
    perSeatBytes: f.perSeatBytes,
    samples: f.samples,
    byWorkshop: f.byWorkshop.map((w) => ({ folder: w.folder, perSeatBytes: w.perSeatBytes, samples: w.samples })),
    perWarmSeatBytes: f.perWarmSeatBytes,
    warmSamples: f.warmSamples,
    availableBytes: f.availableBytes,
    reserveBytes: f.reserveBytes,
    seatsMore: f.seatsMore,
  };
}

/** The figures as lines an operator reads (the dashboard's block and `wod capacity`). */
export function capacityLines(f: CapacityFigures): [string, string][] {
  return [
    [
      'memory per working seat',
      f.perSeatBytes === null
        ? 'not measured yet (measured once a minute while someone works)'
        : `${formatBytes(f.perSeatBytes)} (median of ${f.samples} reading${f.samples === 1 ? '' : 's'}, RSS of the server and its children)`,
    ],
    ...f.byWorkshop.map((w): [string, string] => [`  ${w.folder}`, `${formatBytes(w.perSeatBytes)} (${w.samples})`]),
    ['memory per warm seat', f.perWarmSeatBytes === null ? 'not measured yet' : `${formatBytes(f.perWarmSeatBytes)} (median of ${f.warmSamples})`],
    [
      'memory available',
      f.availableBytes === null ? 'unknown (no MemAvailable in /proc/meminfo)' : `${formatBytes(f.availableBytes)} (${formatBytes(f.reserveBytes)} kept in reserve)`,
    ],
    ['seats more', f.seatsMore === null ? 'not known yet' : String(f.seatsMore)],
  ];
}
