import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  coveredShare,
  type GroundTruthImage,
  type Prediction,
  reviewCases,
  scoreDetections,
} from './eval-metrics.ts';
import { DEV_SET, HAS_DEV_SET, SKIP_DEV_SET_REASON } from './test-support.ts';

const images: GroundTruthImage[] = [
  {
    file: 'a.jpg',
    source: 'set1:a',
    complete: true,
    boxes: [
      { label: 'face', x: 10, y: 10, w: 40, h: 40 },
      { label: 'face', x: 100, y: 10, w: 8, h: 8 },
    ],
  },
  {
    file: 'b.jpg',
    source: 'set2:b',
    complete: false,
    boxes: [
      { label: 'plate', x: 0, y: 0, w: 100, h: 30 },
      { label: 'face', x: 200, y: 200, w: 20, h: 20 },
    ],
  },
  {
    file: 'c.jpg',
    source: 'set1:c',
    complete: true,
    boxes: [{ label: 'face', x: 50, y: 50, w: 100, h: 100 }],
  },
];
const predictions: Record<string, Prediction[]> = {
  'a.jpg': [
    { label: 'face', score: 0.9, x: 12, y: 12, w: 40, h: 40 },
    { label: 'face', score: 0.8, x: 300, y: 300, w: 20, h: 20 },
    { label: 'face', score: 0.7, x: 101, y: 11, w: 5, h: 5 },
  ],
  'b.jpg': [{ label: 'plate', score: 0.6, x: 10, y: 5, w: 70, h: 20, region: { x: 0, y: 0, w: 95, h: 30 } }],
};

describe('scoreDetections', () => {
  it.each([
    { area: { x: 0, y: 0, w: 10, h: 10 }, by: [{ x: 0, y: 0, w: 10, h: 10 }], want: 1 },
    { area: { x: 0, y: 0, w: 10, h: 10 }, by: [{ x: 0, y: 0, w: 5, h: 10 }], want: 0.5 },
    { area: { x: 0, y: 0, w: 10, h: 10 }, by: [], want: 0 },
  ])('coveredShare $by over $area = $want', ({ area, by, want }) => {
    expect(coveredShare(area, by)).toBeCloseTo(want, 1);
  });

  it('counts recall, coverage by region, precision on complete images, missing entries', () => {
    const m = scoreDetections(images, predictions, 10);
    expect(m.face!.gt_boxes).toBe(3);
    expect(m.face!.recall_iou30).toBeCloseTo(1 / 3, 4);
    expect(m.face!.images_without_prediction_entry).toBe(1);
    // the tiny prediction lies inside an unscored (8 px) face, so it is not a false positive
    expect(m.face!.precision_complete).toBeCloseTo(2 / 3, 4);
    expect(m.plate!.recall_cover70).toBe(1);
    expect(m.plate!.precision_complete).toBeNull();
  });

  it.skipIf(!HAS_DEV_SET)('agrees with shared/tools/eval.mjs exactly', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-eval-'));
    writeFileSync(path.join(dir, 'annotations.json'), JSON.stringify({ images }));
    writeFileSync(path.join(dir, 'pred.json'), JSON.stringify({ images: predictions }));
    for (const minSide of [5, 10]) {
      const reference = JSON.parse(
        execFileSync(
          'node',
          [
            path.join(DEV_SET, '../../tools/eval.mjs'),
            dir,
            path.join(dir, 'pred.json'),
            '--json',
            '--min-side',
            String(minSide),
          ],
          { encoding: 'utf8' },
        ),
      );
      expect(scoreDetections(images, predictions, minSide)).toEqual(reference);
    }
  });

  it.skipIf(HAS_DEV_SET)(SKIP_DEV_SET_REASON, () => {});
});

describe('reviewCases', () => {
  const cases = reviewCases(images, predictions, 10);
  const brief = cases.map(({ kind, file, label, box, value }) => ({ kind, file, label, box, value }));

  it.each([
    {
      why: 'a prediction on a complete image that matches nothing',
      want: {
        kind: 'false-positive',
        file: 'a.jpg',
        label: 'face',
        box: { x: 300, y: 300, w: 20, h: 20 },
        value: 0.8,
      },
    },
    {
      why: 'a labelled face with no prediction, on an incomplete image',
      want: { kind: 'miss', file: 'b.jpg', label: 'face', box: { x: 200, y: 200, w: 20, h: 20 }, value: 0 },
    },
    {
      why: 'a labelled face in an image without a prediction entry',
      want: { kind: 'miss', file: 'c.jpg', label: 'face', box: { x: 50, y: 50, w: 100, h: 100 }, value: 0 },
    },
  ])('lists $why', ({ want }) => {
    expect(brief).toContainEqual(want);
  });

  it('lists nothing else: matched, covered, inside-a-small-face and under-min-side boxes are not errors', () => {
    expect(cases).toHaveLength(3);
  });

  it('has as many false positives and misses as the metrics count', () => {
    const m = scoreDetections(images, predictions, 10).face!;
    const fps = cases.filter((c) => c.kind === 'false-positive' && c.label === 'face').length;
    const misses = cases.filter((c) => c.kind === 'miss' && c.label === 'face').length;
    expect(fps).toBe(2 * m.fp_per_complete_image!);
    expect(misses).toBe(Math.round(m.gt_boxes * (1 - m.recall_cover70)));
  });

  it('reports the share a partly covering region leaves, and the context boxes', () => {
    const [miss] = reviewCases(
      [{ file: 'd.jpg', complete: true, boxes: [{ label: 'face', x: 0, y: 0, w: 40, h: 40 }] }],
      { 'd.jpg': [{ label: 'face', score: 0.9, x: 0, y: 0, w: 20, h: 40 }] },
    ).filter((c) => c.kind === 'miss');
    expect(miss!.value).toBeCloseTo(0.5, 2);
    expect(miss!.truths).toEqual([{ x: 0, y: 0, w: 40, h: 40 }]);
    expect(miss!.regions).toEqual([{ x: 0, y: 0, w: 20, h: 40 }]);
  });
});
