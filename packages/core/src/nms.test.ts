import { describe, expect, it } from 'vitest';
import { imageBox } from './geometry.ts';
import { fuseEnsemble, nms, weightedNms } from './nms.ts';

const item = (x: number, y: number, w: number, h: number, score: number) => ({
  box: imageBox(x, y, w, h),
  score,
});

describe('nms', () => {
  it.each([
    { name: 'nothing', items: [], want: [] },
    {
      name: 'disjoint kept, best first',
      items: [item(0, 0, 10, 10, 0.5), item(50, 50, 10, 10, 0.9)],
      want: [0.9, 0.5],
    },
    { name: 'duplicates suppressed', items: [item(0, 0, 10, 10, 0.5), item(1, 1, 10, 10, 0.9)], want: [0.9] },
    { name: 'low overlap kept', items: [item(0, 0, 10, 10, 0.5), item(8, 0, 10, 10, 0.9)], want: [0.9, 0.5] },
    {
      name: 'partial box inside a better one suppressed by containment',
      items: [item(0, 0, 20, 20, 0.9), item(0, 0, 8, 20, 0.8)],
      want: [0.9],
    },
  ])('$name', ({ items, want }) => {
    expect(nms(items, { iouThreshold: 0.3, containmentThreshold: 0.75 }).map((i) => i.score)).toEqual(want);
  });

  it('without a containment threshold keeps nested boxes', () => {
    expect(nms([item(0, 0, 20, 20, 0.9), item(0, 0, 8, 20, 0.8)], { iouThreshold: 0.5 })).toHaveLength(2);
  });
});

describe('weightedNms', () => {
  it('averages near-duplicates by score and keeps the best score', () => {
    const [out, ...rest] = weightedNms([item(0, 0, 10, 10, 0.75), item(2, 0, 10, 10, 0.25)], {
      iouThreshold: 0.3,
    });
    expect(rest).toHaveLength(0);
    expect(out!.score).toBe(0.75);
    expect(out!.box.x).toBeCloseTo(0.5);
    expect(out!.box.width).toBeCloseTo(10);
  });

  it('does not let a partial box merged by containment shrink the result', () => {
    const [out] = weightedNms([item(0, 0, 20, 20, 0.9), item(0, 0, 5, 20, 0.8)], {
      iouThreshold: 0.3,
      containmentThreshold: 0.75,
    });
    expect([out!.box.x, out!.box.width]).toEqual([0, 20]);
  });
});

describe('fuseEnsemble', () => {
  it.each([
    {
      name: 'one model is plain NMS',
      models: [[item(0, 0, 10, 10, 0.8), item(1, 1, 10, 10, 0.6)]],
      want: [0.8],
    },
    {
      name: 'two models agreeing combine by noisy-or',
      models: [[item(0, 0, 10, 10, 0.5)], [item(1, 0, 10, 10, 0.6)]],
      want: [0.8],
    },
    {
      name: 'disagreeing boxes stay apart',
      models: [[item(0, 0, 10, 10, 0.5)], [item(50, 50, 10, 10, 0.6)]],
      want: [0.6, 0.5],
    },
    {
      name: 'a model counts once per object',
      models: [[item(0, 0, 10, 10, 0.5), item(1, 0, 10, 10, 0.5)], []],
      want: [0.5],
    },
  ])('$name', ({ models, want }) => {
    expect(fuseEnsemble(models, { iouThreshold: 0.3 }).map((i) => Math.round(i.score * 1000) / 1000)).toEqual(
      want,
    );
  });

  it.each([
    { name: "weight 2 squares a model's miss", weights: [2, 1], scores: [0.5, 0.6], want: 0.9 },
    { name: 'weight 1 for all is plain noisy-or', weights: [1, 1], scores: [0.5, 0.6], want: 0.8 },
    { name: 'a lone model is weighted too', weights: [2, 1], scores: [0.5], want: 0.75 },
    { name: 'weight 0.5 softens a model', weights: [1, 0.5], scores: [0, 0.75], want: 0.5 },
  ])('$name', ({ weights, scores, want }) => {
    const models = scores.map((s, i) => (s > 0 ? [item(i, 0, 10, 10, s)] : []));
    const [fused] = fuseEnsemble(models, { iouThreshold: 0.3, weights });
    expect(fused!.score).toBeCloseTo(want, 6);
  });

  it('keeps every overlapping box of the object as a sighting, not the boxes merged by containment only', () => {
    const best = item(0, 0, 10, 10, 0.9);
    const shifted = item(3, 0, 10, 12, 0.6);
    const partial = item(0, 0, 2, 10, 0.5);
    const [fused, ...rest] = fuseEnsemble([[best], [shifted], [partial]], {
      iouThreshold: 0.3,
      containmentThreshold: 0.75,
    });
    expect(rest).toEqual([]);
    expect(fused!.box).toEqual(best.box);
    expect(fused!.sightings).toEqual([best.box, shifted.box]);
  });

  it('keeps the box of the best-scoring member', () => {
    const [out] = fuseEnsemble([[item(0, 0, 10, 10, 0.4)], [item(1, 0, 10, 10, 0.9)]], { iouThreshold: 0.3 });
    expect(out!.box.x).toBe(1);
  });
});
