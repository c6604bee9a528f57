import { describe, expect, it } from 'vitest';
import { decodeRetinaFaceLevel, type RetinaFaceLevel } from './retinaface.ts';

/** A 2x2 grid, stride 16, two anchors (32 and 16 px): channels are [bg0, bg1, face0, face1]. */
const LEVEL: RetinaFaceLevel = { stride: 16, anchorSizes: [32, 16] };
const INPUT = { width: 32, height: 32 };
const CELLS = 4;

function tensors(entries: { anchor: number; cell: number; score: number; deltas?: number[] }[]) {
  const scores = new Float32Array(2 * 2 * CELLS);
  const deltas = new Float32Array(2 * 4 * CELLS);
  for (const e of entries) {
    scores[(2 + e.anchor) * CELLS + e.cell] = e.score;
    scores[e.anchor * CELLS + e.cell] = 1 - e.score;
    (e.deltas ?? [0, 0, 0, 0]).forEach((d, k) => {
      deltas[(e.anchor * 4 + k) * CELLS + e.cell] = d;
    });
  }
  return { scores, deltas };
}

describe('decodeRetinaFaceLevel', () => {
  it.each([
    {
      name: 'zero deltas give the anchor, centred 8 px into its cell',
      entries: [{ anchor: 1, cell: 0, score: 0.9 }],
      want: [{ box: [0, 0, 16, 16], score: 0.9 }],
    },
    {
      name: 'the cell moves the centre by the stride (column, then row)',
      entries: [{ anchor: 1, cell: 3, score: 0.8 }],
      want: [{ box: [16, 16, 16, 16], score: 0.8 }],
    },
    {
      name: 'dx, dy shift by the anchor size; dw, dh scale it exponentially',
      entries: [{ anchor: 1, cell: 0, score: 0.7, deltas: [0.25, 0.5, 0, Math.log(0.5)] }],
      want: [{ box: [4, 12, 16, 8], score: 0.7 }],
    },
    {
      name: 'the larger anchor is read from the second half of the face channels and clipped to the input',
      entries: [{ anchor: 0, cell: 0, score: 0.6 }],
      want: [{ box: [0, 0, 24, 24], score: 0.6 }],
    },
    {
      name: 'a box below the score is dropped; the background channels are not scores',
      entries: [{ anchor: 1, cell: 1, score: 0.1 }],
      want: [],
    },
    {
      name: 'a box pushed wholly outside the input is dropped',
      entries: [{ anchor: 1, cell: 0, score: 0.9, deltas: [-2, 0, 0, 0] }],
      want: [],
    },
  ])('$name', ({ entries, want }) => {
    const { scores, deltas } = tensors(entries);
    const got = decodeRetinaFaceLevel(scores, deltas, 2, 2, LEVEL, INPUT, 0.5);
    expect(
      got.map((c) => ({
        box: [c.box.x, c.box.y, c.box.width, c.box.height].map((v) => Math.round(v * 1000) / 1000),
        score: Math.round(c.score * 100) / 100,
      })),
    ).toEqual(want);
  });

  it('reads a non-square grid row by row', () => {
    const scores = new Float32Array(2 * 2 * 6);
    scores[2 * 6 + 4] = 0.9; // anchor 0, cell 4 = row 1, column 1 of a 3-wide grid
    const got = decodeRetinaFaceLevel(
      scores,
      new Float32Array(2 * 4 * 6),
      3,
      2,
      LEVEL,
      { width: 64, height: 64 },
      0.5,
    );
    expect(got.map((c) => [c.box.x, c.box.y, c.box.width, c.box.height])).toEqual([[8, 8, 32, 32]]);
  });
});
