import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** PromQL words that are not metric names: functions, aggregations, keywords. */
const PROMQL_WORDS = new Set([
  'abs',
  'and',
  'avg',
  'avg_over_time',
  'bool',
  'by',
  'ceil',
  'clamp_max',
  'clamp_min',
  'count',
  'count_over_time',
  'delta',
  'deriv',
  'floor',
  'group_left',
  'group_right',
  'histogram_quantile',
  'ignoring',
  'increase',
  'irate',
  'label_replace',
  'max',
  'max_over_time',
  'min',
  'min_over_time',
  'offset',
  'on',
  'or',
  'quantile',
  'quantile_over_time',
  'rate',
  'round',
  'scalar',
  'sort',
  'sum',
  'sum_over_time',
  'time',
  'topk',
  'unless',
  'vector',
  'without',
]);

/**
 * The metric names a PromQL expression reads. Label matchers, grouping clauses, strings,
 * ranges, numbers and Grafana's `$variables` are removed first; what remains that is not a
 * PromQL word is a metric name.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+\d+[smhdwy]/g, ' ')
    .replace(/\$\w+/g, ' ')
    .replace(/\b\d+(\.\d+)?(e-?\d+)?\b/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const after = stripped.slice(match.index + word.length).trimStart();
    if (PROMQL_WORDS.has(word) || after.startsWith('(')) continue;
    names.add(word);
  }
  return [...names].sort();
}

/** Every series name in a Prometheus text exposition (histograms give _bucket, _sum, _count). */
export function exportedSeries(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (match) names.add(match[0]);
  }
  return names;
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** The alerting rules of a Prometheus rule file; malformed groups or rules throw. */
export function readAlertRules(file: string): AlertRule[] {
  const doc = parse(readFileSync(file, 'utf8')) as { groups?: { name?: string; rules?: unknown[] }[] };
  if (!Array.isArray(doc.groups) || doc.groups.length === 0) throw new Error(`${file}: no groups`);
  return doc.groups.flatMap((group) => {
    if (typeof group.name !== 'string' || !Array.isArray(group.rules)) throw new Error(`${file}: bad group`);
    return group.rules.map((rule) => {
      const r = rule as Partial<AlertRule> & { for?: unknown };
      if (typeof r.alert !== 'string' || typeof r.expr !== 'string')
        throw new Error(`${file}: rule without alert/expr`);
      if (r.for !== undefined && (typeof r.for !== 'string' || !/^\d+[smhd]$/.test(r.for))) {
        throw new Error(`${file}: ${r.alert}: bad "for" ${String(r.for)}`);
      }
      return { alert: r.alert, expr: r.expr, labels: r.labels ?? {}, annotations: r.annotations ?? {} };
    });
  });
}

/** The PromQL of every panel target of a Grafana dashboard JSON. */
export function dashboardExpressions(file: string): { panel: string; expr: string }[] {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as {
    panels?: { title?: string; targets?: { expr?: string }[] }[];
  };
  return (doc.panels ?? []).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title ?? '(untitled)', expr: t.expr ?? '' })),
  );
}

/** Balanced parentheses, brackets and braces outside strings: a cheap syntax sanity check. */
export function balanced(expr: string): boolean {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  for (const c of expr.replace(/"(?:[^"\\]|\\.)*"/g, '')) {
    if ('([{'.includes(c)) stack.push(c);
    else if (c in pairs && stack.pop() !== pairs[c]) return false;
  }
  return stack.length === 0;
}
