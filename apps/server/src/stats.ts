import {
  type Config,
  type DetectionResult,
  type HistogramBucket,
  LABELS,
  type Label,
  NestorError,
  ROUTE_KINDS,
  type RouteKind,
  type StatsReport,
} from '@nestor/core';
import type { StatCounter } from '@nestor/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { toHttpError } from './errors.ts';
import { onSettled } from './settled.ts';

/**
 * Statistics for the admins' dashboard: per UTC day, requests and bytes per route kind,
 * detections per class, latency and confidence histograms, errors per code. Counters only —
 * nothing of an image, nothing of who sent it. Requests are aggregated in memory and flushed to
 * the store periodically, so the hot path never waits on the database.
 */

/** Requests counted, by method and route (the PoC aliases count as what they alias). */
const COUNTED: Readonly<Record<string, RouteKind>> = {
  'POST /v1/detect': 'detect',
  'POST /detect': 'detect',
  'POST /v1/anonymize': 'anonymize',
  'POST /predict': 'anonymize',
  'POST /v1/jobs': 'job',
};

export function routeKind(method: string, url: string | undefined): RouteKind | undefined {
  return url === undefined ? undefined : COUNTED[`${method} ${url}`];
}

/** Upper bounds (ms) of the latency buckets; a last bucket '+Inf' takes the rest. */
export const LATENCY_BOUNDS_MS = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000] as const;
/** Confidence bins are this wide; a bin is named by its lower bound ('0.65'). */
export const CONFIDENCE_STEP = 0.05;
const CONFIDENCE_BINS = Math.round(1 / CONFIDENCE_STEP);

export interface RequestEvent {
  readonly at: Date;
  readonly kind: RouteKind;
  readonly ms: number;
  /** Size of the request body. */
  readonly bytes: number;
  readonly errorCode?: string;
  readonly result?: DetectionResult;
}

const dayOf = (at: Date) => at.toISOString().slice(0, 10);

export function latencyBucket(ms: number): string {
  const bound = LATENCY_BOUNDS_MS.find((b) => ms <= b);
  return bound === undefined ? '+Inf' : String(bound);
}

export function confidenceBin(score: number): string {
  const bin = Math.min(CONFIDENCE_BINS - 1, Math.max(0, Math.floor(score / CONFIDENCE_STEP + 1e-9)));
  return (bin * CONFIDENCE_STEP).toFixed(2);
}

/** The counters one request adds. */
export function countersOf(event: RequestEvent): StatCounter[] {
  const day = dayOf(event.at);
  const out: StatCounter[] = [
    { day, metric: 'requests', dimension: event.kind, bucket: '', value: 1 },
    { day, metric: 'latency', dimension: event.kind, bucket: latencyBucket(event.ms), value: 1 },
  ];
  if (event.bytes > 0)
    out.push({ day, metric: 'bytes', dimension: event.kind, bucket: '', value: event.bytes });
  if (event.errorCode) out.push({ day, metric: 'errors', dimension: event.errorCode, bucket: '', value: 1 });
  for (const d of event.result?.detections ?? []) {
    // Regions a person drew are not the detector's: they count for neither volume nor drift.
    if (d.source !== 'model') continue;
    out.push({ day, metric: 'detections', dimension: d.label, bucket: '', value: 1 });
    out.push({ day, metric: 'confidence', dimension: d.label, bucket: confidenceBin(d.score), value: 1 });
  }
  return out;
}

/** Where counters are kept: the database's `statsRepository`, or memory (tests, no database). */
export interface StatsStore {
  add(counters: readonly StatCounter[]): Promise<void>;
  range(from: string, to: string): Promise<StatCounter[]>;
}

const keyOf = (c: Omit<StatCounter, 'value'>) =>
  `${c.day}\u0000${c.metric}\u0000${c.dimension}\u0000${c.bucket}`;

/** Sums counters that share day, metric, dimension and bucket. */
export function mergeCounters(counters: Iterable<StatCounter>): StatCounter[] {
  const sums = new Map<string, StatCounter>();
  for (const c of counters) {
    const key = keyOf(c);
    const seen = sums.get(key);
    sums.set(key, seen ? { ...seen, value: seen.value + c.value } : c);
  }
  return [...sums.values()];
}

export function memoryStatsStore(): StatsStore {
  let rows: StatCounter[] = [];
  return {
    async add(counters) {
      rows = mergeCounters([...rows, ...counters]);
    },
    async range(from, to) {
      return rows
        .filter((r) => r.day >= from && r.day <= to)
        .sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    },
  };
}

export interface StatsRecorder {
  record(event: RequestEvent): void;
  /** Writes what is pending; on failure it stays pending for the next flush. */
  flush(): Promise<void>;
  /** Stops the timer and flushes. */
  close(): Promise<void>;
}

export function createStatsRecorder(options: {
  readonly store: StatsStore;
  readonly flushEveryMs: number;
  readonly onFlushError: (error: unknown) => void;
}): StatsRecorder {
  let pending: StatCounter[] = [];
  let flushing: Promise<void> = Promise.resolve();
  const flushNow = async () => {
    const batch = mergeCounters(pending);
    pending = [];
    if (batch.length === 0) return;
    try {
      await options.store.add(batch);
    } catch (error) {
      pending = [...batch, ...pending];
      throw error;
    }
  };
  const flush = () => {
    // One flush at a time: a second waits for the first, then writes what came since.
    flushing = flushing.then(flushNow, flushNow);
    return flushing;
  };
  const timer = setInterval(() => flush().catch(options.onFlushError), options.flushEveryMs);
  timer.unref();
  return {
    record(event) {
      pending.push(...countersOf(event));
      // Bounded memory between flushes, whatever the traffic.
      if (pending.length > 10_000) pending = mergeCounters(pending);
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

// --- the report ------------------------------------------------------------------------------

/** A record with one entry per key. */
function recordOf<K extends string, V>(keys: readonly K[], value: (key: K) => V): Record<K, V> {
  const out = {} as Record<K, V>;
  for (const key of keys) out[key] = value(key);
  return out;
}
const byKind = () => recordOf(ROUTE_KINDS, () => 0);
const byLabel = () => recordOf(LABELS, () => 0);
const isKind = (v: string): v is RouteKind => (ROUTE_KINDS as readonly string[]).includes(v);
const isLabel = (v: string): v is Label => (LABELS as readonly string[]).includes(v);

/**
 * The q-quantile of a cumulative-by-bucket latency histogram, interpolated linearly inside its
 * bucket (as Prometheus' histogram_quantile); within the +Inf bucket the highest finite bound.
 */
export function percentile(buckets: readonly HistogramBucket[], q: number): number | null {
  const total = buckets.reduce((n, b) => n + b.count, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  let lower = 0;
  for (const b of buckets) {
    if (below + b.count >= rank && b.count > 0) {
      if (b.bound === null) return lower;
      return lower + ((b.bound - lower) * (rank - below)) / b.count;
    }
    below += b.count;
    if (b.bound !== null) lower = b.bound;
  }
  return lower;
}

export function eachDay(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** Shapes stored counters of a range into what the dashboard draws. */
export function buildReport(counters: readonly StatCounter[], from: string, to: string): StatsReport {
  const days = new Map(
    eachDay(from, to).map((day) => [day, { day, requests: byKind(), errors: 0, detections: byLabel() }]),
  );
  const requests = byKind();
  const bytes = byKind();
  const detections = byLabel();
  const errors: Record<string, number> = {};
  const latencyCounts = recordOf(ROUTE_KINDS, () => new Map<string, number>());
  const confidenceCounts = recordOf(LABELS, () => new Map<string, number>());
  const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);

  for (const c of counters) {
    const day = days.get(c.day);
    if (!day) continue;
    if (c.metric === 'requests' && isKind(c.dimension)) {
      day.requests[c.dimension] += c.value;
      requests[c.dimension] += c.value;
    } else if (c.metric === 'bytes' && isKind(c.dimension)) {
      bytes[c.dimension] += c.value;
    } else if (c.metric === 'detections' && isLabel(c.dimension)) {
      day.detections[c.dimension] += c.value;
      detections[c.dimension] += c.value;
    } else if (c.metric === 'errors') {
      day.errors += c.value;
      errors[c.dimension] = (errors[c.dimension] ?? 0) + c.value;
    } else if (c.metric === 'latency' && isKind(c.dimension)) {
      add(latencyCounts[c.dimension], c.bucket, c.value);
    } else if (c.metric === 'confidence' && isLabel(c.dimension)) {
      add(confidenceCounts[c.dimension], c.bucket, c.value);
    }
  }

  const latency = recordOf(ROUTE_KINDS, (kind) => {
    const buckets: HistogramBucket[] = [
      ...LATENCY_BOUNDS_MS.map((bound) => ({ bound, count: latencyCounts[kind].get(String(bound)) ?? 0 })),
      { bound: null, count: latencyCounts[kind].get('+Inf') ?? 0 },
    ];
    return {
      buckets,
      p50: percentile(buckets, 0.5),
      p95: percentile(buckets, 0.95),
      p99: percentile(buckets, 0.99),
    };
  });
  const confidence = recordOf(LABELS, (label) =>
    Array.from({ length: CONFIDENCE_BINS }, (_, i) => {
      const bound = Number((i * CONFIDENCE_STEP).toFixed(2));
      return { bound, count: confidenceCounts[label].get(bound.toFixed(2)) ?? 0 };
    }),
  );
  const totalRequests = ROUTE_KINDS.reduce((n, k) => n + requests[k], 0);
  const totalErrors = Object.values(errors).reduce((n, v) => n + v, 0);
  return {
    from,
    to,
    days: [...days.values()],
    totals: {
      requests,
      bytes,
      detections,
      errors,
      errorRate: totalRequests === 0 ? 0 : totalErrors / totalRequests,
    },
    latency,
    confidence,
  };
}

// --- the HTTP side ---------------------------------------------------------------------------

/** The longest range one report covers. */
export const MAX_RANGE_DAYS = 366;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `from` and `to` of GET /v1/stats: `YYYY-MM-DD`, defaults the last 30 days to `today`. */
export function parseRange(
  query: { from?: unknown; to?: unknown },
  today: string,
): { from: string; to: string } {
  const read = (name: string, value: unknown, fallback: string) => {
    if (value === undefined || value === '') return fallback;
    // A real calendar day: 2026-02-30 parses, but as another day.
    const time = typeof value === 'string' && DAY.test(value) ? Date.parse(`${value}T00:00:00Z`) : Number.NaN;
    const ok = !Number.isNaN(time) && new Date(time).toISOString().startsWith(String(value));
    if (!ok || typeof value !== 'string') {
      throw new NestorError(
        'E_INVALID_OPTION',
        `Expected a date YYYY-MM-DD for ${name} but received ${JSON.stringify(value)} of type ${typeof value}`,
      );
    }
    return value;
  };
  const to = read('to', query.to, today);
  const from = read('from', query.from, eachDayBack(to, 29));
  const span = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
  if (span < 1 || span > MAX_RANGE_DAYS) {
    throw new NestorError(
      'E_INVALID_OPTION',
      `Expected from <= to within ${MAX_RANGE_DAYS} days for from..to but received ${from}..${to} of type string`,
    );
  }
  return { from, to };
}

function eachDayBack(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
}

const results = new WeakMap<FastifyRequest, DetectionResult>();

/** A processing handler hands its result over, so its detections are counted (not its pixels). */
export function recordResult(request: FastifyRequest, result: DetectionResult): void {
  results.set(request, result);
}

const bucketSchema = {
  type: 'object',
  required: ['bound', 'count'],
  properties: { bound: { type: ['number', 'null'] }, count: { type: 'integer' } },
} as const;
const countsOf = (keys: readonly string[]) =>
  ({
    type: 'object',
    required: [...keys],
    properties: Object.fromEntries(keys.map((k) => [k, { type: 'integer' }])),
  }) as const;

/**
 * Counts every request to a processing route after it is answered or its client left (from
 * `onSettled`, so never in its way) and serves `GET /v1/stats?from=YYYY-MM-DD&to=YYYY-MM-DD` to admins, when the
 * dashboard feature is on. The store is flushed on close.
 */
export function statsPlugin(
  app: FastifyInstance,
  options: {
    readonly store: StatsStore;
    readonly config: Config;
    readonly flushEveryMs?: number;
    readonly now?: () => Date;
  },
): StatsRecorder {
  const now = options.now ?? (() => new Date());
  const recorder = createStatsRecorder({
    store: options.store,
    flushEveryMs: options.flushEveryMs ?? 60_000,
    onFlushError: (error) => app.log.error({ err: error }, 'statistics flush failed (kept for the next one)'),
  });
  const codes = new WeakMap<FastifyRequest, string>();
  app.addHook('onError', async (request, _reply, error) => {
    codes.set(request, toHttpError(error, options.config.limits.maxBytes).error.code);
  });
  onSettled(app, (request, reply) => {
    const kind = routeKind(request.method, request.routeOptions.url);
    if (!kind) return;
    const length = Number(request.headers['content-length'] ?? 0);
    const errorCode =
      codes.get(request) ?? (reply.statusCode >= 400 ? `HTTP_${reply.statusCode}` : undefined);
    const result = results.get(request);
    recorder.record({
      at: now(),
      kind,
      ms: reply.elapsedTime,
      bytes: Number.isFinite(length) ? length : 0,
      ...(errorCode ? { errorCode } : {}),
      ...(result ? { result } : {}),
    });
  });
  app.addHook('onClose', async () => {
    await recorder.close();
  });

  const kinds = countsOf(ROUTE_KINDS);
  const labels = countsOf(LABELS);
  const histogram = { type: 'array', items: bucketSchema } as const;
  // Registered as a plugin, like the other routes, so that the OpenAPI document lists it.
  app.register(async (routes) => {
    routes.get(
      '/v1/stats',
      {
        config: { role: 'admin', feature: 'dashboard' },
        schema: {
          summary:
            'Statistics per day (admins): volumes, detections, errors, latency and confidence histograms',
          tags: ['stats'],
          querystring: {
            type: 'object',
            properties: { from: { type: 'string', format: 'date' }, to: { type: 'string', format: 'date' } },
          },
          response: {
            200: {
              type: 'object',
              required: ['from', 'to', 'days', 'totals', 'latency', 'confidence'],
              properties: {
                from: { type: 'string' },
                to: { type: 'string' },
                days: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['day', 'requests', 'errors', 'detections'],
                    properties: {
                      day: { type: 'string' },
                      requests: kinds,
                      errors: { type: 'integer' },
                      detections: labels,
                    },
                  },
                },
                totals: {
                  type: 'object',
                  required: ['requests', 'bytes', 'detections', 'errors', 'errorRate'],
                  properties: {
                    requests: kinds,
                    bytes: kinds,
                    detections: labels,
                    errors: { type: 'object', additionalProperties: { type: 'integer' } },
                    errorRate: { type: 'number' },
                  },
                },
                latency: {
                  type: 'object',
                  required: [...ROUTE_KINDS],
                  properties: Object.fromEntries(
                    ROUTE_KINDS.map((k) => [
                      k,
                      {
                        type: 'object',
                        required: ['buckets', 'p50', 'p95', 'p99'],
                        properties: {
                          buckets: histogram,
                          p50: { type: ['number', 'null'] },
                          p95: { type: ['number', 'null'] },
                          p99: { type: ['number', 'null'] },
                        },
                      },
                    ]),
                  ),
                },
                confidence: {
                  type: 'object',
                  required: [...LABELS],
                  properties: Object.fromEntries(LABELS.map((l) => [l, histogram])),
                },
              },
            },
          },
        },
        // Dates are validated by parseRange (one message format), the schema only documents them.
        validatorCompiler: () => () => true,
      },
      async (request) => {
        const { from, to } = parseRange(
          request.query as { from?: unknown; to?: unknown },
          now().toISOString().slice(0, 10),
        );
        // This replica's pending counters first, so a report is never a minute behind here.
        await recorder.flush();
        return buildReport(await options.store.range(from, to), from, to);
      },
    );
  });
  return recorder;
}
