import { type DetectionResult, parseConfig, type StatsReport } from '@nestor/core';
import type { StatCounter } from '@nestor/db';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { fakePipeline } from './fake-pipeline.ts';
import {
  buildReport,
  confidenceBin,
  countersOf,
  createStatsRecorder,
  eachDay,
  latencyBucket,
  memoryStatsStore,
  mergeCounters,
  parseRange,
  percentile,
  routeKind,
  type StatsStore,
} from './stats.ts';

const at = new Date('2026-03-01T23:59:59Z');
const result = (scores: number[], manual = 0): DetectionResult =>
  ({
    detections: [
      ...scores.map((score) => ({ label: 'face', score, source: 'model' })),
      ...Array.from({ length: manual }, () => ({ label: 'plate', score: 1, source: 'manual' })),
    ],
  }) as unknown as DetectionResult;

describe('counters', () => {
  it.each([
    ['POST', '/v1/detect', 'detect'],
    ['POST', '/detect', 'detect'],
    ['POST', '/v1/anonymize', 'anonymize'],
    ['POST', '/predict', 'anonymize'],
    ['POST', '/v1/jobs', 'job'],
    ['GET', '/v1/detect', undefined],
    ['GET', '/healthz', undefined],
    ['POST', undefined, undefined],
  ])('%s %s counts as %s', (method, url, kind) => {
    expect(routeKind(method, url)).toBe(kind);
  });

  it.each([
    [0, '50'],
    [50, '50'],
    [50.1, '100'],
    [2_400, '2500'],
    [60_000, '60000'],
    [60_001, '+Inf'],
  ])('latency %d ms falls in bucket %s', (ms, bucket) => {
    expect(latencyBucket(ms)).toBe(bucket);
  });

  it.each([
    [0, '0.00'],
    [0.65, '0.65'],
    [0.6499, '0.60'],
    [0.7, '0.70'],
    [0.999, '0.95'],
    [1, '0.95'],
  ])('confidence %d falls in bin %s', (score, bin) => {
    expect(confidenceBin(score)).toBe(bin);
  });

  it('one request: its volume, latency, error, and each model detection with its confidence', () => {
    expect(
      countersOf({
        at,
        kind: 'detect',
        ms: 120,
        bytes: 2048,
        errorCode: 'E_DECODE',
        result: result([0.91, 0.66], 2),
      }),
    ).toEqual([
      { day: '2026-03-01', metric: 'requests', dimension: 'detect', bucket: '', value: 1 },
      { day: '2026-03-01', metric: 'latency', dimension: 'detect', bucket: '250', value: 1 },
      { day: '2026-03-01', metric: 'bytes', dimension: 'detect', bucket: '', value: 2048 },
      { day: '2026-03-01', metric: 'errors', dimension: 'E_DECODE', bucket: '', value: 1 },
      { day: '2026-03-01', metric: 'detections', dimension: 'face', bucket: '', value: 1 },
      { day: '2026-03-01', metric: 'confidence', dimension: 'face', bucket: '0.90', value: 1 },
      { day: '2026-03-01', metric: 'detections', dimension: 'face', bucket: '', value: 1 },
      { day: '2026-03-01', metric: 'confidence', dimension: 'face', bucket: '0.65', value: 1 },
    ]);
  });

  it('merges counters of one key', () => {
    const c = (value: number): StatCounter => ({
      day: 'd',
      metric: 'requests',
      dimension: 'x',
      bucket: '',
      value,
    });
    expect(mergeCounters([c(1), c(2), { ...c(5), bucket: 'b' }])).toEqual([c(3), { ...c(5), bucket: 'b' }]);
  });
});

describe('percentiles from buckets', () => {
  const b = (bound: number | null, count: number) => ({ bound, count });
  it.each([
    [[b(100, 0), b(200, 0), b(null, 0)], 0.5, null],
    [[b(100, 10), b(200, 0), b(null, 0)], 0.5, 50],
    [[b(100, 10), b(200, 10), b(null, 0)], 0.75, 150],
    [[b(100, 0), b(200, 4), b(null, 0)], 1, 200],
    [[b(100, 1), b(200, 0), b(null, 9)], 0.95, 200],
  ])('%j q=%d → %s', (buckets, q, want) => {
    expect(percentile(buckets, q)).toBe(want);
  });
});

describe('report', () => {
  const stored: StatCounter[] = [
    ...countersOf({
      at: new Date('2026-03-01T10:00:00Z'),
      kind: 'detect',
      ms: 40,
      bytes: 100,
      result: result([0.9]),
    }),
    ...countersOf({
      at: new Date('2026-03-01T11:00:00Z'),
      kind: 'detect',
      ms: 400,
      bytes: 100,
      errorCode: 'E_BUSY',
    }),
    ...countersOf({ at: new Date('2026-03-03T11:00:00Z'), kind: 'anonymize', ms: 3000, bytes: 50 }),
    ...countersOf({ at: new Date('2026-04-01T11:00:00Z'), kind: 'anonymize', ms: 3000, bytes: 50 }),
  ];
  const report = buildReport(mergeCounters(stored), '2026-03-01', '2026-03-03');

  it('has every day of the range, zeros included, and nothing outside it', () => {
    expect(report.days.map((d) => [d.day, d.requests.detect, d.requests.anonymize, d.errors])).toEqual([
      ['2026-03-01', 2, 0, 1],
      ['2026-03-02', 0, 0, 0],
      ['2026-03-03', 0, 1, 0],
    ]);
    expect(report.days[0]!.detections).toEqual({ face: 1, plate: 0 });
  });

  it('totals, error rate, latency percentiles and the confidence histogram', () => {
    expect(report.totals).toEqual({
      requests: { detect: 2, anonymize: 1, job: 0 },
      bytes: { detect: 200, anonymize: 50, job: 0 },
      detections: { face: 1, plate: 0 },
      errors: { E_BUSY: 1 },
      errorRate: 1 / 3,
    });
    expect(report.latency.detect.p50).toBe(50);
    expect(report.latency.detect.p99).toBeCloseTo(495);
    expect(report.latency.job.p50).toBeNull();
    expect(report.latency.anonymize.buckets.at(-1)).toEqual({ bound: null, count: 0 });
    expect(report.confidence.face).toHaveLength(20);
    expect(report.confidence.face.filter((b) => b.count > 0)).toEqual([{ bound: 0.9, count: 1 }]);
  });

  it('eachDay crosses months and leap days', () => {
    expect(eachDay('2028-02-28', '2028-03-01')).toEqual(['2028-02-28', '2028-02-29', '2028-03-01']);
  });
});

describe('range of GET /v1/stats', () => {
  it.each([
    [{}, { from: '2026-02-28', to: '2026-03-29' }],
    [
      { from: '2026-03-01', to: '2026-03-01' },
      { from: '2026-03-01', to: '2026-03-01' },
    ],
    [{ to: '2026-01-10' }, { from: '2025-12-12', to: '2026-01-10' }],
  ])('%j → %j', (query, want) => {
    expect(parseRange(query, '2026-03-29')).toEqual(want);
  });

  it.each([
    [{ from: '2026-02-30' }, /for from but received "2026-02-30"/],
    [{ to: 'yesterday' }, /for to but received "yesterday"/],
    [{ to: '2026-13-01' }, /for to but received "2026-13-01"/],
    [{ to: ['2026-01-01'] }, /for to but received \["2026-01-01"\] of type object/],
    [{ from: '2026-03-02', to: '2026-03-01' }, /from <= to/],
    [{ from: '2020-01-01', to: '2026-01-01' }, /within 366 days/],
  ])('refuses %j', (query, message) => {
    expect(() => parseRange(query, '2026-03-29')).toThrow(message);
  });
});

describe('recorder', () => {
  it('aggregates in memory and writes one batch per flush; a failed flush keeps its counters', async () => {
    const writes: StatCounter[][] = [];
    let fail = true;
    const store: StatsStore = {
      async add(counters) {
        if (fail) throw new Error('database down');
        writes.push([...counters]);
      },
      range: async () => [],
    };
    const recorder = createStatsRecorder({ store, flushEveryMs: 3_600_000, onFlushError: () => {} });
    for (let i = 0; i < 3; i++) recorder.record({ at, kind: 'detect', ms: 10, bytes: 1 });
    expect(writes).toEqual([]);
    await expect(recorder.flush()).rejects.toThrow('database down');
    fail = false;
    recorder.record({ at, kind: 'detect', ms: 10, bytes: 1 });
    await recorder.close();
    expect(writes).toHaveLength(1);
    expect(writes[0]!.find((c) => c.metric === 'requests')!.value).toBe(4);
    await recorder.flush();
    expect(writes).toHaveLength(1);
  });
});

describe('GET /v1/stats', () => {
  const apps: FastifyInstance[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
  });
  const png = Buffer.from('89504e470d0a1a0a', 'hex');

  async function app(dashboard = true, store = memoryStatsStore()) {
    const a = buildApp({
      nestor: fakePipeline(),
      config: parseConfig({ features: { dashboard } }),
      stats: store,
    });
    apps.push(a);
    await a.ready();
    return a;
  }

  it('counts the processing requests an app answers, and reports them', async () => {
    const store = memoryStatsStore();
    const a = await app(true, store);
    const post = (url: string, payload: Buffer) =>
      a.inject({ method: 'POST', url, payload, headers: { 'content-type': 'image/png' } });
    expect((await post('/v1/detect', png)).statusCode).toBe(200);
    expect((await post('/predict', png)).statusCode).toBe(200);
    expect((await post('/v1/anonymize', Buffer.alloc(0))).statusCode).toBe(400);
    await a.inject({ method: 'GET', url: '/healthz' });

    const res = await a.inject({ method: 'GET', url: '/v1/stats' });
    expect(res.statusCode).toBe(200);
    const report = res.json<StatsReport>();
    expect(report.totals.requests).toEqual({ detect: 1, anonymize: 2, job: 0 });
    expect(report.totals.detections).toEqual({ face: 2, plate: 2 });
    expect(report.totals.errors).toEqual({ E_EMPTY_INPUT: 1 });
    expect(report.totals.bytes.detect).toBe(png.length);
    expect(report.confidence.face.find((b) => b.bound === 0.9)?.count).toBe(2);
    expect(report.latency.detect.p50).not.toBeNull();
    expect(report.days.at(-1)!.day).toBe(new Date().toISOString().slice(0, 10));
    // Flushed to the store, not only held in memory.
    expect((await store.range(report.from, report.to)).length).toBeGreaterThan(0);
  });

  it('refuses a bad range with E_INVALID_OPTION', async () => {
    const res = await (await app()).inject({ method: 'GET', url: '/v1/stats?from=2026-13-01' });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('E_INVALID_OPTION');
  });

  it('answers 404 when the dashboard is switched off, and still counts requests', async () => {
    const store = memoryStatsStore();
    const a = await app(false, store);
    expect((await a.inject({ method: 'GET', url: '/v1/stats' })).statusCode).toBe(404);
    await a.inject({
      method: 'POST',
      url: '/v1/detect',
      payload: png,
      headers: { 'content-type': 'image/png' },
    });
    await a.close();
    expect((await store.range('2000-01-01', '2100-01-01')).some((c) => c.metric === 'requests')).toBe(true);
  });
});
