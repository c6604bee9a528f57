import type { Progress, ProgressStage } from '@nestor/core';

/** Percent for display: whole numbers, 100 only once the work is done. */
export function percentOf(fraction: number): number {
  const clamped = Math.min(1, Math.max(0, fraction));
  return clamped >= 1 ? 100 : Math.min(99, Math.floor(clamped * 100));
}

/** Where each stage starts and ends on the bar: detection is nearly all of a run's time. */
const SPANS: Readonly<Record<ProgressStage, readonly [number, number]>> = {
  decode: [0, 0.05],
  detect: [0.05, 0.9],
  redact: [0.9, 0.95],
  encode: [0.95, 1],
};

/**
 * How far a run has come, from 0 to 1: a stage's share of the bar, filled within detection by the
 * inference runs done of those planned (and by frames, for an animation).
 * @example progressFraction({ stage: 'detect', runs: 5, plannedRuns: 10 }) // 0.475
 */
export function progressFraction(progress: Progress): number {
  const [from, to] = SPANS[progress.stage];
  if (progress.stage !== 'detect') return from;
  const runs = progress.plannedRuns > 0 ? Math.min(1, progress.runs / progress.plannedRuns) : 0;
  const done = progress.frame ? (progress.frame.index + runs) / progress.frame.count : runs;
  return from + (to - from) * done;
}

/**
 * The bar's fraction after a new report: it never moves back, though the plan grows when a find
 * calls for a closer look (a crowd, a vehicle, a plate to read).
 */
export function advance(shown: number | undefined, progress: Progress): number {
  return Math.max(shown ?? 0, progressFraction(progress));
}
