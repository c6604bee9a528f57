import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '@nestor/core';
import { buildApp } from '@nestor/server';
import { fakePipeline } from '@nestor/server/fake-pipeline';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { render } from './kustomize.ts';
import { balanced, dashboardExpressions, exportedSeries, metricNames, readAlertRules } from './monitoring.ts';

const DEPLOY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ALERTS = path.join(DEPLOY, 'monitoring/alerts.yaml');
const DASHBOARD = path.join(DEPLOY, 'monitoring/grafana/dashboards/nestor.json');
const ADAPTER = path.join(DEPLOY, 'monitoring/prometheus-adapter.yaml');
/** Series Prometheus makes itself, not the server. */
const FROM_PROMETHEUS = new Set(['up']);

let app: FastifyInstance;
let series: Set<string>;

beforeAll(async () => {
  app = buildApp({ nestor: fakePipeline({ fail: new Error('no model') }), config: parseConfig({}) });
  await app.ready();
  // One request of each kind so that every labelled series has a sample.
  await app.inject({
    method: 'POST',
    url: '/v1/detect',
    payload: Buffer.from('89504e47', 'hex'),
    headers: { 'content-type': 'image/png' },
  });
  await app.inject({ method: 'GET', url: '/nope' });
  await new Promise((resolve) => setTimeout(resolve, 50));
  series = exportedSeries((await app.inject({ method: 'GET', url: '/metrics' })).body);
});
afterAll(async () => {
  await app?.close();
});

describe('metric names in PromQL', () => {
  it.each([
    ['sum(rate(a_total{x="y"}[5m])) / clamp_min(sum(rate(a_total[5m])), 1e-9) > 0.05', ['a_total']],
    ['histogram_quantile(0.95, sum by (le, route) (rate(h_bucket{route=~"/v1/(a|b)"}[5m])))', ['h_bucket']],
    ['abs(x_sum / x_count - x_sum offset 7d) and on (label) y > 200', ['x_count', 'x_sum', 'y']],
    ['rate(r[$__rate_interval]) * $scale', ['r']],
  ])('%s', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });
});

describe('alert rules', () => {
  const rules = readAlertRules(ALERTS);

  it('cover error rate, p95 latency, queue age, model-load failures and confidence drift', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'NestorHighErrorRate',
        'NestorHighLatencyP95',
        'NestorRequestQueueAge',
        'NestorModelLoadFailed',
        'NestorConfidenceDrift',
      ]),
    );
  });

  it.each(readAlertRules(ALERTS).map((r) => [r.alert, r] as const))(
    '%s reads only metrics the server exports',
    (_name, rule) => {
      expect(balanced(rule.expr)).toBe(true);
      const names = metricNames(rule.expr);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) expect(FROM_PROMETHEUS.has(name) || series.has(name), name).toBe(true);
      expect(['warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).toBeTruthy();
      expect(rule.annotations.runbook).toMatch(/^docs\/operations\.md#/);
    },
  );

  it('a model that fails to load shows in the metrics the alerts read', async () => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/nestor_models_ready 0/);
    expect(text).toMatch(/nestor_model_load_failures_total\{code="E_INTERNAL"\} 1/);
  });
});

describe('Grafana dashboard', () => {
  const targets = dashboardExpressions(DASHBOARD);

  it('has panels for volumes, errors, latency percentiles, detections and the confidence distribution', () => {
    const titles = new Set(targets.map((t) => t.panel));
    expect(titles.size).toBeGreaterThanOrEqual(8);
    expect([...titles].join('\n')).toMatch(/Latency percentiles[\s\S]*Confidence distribution/);
  });

  it.each(targets.map((t) => [t.panel, t.expr] as const))('%s: %s reads exported metrics', (_panel, expr) => {
    expect(balanced(expr)).toBe(true);
    for (const name of metricNames(expr)) expect(series.has(name), name).toBe(true);
  });
});

describe('autoscaling metrics', () => {
  it('the external metric the worker HPA scales on is exported', () => {
    const hpa = render(path.join(DEPLOY, 'k8s/base')).find(
      (o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'nestor-worker',
    );
    const metrics = (
      (hpa?.spec as { metrics?: { type: string; external?: { metric: { name: string } } }[] } | undefined)
        ?.metrics ?? []
    )
      .filter((m) => m.type === 'External')
      .map((m) => m.external!.metric.name);
    expect(metrics).toEqual(['nestor_jobs']);
    for (const name of metrics) expect(series.has(name), name).toBe(true);
  });

  it('the per-pod metric the server HPA scales on is exported', () => {
    const hpa = render(path.join(DEPLOY, 'k8s/base')).find(
      (o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'nestor-server',
    );
    const metrics = (
      (hpa?.spec as { metrics?: { type: string; pods?: { metric: { name: string } } }[] } | undefined)
        ?.metrics ?? []
    )
      .filter((m) => m.type === 'Pods')
      .map((m) => m.pods!.metric.name);
    expect(metrics).toEqual(['nestor_requests_queued']);
    for (const name of metrics) expect(series.has(name), name).toBe(true);
  });

  it('the Prometheus adapter serves each HPA metric from an exported series', () => {
    const adapter = parse(readFileSync(ADAPTER, 'utf8')) as {
      rules: Record<'custom' | 'external', { seriesQuery: string; name: { as: string } }[]>;
    };
    const served = (kind: 'custom' | 'external') =>
      adapter.rules[kind].map((rule) => {
        const [source] = metricNames(rule.seriesQuery);
        expect(series.has(source!), source).toBe(true);
        return rule.name.as;
      });
    expect(served('custom')).toEqual(['nestor_requests_queued']);
    expect(served('external')).toEqual(['nestor_jobs']);
  });
});
