import { describe, expect, it } from 'vitest';
import { decodeDb } from './db.ts';

/** A probability map with filled rectangles [x, y, w, h, p]. */
const map = (width: number, height: number, rects: number[][]) => {
  const m = new Float32Array(width * height);
  for (const [x, y, w, h, p] of rects) {
    for (let j = y!; j < y! + h!; j++) for (let i = x!; i < x! + w!; i++) m[j * width + i] = p!;
  }
  return m;
};
const options = { binaryThreshold: 0.3, minScore: 0.6, unclipRatio: 1.5, minSide: 2 };

describe('decodeDb', () => {
  it.each([
    { name: 'empty map', rects: [], want: 0 },
    { name: 'one text line', rects: [[10, 10, 40, 10, 0.9]], want: 1 },
    {
      name: 'two separate lines',
      rects: [
        [10, 10, 40, 10, 0.9],
        [10, 40, 40, 10, 0.9],
      ],
      want: 2,
    },
    {
      name: 'diagonal neighbours join (8-connectivity)',
      rects: [
        [10, 10, 5, 5, 0.9],
        [15, 15, 5, 5, 0.9],
      ],
      want: 1,
    },
    { name: 'low mean score dropped', rects: [[10, 10, 40, 10, 0.5]], want: 0 },
    { name: 'below binary threshold ignored', rects: [[10, 10, 40, 10, 0.2]], want: 0 },
    { name: 'too thin dropped', rects: [[10, 10, 40, 1, 0.9]], want: 0 },
  ])('$name', ({ rects, want }) => {
    expect(decodeDb(map(64, 64, rects), 64, 64, options)).toHaveLength(want);
  });

  it('grows each side by area * ratio / perimeter and reports score and fill', () => {
    const [t] = decodeDb(map(64, 64, [[10, 10, 40, 10, 0.8]]), 64, 64, options);
    const grow = (40 * 10 * 1.5) / (2 * 50);
    expect(t!.box.x).toBeCloseTo(10 - grow);
    expect(t!.box.width).toBeCloseTo(40 + 2 * grow);
    expect(t!.box.height).toBeCloseTo(10 + 2 * grow);
    expect(t!.score).toBeCloseTo(0.8);
    expect(t!.fill).toBe(1);
  });
});
