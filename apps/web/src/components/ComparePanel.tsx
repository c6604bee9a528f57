'use client';

import type { DetectionComparison, Label } from '@nestor/core';
import { LABELS } from '@nestor/core';
import { useId } from 'react';
import type { RunOutput } from '../lib/engines.ts';
import { useT } from '../lib/i18n.tsx';

export interface CompareOutcome {
  readonly server: RunOutput;
  readonly device: RunOutput;
  readonly comparison: DetectionComparison;
}

/** Both engines on one image: counts, timings, and whether their detections agree (2 px). */
export function ComparePanel({ outcome }: { outcome: CompareOutcome }) {
  const t = useT('studio');
  const id = useId();
  const rows: readonly [string, RunOutput][] = [
    [t('engineServer'), outcome.server],
    [t('engineDevice'), outcome.device],
  ];
  const ms = (value: number | undefined) =>
    value === undefined ? '—' : t('ms', { value: Math.round(value) });
  const count = (run: RunOutput, label: Label) => run.result.counts[label];
  const { agree, maxDeltaPx } = outcome.comparison;
  return (
    <section
      aria-labelledby={`${id}-title`}
      className="rounded-lg border border-slate-200 bg-white p-4"
      data-testid="compare"
    >
      <h3 id={`${id}-title`} className="text-lg font-semibold">
        {t('compareTitle')}
      </h3>
      <p
        data-testid="compare-verdict"
        data-agree={agree ? 'true' : 'false'}
        className={`mt-2 rounded-md px-3 py-2 font-medium ${agree ? 'bg-emerald-50 text-emerald-900' : 'bg-amber-50 text-amber-900'}`}
      >
        {agree ? t('compareAgree') : t('compareDisagree')}{' '}
        {Number.isFinite(maxDeltaPx) ? t('compareDelta', { px: Math.round(maxDeltaPx * 10) / 10 }) : null}
      </p>
      <div className="mt-3 overflow-x-auto">
        <table className="w-full min-w-[28rem] text-left text-sm">
          <caption className="sr-only">{t('compareTitle')}</caption>
          <thead>
            <tr className="border-b border-slate-300">
              <th scope="col" className="py-1 pr-2">
                {t('engine')}
              </th>
              {LABELS.map((l) => (
                <th key={l} scope="col" className="py-1 pr-2">
                  {t(l === 'face' ? 'labelFaces' : 'labelPlates')}
                </th>
              ))}
              <th scope="col" className="py-1 pr-2">
                {t('timing_detect')}
              </th>
              <th scope="col" className="py-1 pr-2">
                {t('timing_total')}
              </th>
              <th scope="col" className="py-1 pr-2">
                {t('timing_wall')}
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([name, run]) => (
              <tr key={name} className="border-b border-slate-200">
                <th scope="row" className="py-1 pr-2 font-medium">
                  {name}
                  <span className="block text-xs font-normal text-slate-600">{run.result.engine}</span>
                </th>
                {LABELS.map((l) => (
                  <td key={l} className="py-1 pr-2 tabular-nums" data-testid={`compare-${l}`}>
                    {count(run, l)}
                  </td>
                ))}
                <td className="py-1 pr-2 tabular-nums">{ms(run.result.timings.detectMs)}</td>
                <td className="py-1 pr-2 tabular-nums">{ms(run.result.timings.totalMs)}</td>
                <td className="py-1 pr-2 tabular-nums">{ms(run.wallMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
