import type { Rect } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { placeLabels } from './labels.ts';

const IMAGE = { width: 400, height: 300 };
const LABEL = { width: 60, height: 20 };

describe('placeLabels', () => {
  it.each<[string, Rect[], Rect[]]>([
    [
      'one box: above it',
      [{ x: 50, y: 100, width: 80, height: 80 }],
      [{ x: 50, y: 80, width: 60, height: 20 }],
    ],
    [
      'at the top edge: below it',
      [{ x: 50, y: 5, width: 80, height: 80 }],
      [{ x: 50, y: 85, width: 60, height: 20 }],
    ],
    [
      'at the right edge: kept in the image',
      [{ x: 380, y: 100, width: 20, height: 20 }],
      [{ x: 340, y: 80, width: 60, height: 20 }],
    ],
    [
      'two neighbours: the second goes right-aligned when that is clear',
      [
        { x: 50, y: 100, width: 80, height: 80 },
        { x: 100, y: 100, width: 120, height: 80 },
      ],
      [
        { x: 50, y: 80, width: 60, height: 20 },
        { x: 160, y: 80, width: 60, height: 20 },
      ],
    ],
    [
      'two neighbours of one width: the second goes below its box',
      [
        { x: 50, y: 100, width: 60, height: 80 },
        { x: 80, y: 100, width: 60, height: 80 },
      ],
      [
        { x: 50, y: 80, width: 60, height: 20 },
        { x: 80, y: 180, width: 60, height: 20 },
      ],
    ],
    [
      'a box filling the image: inside its top edge',
      [{ x: 0, y: 0, width: 400, height: 300 }],
      [{ x: 0, y: 0, width: 60, height: 20 }],
    ],
  ])('%s', (_, boxes, expected) => {
    expect(
      placeLabels(
        boxes.map((box) => ({ box, caption: LABEL })),
        IMAGE,
      ),
    ).toEqual(expected);
  });

  it('never lets two captions overlap while a clear spot exists', () => {
    const boxes = [0, 1, 2].map((i) => ({ x: 100 + i * 10, y: 100, width: 60, height: 60 }));
    const slots = placeLabels(
      boxes.map((box) => ({ box, caption: LABEL })),
      IMAGE,
    );
    for (const [i, a] of slots.entries())
      for (const b of slots.slice(i + 1))
        expect(
          a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y,
        ).toBe(true);
  });

  it('a label wider than the image is cut to its width', () => {
    expect(
      placeLabels(
        [{ box: { x: 0, y: 50, width: 10, height: 10 }, caption: { width: 900, height: 20 } }],
        IMAGE,
      ),
    ).toEqual([{ x: 0, y: 30, width: 400, height: 20 }]);
  });
});
