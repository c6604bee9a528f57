import { type DetectionResult, LABELS } from '@nestor/core';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Prometheus metrics of one server: requests and latency per route, time per pipeline stage,
 * detections and their confidence per class (to spot drift), errors by code, work in flight, and
 * Node's defaults (event-loop lag, memory, CPU). Counters only: nothing of an image.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'nestor_' });
  const registers = [registry];
  const requests = new Counter({
    name: 'nestor_http_requests_total',
    help: "HTTP requests by route, method and status (a streamed answer that failed: its failure line's status)",
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'nestor_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route', 'method'] as const,
    buckets: SECONDS,
    registers,
  });
  const stages = new Histogram({
    name: 'nestor_stage_duration_seconds',
    help: 'Time per pipeline stage',
    labelNames: ['stage'] as const,
    buckets: SECONDS,
    registers,
  });
  const detections = new Counter({
    name: 'nestor_detections_total',
    help: 'Detections by class',
    labelNames: ['label'] as const,
    registers,
  });
  const confidence = new Histogram({
    name: 'nestor_detection_confidence',
    help: 'Detector confidence by class (drift)',
    labelNames: ['label'] as const,
    buckets: [0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99],
    registers,
  });
  const errors = new Counter({
    name: 'nestor_errors_total',
    help: 'Error replies by code',
    labelNames: ['code'] as const,
    registers,
  });
  const inFlight = new Gauge({
    name: 'nestor_requests_in_flight',
    help: 'Requests being processed',
    registers,
  });
  const queued = new Gauge({
    name: 'nestor_requests_queued',
    help: 'Requests waiting for a processing slot',
    registers,
  });
  const queueAge = new Gauge({
    name: 'nestor_requests_queue_oldest_seconds',
    help: 'How long the oldest request waiting for a processing slot has waited',
    registers,
  });
  const modelsReady = new Gauge({
    name: 'nestor_models_ready',
    help: '1 once the models are loaded, 0 while loading or after a failure',
    registers,
  });
  const modelLoadFailures = new Counter({
    name: 'nestor_model_load_failures_total',
    help: 'Model warm-ups that failed, by error code',
    labelNames: ['code'] as const,
    registers,
  });
  let jobCounts: (() => Promise<Record<string, number>>) | undefined;
  new Gauge({
    name: 'nestor_jobs',
    help: 'Jobs by state (queued, active, completed, failed) in the job queue',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const counts = await jobCounts?.();
      for (const [state, n] of Object.entries(counts ?? {})) this.set({ state }, n);
    },
  });
  const jobDuration = new Histogram({
    name: 'nestor_job_duration_seconds',
    help: 'Time jobs took to run, by kind and outcome',
    labelNames: ['kind', 'state'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200],
    registers,
  });
  for (const label of LABELS) detections.inc({ label }, 0);

  return {
    registry,
    inFlight,
    queued,
    queueAge,
    /** Records the outcome of loading the models. */
    modelsLoaded(outcome: { readonly ok: true } | { readonly ok: false; readonly code: string }): void {
      modelsReady.set(outcome.ok ? 1 : 0);
      if (!outcome.ok) modelLoadFailures.inc({ code: outcome.code });
    },
    /** Records one finished HTTP request. */
    request(route: string, method: string, status: number, seconds: number): void {
      requests.inc({ route, method, status: String(status) });
      latency.observe({ route, method }, seconds);
    },
    /** Records what one image's processing found and how long each stage took. */
    result(result: DetectionResult): void {
      const t = result.timings;
      for (const [stage, ms] of [
        ['decode', t.decodeMs],
        ['detect', t.detectMs],
        ['redact', t.redactMs],
        ['encode', t.encodeMs],
      ] as const) {
        if (ms > 0) stages.observe({ stage }, ms / 1000);
      }
      for (const d of result.detections) {
        if (d.source !== 'model') continue;
        detections.inc({ label: d.label });
        confidence.observe({ label: d.label }, d.score);
      }
    },
    error(code: string): void {
      errors.inc({ code });
    },
    /** Where the job gauges read the queue's counts from at each scrape. */
    watchJobs(counts: () => Promise<Record<string, number>>): void {
      jobCounts = counts;
    },
    /** Records one finished job. */
    jobFinished(kind: string, state: 'completed' | 'failed', seconds: number): void {
      jobDuration.observe({ kind, state }, seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
