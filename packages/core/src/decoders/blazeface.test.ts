import { describe, expect, it } from 'vitest';
import { blazeAnchors, decodeBlazeFace } from './blazeface.ts';

describe('blazeAnchors', () => {
  it('follows the output order layer, row, column, anchor', () => {
    const a = blazeAnchors([
      { gridSize: 2, anchorsPerCell: 2 },
      { gridSize: 1, anchorsPerCell: 3 },
    ]);
    expect(a.length / 2).toBe(2 * 2 * 2 + 3);
    expect([...a.slice(0, 8)]).toEqual([0.25, 0.25, 0.25, 0.25, 0.75, 0.25, 0.75, 0.25]);
    expect([...a.slice(8, 10)]).toEqual([0.25, 0.75]);
    expect([...a.slice(16, 22)]).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  });

  it.each([
    {
      name: 'short range (128/256)',
      layers: [
        { gridSize: 16, anchorsPerCell: 2 },
        { gridSize: 8, anchorsPerCell: 6 },
      ],
      count: 896,
    },
    { name: 'full range (192)', layers: [{ gridSize: 48, anchorsPerCell: 1 }], count: 2304 },
  ])('$name has $count anchors', ({ layers, count }) => {
    expect(blazeAnchors(layers).length / 2).toBe(count);
  });
});

describe('decodeBlazeFace', () => {
  const anchors = new Float32Array([0.25, 0.25, 0.75, 0.75]);
  const regressors = (values: number[][]) =>
    new Float32Array(values.flatMap((v) => [...v, ...new Array(16 - v.length).fill(0)]));

  it.each([
    { name: 'below threshold', scores: [-5, -5], want: 0 },
    { name: 'one above', scores: [3, -5], want: 1 },
    { name: 'both above', scores: [3, 2], want: 2 },
  ])('$name', ({ scores, want }) => {
    const out = decodeBlazeFace(
      new Float32Array(scores),
      regressors([
        [0, 0, 10, 10],
        [0, 0, 10, 10],
      ]),
      anchors,
      100,
      0.5,
    );
    expect(out).toHaveLength(want);
  });

  it('places boxes relative to anchors in input pixels, with sigmoid scores and keypoints', () => {
    const [face] = decodeBlazeFace(
      new Float32Array([0]),
      regressors([[2, -3, 20, 10, 1, 1]]),
      new Float32Array([0.5, 0.5]),
      128,
      0.4,
    );
    expect(face!.score).toBeCloseTo(0.5, 6);
    expect([face!.box.x, face!.box.y, face!.box.width, face!.box.height]).toEqual([56, 56, 20, 10]);
    expect(face!.keypoints[0]).toEqual([65, 65]);
    expect(face!.keypoints).toHaveLength(6);
  });

  it('drops degenerate boxes and clips huge logits', () => {
    const out = decodeBlazeFace(
      new Float32Array([1e9, 5]),
      regressors([
        [0, 0, 10, 10],
        [0, 0, -1, 10],
      ]),
      anchors,
      100,
      0.5,
    );
    expect(out).toHaveLength(1);
    expect(out[0]!.score).toBe(1);
  });
});
