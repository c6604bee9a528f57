import { describe, expect, it } from 'vitest';
import {
  boundingBox,
  clipToImage,
  containment,
  type ImageBox,
  imageBox,
  iou,
  pixelBounds,
  roundOut,
  scaleAboutCentre,
} from './geometry.ts';

describe('iou', () => {
  it.each([
    { name: 'identical', a: [0, 0, 10, 10], b: [0, 0, 10, 10], want: 1 },
    { name: 'disjoint', a: [0, 0, 10, 10], b: [20, 20, 5, 5], want: 0 },
    { name: 'touching edges', a: [0, 0, 10, 10], b: [10, 0, 10, 10], want: 0 },
    { name: 'half overlap', a: [0, 0, 10, 10], b: [5, 0, 10, 10], want: 50 / 150 },
    { name: 'nested', a: [0, 0, 10, 10], b: [0, 0, 5, 5], want: 0.25 },
    { name: 'empty boxes', a: [0, 0, 0, 0], b: [0, 0, 0, 0], want: 0 },
  ])('$name', ({ a, b, want }) => {
    expect(
      iou(
        imageBox(...(a as [number, number, number, number])),
        imageBox(...(b as [number, number, number, number])),
      ),
    ).toBeCloseTo(want, 10);
  });
});

describe('containment', () => {
  it.each([
    { inner: [2, 2, 4, 4], outer: [0, 0, 10, 10], want: 1 },
    { inner: [8, 0, 4, 10], outer: [0, 0, 10, 10], want: 0.5 },
    { inner: [20, 20, 4, 4], outer: [0, 0, 10, 10], want: 0 },
    { inner: [0, 0, 0, 0], outer: [0, 0, 10, 10], want: 0 },
  ])('$inner in $outer = $want', ({ inner, outer, want }) => {
    expect(
      containment(
        imageBox(...(inner as [number, number, number, number])),
        imageBox(...(outer as [number, number, number, number])),
      ),
    ).toBeCloseTo(want, 10);
  });
});

describe('scaleAboutCentre', () => {
  it.each([
    { box: [10, 10, 20, 40], sx: 1, sy: 1, want: [10, 10, 20, 40] },
    { box: [10, 10, 20, 40], sx: 1.5, sy: 1.5, want: [5, 0, 30, 60] },
    { box: [10, 10, 20, 40], sx: 2, sy: 1, want: [0, 10, 40, 40] },
    { box: [10, 10, 20, 40], sx: 0.5, sy: 0.5, want: [15, 20, 10, 20] },
  ])('$box x ($sx, $sy)', ({ box, sx, sy, want }) => {
    const r = scaleAboutCentre(imageBox(...(box as [number, number, number, number])), sx, sy);
    expect([r.x, r.y, r.width, r.height]).toEqual(want);
  });
});

describe('clipToImage and pixel bounds', () => {
  it.each([
    { box: [-5, -5, 20, 20], want: [0, 0, 15, 15] },
    { box: [90, 40, 20, 20], want: [90, 40, 10, 10] },
    { box: [120, 10, 5, 5], want: [100, 10, 0, 5] },
  ])('clips $box to 100x50', ({ box, want }) => {
    const r = clipToImage(imageBox(...(box as [number, number, number, number])), 100, 50);
    expect([r.x, r.y, r.width, r.height]).toEqual(want);
  });

  it('rounds outward to whole pixels', () => {
    const r = roundOut(imageBox(1.2, 2.7, 3.1, 4.2));
    expect([r.x, r.y, r.width, r.height]).toEqual([1, 2, 4, 5]);
    expect(pixelBounds(imageBox(-1.5, 0.5, 200, 10.2), 100, 50)).toEqual({ x0: 0, y0: 0, x1: 100, y1: 11 });
  });
});

describe('boundingBox', () => {
  it.each([
    { name: 'one box is itself', boxes: [[1, 2, 3, 4]], want: [1, 2, 3, 4] },
    {
      name: 'disjoint boxes',
      boxes: [
        [0, 0, 2, 2],
        [10, 5, 2, 3],
      ],
      want: [0, 0, 12, 8],
    },
    {
      name: 'a box inside another',
      boxes: [
        [0, 0, 10, 10],
        [2, 2, 3, 3],
      ],
      want: [0, 0, 10, 10],
    },
    {
      name: 'negative coordinates',
      boxes: [
        [-5, -1, 2, 2],
        [0, 0, 1, 1],
      ],
      want: [-5, -1, 6, 2],
    },
  ])('$name', ({ boxes, want }) => {
    const list = boxes.map((b) => imageBox(...(b as [number, number, number, number])));
    const r = boundingBox(list as [ImageBox, ...ImageBox[]]);
    expect([r.x, r.y, r.width, r.height]).toEqual(want);
  });
});
