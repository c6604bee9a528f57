import type { Label } from './config.ts';

/** The body of `GET /v1/stats`, shared by the server that builds it and the dashboard that draws it. */

export const ROUTE_KINDS = ['detect', 'anonymize', 'job'] as const;
export type RouteKind = (typeof ROUTE_KINDS)[number];

export interface HistogramBucket {
  /** Upper bound (latency, ms; null = +Inf) or lower bound (confidence). */
  readonly bound: number | null;
  readonly count: number;
}

export interface StatsReport {
  readonly from: string;
  readonly to: string;
  /** One entry per day of the range, zeros included. */
  readonly days: readonly {
    readonly day: string;
    readonly requests: Record<RouteKind, number>;
    readonly errors: number;
    readonly detections: Record<Label, number>;
  }[];
  readonly totals: {
    readonly requests: Record<RouteKind, number>;
    readonly bytes: Record<RouteKind, number>;
    readonly detections: Record<Label, number>;
    readonly errors: Readonly<Record<string, number>>;
    /** Error replies over requests, 0 when there were none. */
    readonly errorRate: number;
  };
  readonly latency: Record<
    RouteKind,
    {
      readonly buckets: readonly HistogramBucket[];
      readonly p50: number | null;
      readonly p95: number | null;
      readonly p99: number | null;
    }
  >;
  /** Per class, the count of detections in each 0.05-wide confidence bin. */
  readonly confidence: Record<Label, readonly HistogramBucket[]>;
}
