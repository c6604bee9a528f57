import { describe, expect, it } from 'vitest';
import { decodeCenterNet } from './centernet.ts';

const VEHICLES = [2, 3, 5, 7];

describe('decodeCenterNet', () => {
  it.each([
    {
      name: 'a car row becomes an input-pixel box (x, y, w, h)',
      rows: [100, 50, 300, 200, 0.8, 2],
      want: [{ box: [100, 50, 200, 150], score: 0.8, classId: 2 }],
    },
    { name: 'a person is not a vehicle', rows: [100, 50, 300, 200, 0.9, 0], want: [] },
    { name: 'below the score it is dropped', rows: [100, 50, 300, 200, 0.3, 2], want: [] },
    { name: 'a NaN score is dropped', rows: [100, 50, 300, 200, Number.NaN, 2], want: [] },
    {
      name: 'a box over the edge is clipped to the input',
      rows: [-20, -10, 600, 300, 0.6, 7],
      want: [{ box: [0, 0, 512, 300], score: 0.6, classId: 7 }],
    },
    { name: 'an empty box is dropped', rows: [200, 50, 200, 200, 0.9, 2], want: [] },
    { name: 'a box wholly outside is dropped', rows: [520, 10, 600, 90, 0.9, 5], want: [] },
    {
      name: 'rows are read in order; the class is rounded from its float',
      rows: [0, 0, 10, 10, 0.7, 3.0000002, 10, 10, 30, 20, 0.55, 5],
      want: [
        { box: [0, 0, 10, 10], score: 0.7, classId: 3 },
        { box: [10, 10, 20, 10], score: 0.55, classId: 5 },
      ],
    },
  ])('$name', ({ rows, want }) => {
    const got = decodeCenterNet(Float32Array.from(rows), {
      classes: VEHICLES,
      minScore: 0.5,
      inputWidth: 512,
      inputHeight: 512,
    });
    expect(
      got.map((o) => ({
        box: [o.box.x, o.box.y, o.box.width, o.box.height],
        score: Math.round(o.score * 100) / 100,
        classId: o.classId,
      })),
    ).toEqual(want);
  });
});
