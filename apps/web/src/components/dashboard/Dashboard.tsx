'use client';

import { ROUTE_KINDS as KINDS, LABELS, type StatsReport } from '@nestor/core';
import { useCallback, useEffect, useId, useState } from 'react';
import { accountCall } from '../../lib/account-api.ts';
import { errorCode, redirectIfUnauthenticated } from '../../lib/api.ts';
import { errorMessage } from '../../lib/errors.ts';
import { useLocale, useT } from '../../lib/i18n.tsx';
import { Alert, buttonClass, inputClass, secondaryButtonClass } from '../account/session.tsx';
import { BarChart, LineChart } from './charts.tsx';

const DAY_MS = 86_400_000;
const isoDay = (time: number) => new Date(time).toISOString().slice(0, 10);

/** The last `days` days up to today (UTC). */
export function lastDays(days: number, now = Date.now()): { from: string; to: string } {
  return { from: isoDay(now - (days - 1) * DAY_MS), to: isoDay(now) };
}

/** Admins: volumes, detections, latency percentiles, error rates and confidence, from GET /v1/stats. */
export function Dashboard() {
  const t = useT('dashboard');
  const locale = useLocale();
  const id = useId();
  const [range, setRange] = useState(() => lastDays(30));
  const [report, setReport] = useState<StatsReport>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);

  const load = useCallback(
    (wanted: { from: string; to: string }) => {
      setLoading(true);
      setError(undefined);
      const query = new URLSearchParams(wanted);
      accountCall<StatsReport>('GET', `/v1/stats?${query}`).then(
        (answer) => {
          setReport(answer);
          setLoading(false);
        },
        (caught: unknown) => {
          setLoading(false);
          if (redirectIfUnauthenticated(caught, locale)) return;
          setError(errorCode(caught) === 'E_FORBIDDEN' ? t('adminOnly') : errorMessage(caught, locale));
        },
      );
    },
    [locale, t],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: the first range loads once; later ones on submit
  useEffect(() => load(range), []);

  const number = (v: number) => new Intl.NumberFormat(locale).format(v);
  const percent = (v: number) =>
    new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(v);
  const bytes = (v: number) =>
    new Intl.NumberFormat(locale, { style: 'unit', unit: 'megabyte', maximumFractionDigits: 1 }).format(
      v / 1e6,
    );
  const pick = (days: number) => {
    const next = lastDays(days);
    setRange(next);
    load(next);
  };

  const days = report?.days ?? [];
  const dayNames = days.map((d) => d.day);
  const shortDays = dayNames.map((d) => d.slice(5));
  const totalRequests = report ? KINDS.reduce((n, k) => n + report.totals.requests[k], 0) : 0;

  return (
    <div className="mt-4 space-y-6">
      <p>{t('intro')}</p>
      <form
        className="flex flex-wrap items-end gap-4 rounded-lg border border-slate-300 bg-white p-4"
        onSubmit={(event) => {
          event.preventDefault();
          load(range);
        }}
      >
        <div>
          <label htmlFor={`${id}-from`} className="block font-medium">
            {t('from')}
          </label>
          <input
            id={`${id}-from`}
            type="date"
            required
            value={range.from}
            max={range.to}
            onChange={(e) => setRange({ ...range, from: e.target.value })}
            className={inputClass}
          />
        </div>
        <div>
          <label htmlFor={`${id}-to`} className="block font-medium">
            {t('to')}
          </label>
          <input
            id={`${id}-to`}
            type="date"
            required
            value={range.to}
            min={range.from}
            onChange={(e) => setRange({ ...range, to: e.target.value })}
            className={inputClass}
          />
        </div>
        <button type="submit" className={buttonClass}>
          {t('show')}
        </button>
        {([7, 30, 90] as const).map((n) => (
          <button key={n} type="button" className={secondaryButtonClass} onClick={() => pick(n)}>
            {t(n === 7 ? 'last7' : n === 30 ? 'last30' : 'last90')}
          </button>
        ))}
      </form>

      <Alert message={error} />
      <p aria-live="polite" className="text-sm text-slate-700">
        {loading ? t('loading') : ''}
      </p>

      {report && (
        <>
          <dl className="grid grid-cols-2 gap-4 md:grid-cols-4">
            {[
              [t('requests'), number(totalRequests)],
              [t('detections'), number(LABELS.reduce((n, l) => n + report.totals.detections[l], 0))],
              [t('errorRate'), percent(report.totals.errorRate)],
              [t('volume'), bytes(KINDS.reduce((n, k) => n + report.totals.bytes[k], 0))],
            ].map(([term, value]) => (
              <div key={term} className="rounded-lg border border-slate-300 bg-white p-4">
                <dt className="text-sm text-slate-700">{term}</dt>
                <dd className="text-2xl font-bold tabular-nums">{value}</dd>
              </div>
            ))}
          </dl>
          {totalRequests === 0 && <p>{t('noData')}</p>}

          <div className="grid gap-6 lg:grid-cols-2">
            <BarChart
              title={t('volumesTitle')}
              description={t('volumesDesc')}
              tableLabel={t('dataTable')}
              categoryHeader={t('day')}
              categories={dayNames}
              axisLabels={shortDays}
              series={KINDS.map((k) => ({ name: t(`kind_${k}`), values: days.map((d) => d.requests[k]) }))}
              layout="stacked"
              locale={locale}
            />
            <BarChart
              title={t('detectionsTitle')}
              description={t('detectionsDesc')}
              tableLabel={t('dataTable')}
              categoryHeader={t('day')}
              categories={dayNames}
              axisLabels={shortDays}
              series={LABELS.map((l) => ({
                name: t(`class_${l}`),
                values: days.map((d) => d.detections[l]),
              }))}
              layout="stacked"
              locale={locale}
            />
            <BarChart
              title={t('latencyTitle')}
              description={t('latencyDesc')}
              tableLabel={t('dataTable')}
              categoryHeader={t('milliseconds')}
              categories={KINDS.map((k) => t(`kind_${k}`))}
              series={(['p50', 'p95', 'p99'] as const).map((p) => ({
                name: p,
                values: KINDS.map((k) => Math.round(report.latency[k][p] ?? 0)),
              }))}
              layout="grouped"
              locale={locale}
              format={number}
            />
            <LineChart
              title={t('errorsTitle')}
              description={t('errorsDesc')}
              tableLabel={t('dataTable')}
              categoryHeader={t('day')}
              categories={dayNames}
              axisLabels={shortDays}
              series={{
                name: t('errorRate'),
                values: days.map((d) => {
                  const n = KINDS.reduce((sum, k) => sum + d.requests[k], 0);
                  return n === 0 ? 0 : d.errors / n;
                }),
              }}
              format={percent}
            />
            {LABELS.map((label) => (
              <BarChart
                key={label}
                title={t('confidenceTitle', { label: t(`label_${label}`) })}
                description={t('confidenceDesc', { label: t(`label_${label}`) })}
                tableLabel={t('dataTable')}
                categoryHeader={t('bin')}
                categories={report.confidence[label].map((b) => (b.bound ?? 0).toFixed(2))}
                series={[{ name: t('count'), values: report.confidence[label].map((b) => b.count) }]}
                layout="stacked"
                locale={locale}
              />
            ))}
          </div>

          <section
            aria-labelledby={`${id}-codes`}
            className="rounded-lg border border-slate-300 bg-white p-4"
          >
            <h2 id={`${id}-codes`} className="font-semibold">
              {t('errorCodesTitle')}
            </h2>
            {Object.keys(report.totals.errors).length === 0 ? (
              <p>{t('noErrors')}</p>
            ) : (
              <ul className="mt-2 space-y-1">
                {Object.entries(report.totals.errors)
                  .sort((a, b) => b[1] - a[1])
                  .map(([code, count]) => (
                    <li key={code} className="flex justify-between gap-4 tabular-nums">
                      <code>{code}</code>
                      <span>{number(count)}</span>
                    </li>
                  ))}
              </ul>
            )}
          </section>
        </>
      )}
    </div>
  );
}
