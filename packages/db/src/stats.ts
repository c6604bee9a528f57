import type { Sql } from './database.ts';

export const STAT_METRICS = ['requests', 'bytes', 'detections', 'errors', 'latency', 'confidence'] as const;
export type StatMetric = (typeof STAT_METRICS)[number];

/** One counter of one UTC day (`YYYY-MM-DD`); `bucket` is '' for plain counters. */
export interface StatCounter {
  readonly day: string;
  readonly metric: StatMetric;
  readonly dimension: string;
  readonly bucket: string;
  readonly value: number;
}

/** The statistics counters: add increments (summed into each day's row), read a range of days. */
export function statsRepository(db: Sql) {
  return {
    /** Adds every counter to its day's row in one transaction (rows are created as needed). */
    async add(counters: readonly StatCounter[]): Promise<void> {
      if (counters.length === 0) return;
      await db.transaction(async (tx) => {
        for (const c of counters) {
          await tx.query(
            `INSERT INTO stats_daily (day, metric, dimension, bucket, value) VALUES ($1::date, $2, $3, $4, $5)
             ON CONFLICT (day, metric, dimension, bucket) DO UPDATE SET value = stats_daily.value + EXCLUDED.value`,
            [c.day, c.metric, c.dimension, c.bucket, c.value],
          );
        }
      });
    },

    /** Every counter of the days from `from` to `to` (both included, `YYYY-MM-DD`), by day. */
    async range(from: string, to: string): Promise<StatCounter[]> {
      // The day is read as text: drivers turn a `date` into a local-time Date otherwise.
      const rows = await db.query(
        `SELECT to_char(day, 'YYYY-MM-DD') AS day, metric, dimension, bucket, value FROM stats_daily
         WHERE day BETWEEN $1::date AND $2::date ORDER BY day, metric, dimension, bucket`,
        [from, to],
      );
      return rows.map((r) => ({
        day: r.day as string,
        metric: r.metric as StatMetric,
        dimension: r.dimension as string,
        bucket: r.bucket as string,
        value: Number(r.value),
      }));
    },

    /** Deletes the days before `day`; returns how many rows went. */
    async pruneBefore(day: string): Promise<number> {
      const rows = await db.query('DELETE FROM stats_daily WHERE day < $1::date RETURNING 1', [day]);
      return rows.length;
    },
  };
}

export type StatsRepository = ReturnType<typeof statsRepository>;
