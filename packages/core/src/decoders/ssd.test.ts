import { describe, expect, it } from 'vitest';
import { decodeSsd } from './ssd.ts';

describe('decodeSsd', () => {
  it.each([
    {
      name: 'a box in shares of the input becomes input pixels (x, y, w, h)',
      boxes: [0.25, 0.5, 0.75, 1],
      scores: [0.9],
      want: [{ box: [256, 128, 256, 256], score: 0.9 }],
    },
    { name: 'below the score it is dropped', boxes: [0.25, 0.5, 0.75, 1], scores: [0.2], want: [] },
    {
      name: 'a box over the edge is clipped to the input',
      boxes: [-0.1, -0.2, 0.5, 1.3],
      scores: [0.5],
      want: [{ box: [0, 0, 512, 256], score: 0.5 }],
    },
    { name: 'a box wholly outside is dropped', boxes: [1.1, 0.2, 1.3, 0.4], scores: [0.9], want: [] },
    { name: 'a NaN score is dropped', boxes: [0, 0, 1, 1], scores: [Number.NaN], want: [] },
    {
      name: 'anchors are read in order',
      boxes: [0, 0, 0.5, 0.5, 0.5, 0.5, 1, 1],
      scores: [0.3, 0.8],
      want: [
        { box: [0, 0, 256, 256], score: 0.3 },
        { box: [256, 256, 256, 256], score: 0.8 },
      ],
    },
  ])('$name', ({ boxes, scores, want }) => {
    const got = decodeSsd(Float32Array.from(boxes), Float32Array.from(scores), 512, 512, 0.25);
    expect(
      got.map((c) => ({
        box: [c.box.x, c.box.y, c.box.width, c.box.height],
        score: Math.round(c.score * 100) / 100,
      })),
    ).toEqual(want);
  });

  it('scales x by the width and y by the height of a non-square input', () => {
    const [c] = decodeSsd(Float32Array.of(0.5, 0.5, 1, 1), Float32Array.of(1), 640, 320, 0.5);
    expect([c!.box.x, c!.box.y, c!.box.width, c!.box.height]).toEqual([320, 160, 320, 160]);
  });
});
