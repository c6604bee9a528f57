import type { Progress } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { advance, percentOf, progressFraction } from './progress.ts';

describe('percentOf', () => {
  it.each([
    [0, 0],
    [0.456, 45],
    [0.999, 99],
    [1, 100],
    [1.2, 100],
    [-1, 0],
  ])('percentOf(%s) is %s', (fraction, expected) => {
    expect(percentOf(fraction)).toBe(expected);
  });
});

describe('progressFraction', () => {
  it.each<{ progress: Progress; fraction: number }>([
    { progress: { stage: 'decode', runs: 0, plannedRuns: 0 }, fraction: 0 },
    { progress: { stage: 'detect', runs: 0, plannedRuns: 0 }, fraction: 0.05 },
    { progress: { stage: 'detect', runs: 5, plannedRuns: 10 }, fraction: 0.475 },
    { progress: { stage: 'detect', runs: 10, plannedRuns: 10 }, fraction: 0.9 },
    { progress: { stage: 'redact', runs: 10, plannedRuns: 10 }, fraction: 0.9 },
    { progress: { stage: 'encode', runs: 10, plannedRuns: 10 }, fraction: 0.95 },
    // The second of four frames, half read: 1.5 of 4 frames of detection.
    {
      progress: { stage: 'detect', runs: 2, plannedRuns: 4, frame: { index: 1, count: 4 } },
      fraction: 0.36875,
    },
    {
      progress: { stage: 'detect', runs: 0, plannedRuns: 0, frame: { index: 3, count: 4 } },
      fraction: 0.6875,
    },
  ])('$progress.stage $progress.runs/$progress.plannedRuns → $fraction', ({ progress, fraction }) => {
    expect(progressFraction(progress)).toBeCloseTo(fraction, 10);
  });
});

describe('advance', () => {
  it('never moves the bar back when the plan grows', () => {
    let shown = advance(undefined, { stage: 'detect', runs: 9, plannedRuns: 10 });
    expect(shown).toBeCloseTo(0.815, 10);
    shown = advance(shown, { stage: 'detect', runs: 9, plannedRuns: 14 });
    expect(shown).toBeCloseTo(0.815, 10);
    shown = advance(shown, { stage: 'detect', runs: 14, plannedRuns: 14 });
    expect(shown).toBeCloseTo(0.9, 10);
  });
});
