import { describe, expect, it } from 'vitest';
import { advance, percentOf } from './progress.ts';

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
