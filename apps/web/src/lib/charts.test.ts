import { describe, expect, it } from 'vitest';
import { bands, compact, niceScale, stack } from './charts.ts';

describe('chart geometry', () => {
  it.each([
    [0, { max: 1, ticks: [0, 1] }],
    [3, { max: 4, ticks: [0, 1, 2, 3, 4] }],
    [7, { max: 8, ticks: [0, 2, 4, 6, 8] }],
    [95, { max: 100, ticks: [0, 25, 50, 75, 100] }],
    [1234, { max: 2000, ticks: [0, 500, 1000, 1500, 2000] }],
    [0.37, { max: 0.4, ticks: [0, 0.1, 0.2, 0.3, 0.4] }],
  ])('niceScale(%d)', (value, want) => {
    expect(niceScale(value)).toEqual(want);
  });

  it('bands split the width with gaps', () => {
    expect(bands(2, 100, 0.2)).toEqual([
      { x: 5, width: 40 },
      { x: 55, width: 40 },
    ]);
    expect(bands(0, 100)).toEqual([]);
  });

  it('stack puts series on top of each other from the bottom', () => {
    expect(stack([1, 3], 4, 100)).toEqual([
      { series: 0, y: 75, height: 25 },
      { series: 1, y: 0, height: 75 },
    ]);
  });

  it('compact numbers follow the locale', () => {
    expect(compact(1200, 'en')).toBe('1.2K');
    expect(compact(950, 'fr')).toBe('950');
  });
});
