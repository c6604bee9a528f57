import { describe, expect, it } from 'vitest';
import { compareDetections } from './compare.ts';
import type { Detection } from './pipeline.ts';

const det = (label: Detection['label'], x: number, y: number, width: number, height: number): Detection => ({
  label,
  score: 0.9,
  box: { x, y, width, height },
  region: { x, y, width, height },
  shape: label === 'face' ? 'ellipse' : 'rect',
  source: 'model',
});

describe('compareDetections', () => {
  it.each([
    { name: 'both empty', a: [], b: [], tol: undefined, agree: true, maxDelta: 0, unA: 0, unB: 0 },
    {
      name: 'identical',
      a: [det('face', 10, 10, 40, 50), det('plate', 100, 80, 60, 20)],
      b: [det('plate', 100, 80, 60, 20), det('face', 10, 10, 40, 50)],
      tol: undefined,
      agree: true,
      maxDelta: 0,
      unA: 0,
      unB: 0,
    },
    {
      name: 'shifted by the default tolerance (2 px)',
      a: [det('face', 10, 10, 40, 50)],
      b: [det('face', 12, 9, 40, 50)],
      tol: undefined,
      agree: true,
      maxDelta: 2,
      unA: 0,
      unB: 0,
    },
    {
      name: 'right edge 3 px off',
      a: [det('face', 10, 10, 40, 50)],
      b: [det('face', 10, 10, 43, 50)],
      tol: undefined,
      agree: false,
      maxDelta: 3,
      unA: 0,
      unB: 0,
    },
    {
      name: 'right edge 3 px off with tolerance 3',
      a: [det('face', 10, 10, 40, 50)],
      b: [det('face', 10, 10, 43, 50)],
      tol: 3,
      agree: true,
      maxDelta: 3,
      unA: 0,
      unB: 0,
    },
    {
      name: 'one more face in B',
      a: [det('face', 10, 10, 40, 50)],
      b: [det('face', 10, 10, 40, 50), det('face', 200, 10, 30, 30)],
      tol: undefined,
      agree: false,
      maxDelta: 0,
      unA: 0,
      unB: 1,
    },
    {
      name: 'same box, different label',
      a: [det('face', 10, 10, 40, 50)],
      b: [det('plate', 10, 10, 40, 50)],
      tol: undefined,
      agree: false,
      maxDelta: 0,
      unA: 1,
      unB: 1,
    },
    {
      name: 'closest boxes pair first, whatever the order',
      a: [det('face', 0, 0, 20, 20), det('face', 30, 0, 20, 20)],
      b: [det('face', 31, 0, 20, 20), det('face', 1, 1, 20, 20)],
      tol: undefined,
      agree: true,
      maxDelta: 1,
      unA: 0,
      unB: 0,
    },
  ])('$name', ({ a, b, tol, agree, maxDelta, unA, unB }) => {
    const r = compareDetections(a, b, tol === undefined ? {} : { tolerancePx: tol });
    expect(r.agree).toBe(agree);
    expect(r.maxDeltaPx).toBe(maxDelta);
    expect(r.unmatchedA).toHaveLength(unA);
    expect(r.unmatchedB).toHaveLength(unB);
    expect(r.countA).toBe(a.length);
    expect(r.countB).toBe(b.length);
  });

  it('reports counts per label and the pairs, closest first', () => {
    const r = compareDetections(
      { detections: [det('face', 0, 0, 20, 20), det('face', 50, 0, 20, 20), det('plate', 0, 50, 40, 10)] },
      { detections: [det('face', 55, 0, 20, 20), det('face', 1, 0, 20, 20)] },
    );
    expect(r.perLabel).toEqual({
      face: { countA: 2, countB: 2, matched: 1 },
      plate: { countA: 1, countB: 0, matched: 0 },
    });
    expect(r.pairs.map((p) => [p.a.box.x, p.b.box.x, p.deltaPx, p.withinTolerance])).toEqual([
      [0, 1, 1, true],
      [50, 55, 5, false],
    ]);
    expect(r.unmatchedA.map((d) => d.label)).toEqual(['plate']);
    expect(r.agree).toBe(false);
  });
});
