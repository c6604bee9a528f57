import { type Progress, progressFraction } from '@nestor/core';

/** Percent for display: whole numbers, 100 only once the work is done. */
export function percentOf(fraction: number): number {
  const clamped = Math.min(1, Math.max(0, fraction));
  return clamped >= 1 ? 100 : Math.min(99, Math.floor(clamped * 100));
}

/**
 * The bar's fraction after a new report: it never moves back, though the plan grows when a find
 * calls for a closer look (a crowd, a vehicle, a plate to read).
 */
export function advance(shown: number | undefined, progress: Progress): number {
  return Math.max(shown ?? 0, progressFraction(progress));
}
