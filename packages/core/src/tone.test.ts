import { describe, expect, it } from 'vitest';
import type { RawImage } from './image.ts';
import { LOW_LIGHT_RULES, lowLightCurve } from './tone.ts';

/** An RGB image whose grey levels repeat `levels` in order, one pixel each. */
const grey = (levels: readonly number[], width = 100, height = 100): RawImage => {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.fill(levels[p % levels.length]!, p * 3, p * 3 + 3);
  return { width, height, channels: 3, data };
};

describe('lowLightCurve', () => {
  it.each([
    { name: 'a well exposed photo', levels: [40, 90, 128, 200, 250] },
    { name: 'a median at the dark limit', levels: [LOW_LIGHT_RULES.darkMedian] },
    { name: 'a bright photo with a dark corner', levels: [5, 120, 130, 140] },
  ])('leaves $name as it is', ({ levels }) => {
    expect(lowLightCurve(grey(levels))).toBeNull();
  });

  it('lifts a night photo with bright lights: the median lands at the target share of white', () => {
    // Mostly levels 5-20, a few street lights at 255.
    const levels = [...Array.from({ length: 99 }, (_, i) => 5 + (i % 16)), 255];
    const curve = lowLightCurve(grey(levels, 200, 100))!;
    expect(curve).not.toBeNull();
    expect(curve[0]).toBe(0);
    expect(curve[255]).toBeCloseTo(255, 3);
    // The median, 12 or 13 of 255, goes to 0.2 of white (51).
    expect(Math.abs(curve[12]! - 51) < 2 || Math.abs(curve[13]! - 51) < 2).toBe(true);
    for (let v = 1; v < 256; v++) expect(curve[v]!).toBeGreaterThanOrEqual(curve[v - 1]!);
  });

  it('lifts no more than the strongest lift allowed', () => {
    // Median 2 of a white of 255 would ask for an exponent of 0.29.
    const curve = lowLightCurve(grey([...Array.from({ length: 99 }, () => 2), 255]))!;
    expect(curve[2]).toBeCloseTo(255 * (2 / 255) ** LOW_LIGHT_RULES.minGamma, 3);
  });

  it('stretches an under-exposed photo to its own white and saturates above it', () => {
    // Levels 10-49 evenly: median 29 or 30, white (99.5 %) 49.
    const curve = lowLightCurve(grey(Array.from({ length: 40 }, (_, i) => 10 + i)))!;
    expect(curve[49]).toBeCloseTo(255, 3);
    expect(curve[120]).toBeCloseTo(255, 3);
    const median = curve[29]! / 255;
    expect(median).toBeGreaterThan(0.55);
  });

  it('reads RGBA images and answers null for an empty one', () => {
    const data = new Uint8Array(64 * 64 * 4).fill(8);
    expect(lowLightCurve({ width: 64, height: 64, channels: 4, data })).not.toBeNull();
    data.fill(200);
    expect(lowLightCurve({ width: 64, height: 64, channels: 4, data })).toBeNull();
    expect(lowLightCurve({ width: 0, height: 0, channels: 3, data: new Uint8Array(0) })).toBeNull();
  });

  it('samples a large photo sparsely and still sees its exposure', () => {
    const big = grey([10, 12, 14], 4000, 3000);
    const curve = lowLightCurve(big)!;
    expect(curve).not.toBeNull();
    expect(curve[14]).toBeCloseTo(255, 3);
  });
});
