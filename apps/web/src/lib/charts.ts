/** Pure geometry of the dashboard's SVG charts: axis scales and bar layout (tested in charts.test.ts). */

/** A "nice" axis maximum (1, 2, 2.5 or 5 times a power of ten) at or above `value`, and its ticks. */
export function niceScale(value: number, tickCount = 4): { max: number; ticks: number[] } {
  if (!(value > 0)) return { max: 1, ticks: [0, 1] };
  const rough = value / tickCount;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s * tickCount >= value) ?? 10 * power;
  const ticks = Array.from({ length: tickCount + 1 }, (_, i) => Number((i * step).toPrecision(12)));
  return { max: ticks[ticks.length - 1]!, ticks };
}

export interface Band {
  readonly x: number;
  readonly width: number;
}

/** `count` bands across `width`, with `gap` (0–1) of each band left empty between bars. */
export function bands(count: number, width: number, gap = 0.2): Band[] {
  if (count <= 0) return [];
  const band = width / count;
  return Array.from({ length: count }, (_, i) => ({
    x: i * band + (band * gap) / 2,
    width: band * (1 - gap),
  }));
}

export interface Segment {
  readonly series: number;
  readonly y: number;
  readonly height: number;
}

/** Stacked segments of one bar, bottom up, in a plot `height` high whose top is `max`. */
export function stack(values: readonly number[], max: number, height: number): Segment[] {
  let base = 0;
  return values.map((value, series) => {
    const top = base + value;
    const segment = { series, y: height - (top / max) * height, height: (value / max) * height };
    base = top;
    return segment;
  });
}

/** Compact number for axes and labels: 950, 1.2k, 3.4M. */
export function compact(value: number, locale: string): string {
  return new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 }).format(value);
}
