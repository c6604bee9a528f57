'use client';

import { type ReactNode, useId } from 'react';
import { bands, compact, niceScale, stack } from '../../lib/charts.ts';

/**
 * Hand-written SVG charts. Each is a <figure> with a caption; the SVG is an image with a title and
 * a description, and the same numbers are in a table under "Show the numbers" for screen readers
 * and for anyone who wants them. Series are told apart by colour and by the legend's order.
 */

/** Colours with at least 3:1 contrast against white (WCAG 1.4.11), distinct for common colour blindness. */
export const SERIES_COLOURS = ['#1d4ed8', '#b45309', '#047857', '#be123c', '#6d28d9'] as const;

const WIDTH = 640;
const HEIGHT = 220;
const PAD = { top: 12, right: 12, bottom: 28, left: 48 } as const;
const PLOT_W = WIDTH - PAD.left - PAD.right;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;

export interface Series {
  readonly name: string;
  readonly values: readonly number[];
}

interface FrameProps {
  readonly title: string;
  readonly description: string;
  readonly tableLabel: string;
  readonly table: ReactNode;
  readonly legend?: readonly string[];
  readonly children: ReactNode;
}

function Frame({ title, description, tableLabel, table, legend, children }: FrameProps) {
  const id = useId();
  return (
    <figure className="rounded-lg border border-slate-300 bg-white p-4">
      <figcaption className="font-semibold" id={`${id}-caption`}>
        {title}
      </figcaption>
      <p className="text-sm text-slate-700" id={`${id}-desc`}>
        {description}
      </p>
      {legend && legend.length > 1 && (
        <ul className="mt-2 flex flex-wrap gap-4 text-sm" aria-hidden="true">
          {legend.map((name, i) => (
            <li key={name} className="flex items-center gap-1">
              <span className="inline-block h-3 w-3 rounded-sm" style={{ background: SERIES_COLOURS[i] }} />
              {name}
            </li>
          ))}
        </ul>
      )}
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        className="mt-2 h-auto w-full"
        role="img"
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-svgdesc`}
      >
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-svgdesc`}>{description}</desc>
        {children}
      </svg>
      <details className="mt-2 text-sm">
        <summary className="cursor-pointer text-indigo-800">{tableLabel}</summary>
        <div className="mt-2 overflow-x-auto">{table}</div>
      </details>
    </figure>
  );
}

function Axis({
  max,
  ticks,
  format,
}: {
  max: number;
  ticks: readonly number[];
  format: (v: number) => string;
}) {
  return (
    <g>
      {ticks.map((tick) => {
        const y = PAD.top + PLOT_H - (tick / max) * PLOT_H;
        return (
          <g key={tick}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y} y2={y} stroke="#cbd5e1" strokeWidth={1} />
            <text x={PAD.left - 6} y={y + 4} textAnchor="end" fontSize={11} fill="#334155">
              {format(tick)}
            </text>
          </g>
        );
      })}
    </g>
  );
}

/** Category labels under the plot, thinned so that they never overlap. */
function CategoryLabels({ labels }: { labels: readonly string[] }) {
  const slots = bands(labels.length, PLOT_W, 0);
  const every = Math.max(1, Math.ceil(labels.length / 10));
  return (
    <g>
      {labels.map((label, i) =>
        i % every === 0 ? (
          <text
            key={label}
            x={PAD.left + slots[i]!.x + slots[i]!.width / 2}
            y={HEIGHT - 8}
            textAnchor="middle"
            fontSize={11}
            fill="#334155"
          >
            {label}
          </text>
        ) : null,
      )}
    </g>
  );
}

function DataTable({
  categoryHeader,
  categories,
  series,
  format,
}: {
  categoryHeader: string;
  categories: readonly string[];
  series: readonly Series[];
  format: (v: number) => string;
}) {
  return (
    <table className="min-w-full border-collapse text-left">
      <thead>
        <tr>
          <th scope="col" className="border-b border-slate-300 px-2 py-1">
            {categoryHeader}
          </th>
          {series.map((s) => (
            <th key={s.name} scope="col" className="border-b border-slate-300 px-2 py-1 text-right">
              {s.name}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {categories.map((category, i) => (
          <tr key={category}>
            <th scope="row" className="px-2 py-1 font-normal">
              {category}
            </th>
            {series.map((s) => (
              <td key={s.name} className="px-2 py-1 text-right tabular-nums">
                {format(s.values[i] ?? 0)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface BarChartProps {
  readonly title: string;
  readonly description: string;
  readonly tableLabel: string;
  readonly categoryHeader: string;
  readonly categories: readonly string[];
  /** Short labels under the bars (e.g. days as 03-01); defaults to the categories. */
  readonly axisLabels?: readonly string[];
  readonly series: readonly Series[];
  readonly locale: string;
  /** Stacked (volumes per day) or side by side (percentiles per kind). */
  readonly layout: 'stacked' | 'grouped';
  readonly format?: (value: number) => string;
}

/** Vertical bars: one bar (stacked) or one group (grouped) per category. */
export function BarChart(props: BarChartProps) {
  const { categories, series, layout, locale } = props;
  const format = props.format ?? ((v: number) => compact(v, locale));
  const peak = Math.max(
    0,
    ...categories.map((_, i) =>
      layout === 'stacked'
        ? series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0)
        : Math.max(0, ...series.map((s) => s.values[i] ?? 0)),
    ),
  );
  const { max, ticks } = niceScale(peak);
  const slots = bands(categories.length, PLOT_W, 0.25);
  return (
    <Frame
      title={props.title}
      description={props.description}
      tableLabel={props.tableLabel}
      legend={series.map((s) => s.name)}
      table={
        <DataTable
          categoryHeader={props.categoryHeader}
          categories={categories}
          series={series}
          format={format}
        />
      }
    >
      <Axis max={max} ticks={ticks} format={format} />
      <g transform={`translate(${PAD.left},${PAD.top})`}>
        {slots.map((slot, i) => {
          const category = categories[i]!;
          if (layout === 'stacked') {
            return (
              <g key={category}>
                {stack(
                  series.map((s) => s.values[i] ?? 0),
                  max,
                  PLOT_H,
                ).map((segment) =>
                  segment.height > 0 ? (
                    <rect
                      key={segment.series}
                      x={slot.x}
                      y={segment.y}
                      width={slot.width}
                      height={segment.height}
                      fill={SERIES_COLOURS[segment.series % SERIES_COLOURS.length]}
                    />
                  ) : null,
                )}
              </g>
            );
          }
          const inner = bands(series.length, slot.width, 0.1);
          return (
            <g key={category}>
              {series.map((s, k) => {
                const value = s.values[i] ?? 0;
                const height = (value / max) * PLOT_H;
                return (
                  <rect
                    key={s.name}
                    x={slot.x + inner[k]!.x}
                    y={PLOT_H - height}
                    width={inner[k]!.width}
                    height={height}
                    fill={SERIES_COLOURS[k % SERIES_COLOURS.length]}
                  />
                );
              })}
            </g>
          );
        })}
      </g>
      <CategoryLabels labels={props.axisLabels ?? categories} />
    </Frame>
  );
}

export interface LineChartProps {
  readonly title: string;
  readonly description: string;
  readonly tableLabel: string;
  readonly categoryHeader: string;
  readonly categories: readonly string[];
  readonly axisLabels?: readonly string[];
  readonly series: Series;
  readonly format: (value: number) => string;
}

/** One line with points, e.g. the error rate per day. */
export function LineChart(props: LineChartProps) {
  const { categories, series, format } = props;
  const { max, ticks } = niceScale(Math.max(0, ...series.values));
  const slots = bands(categories.length, PLOT_W, 0);
  const points = series.values.map((v, i) => ({
    x: PAD.left + slots[i]!.x + slots[i]!.width / 2,
    y: PAD.top + PLOT_H - (v / max) * PLOT_H,
  }));
  return (
    <Frame
      title={props.title}
      description={props.description}
      tableLabel={props.tableLabel}
      table={
        <DataTable
          categoryHeader={props.categoryHeader}
          categories={categories}
          series={[series]}
          format={format}
        />
      }
    >
      <Axis max={max} ticks={ticks} format={format} />
      <polyline
        points={points.map((p) => `${p.x},${p.y}`).join(' ')}
        fill="none"
        stroke={SERIES_COLOURS[3]}
        strokeWidth={2}
      />
      {points.map((p, i) => (
        <circle key={categories[i]} cx={p.x} cy={p.y} r={3} fill={SERIES_COLOURS[3]} />
      ))}
      <CategoryLabels labels={props.axisLabels ?? categories} />
    </Frame>
  );
}
