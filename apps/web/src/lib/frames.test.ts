import type { DetectionResult } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { firstFrameWithRegions, frameKind, regionsOfFrame } from './frames.ts';

const box = { x: 1, y: 2, width: 3, height: 4 };
const region = (label: 'face' | 'plate', source: 'model' | 'tracker' | 'manual') => ({
  label,
  score: 0.9,
  box,
  region: box,
  shape: 'ellipse' as const,
  source,
});

const base: DetectionResult = {
  image: { width: 10, height: 10, format: 'jpeg' },
  detections: [{ ...region('face', 'model'), source: 'model' }],
  counts: { face: 1, plate: 0 },
  timings: { decodeMs: 0, detectMs: 0, redactMs: 0, encodeMs: 0, totalMs: 0 },
  engine: 'test',
  models: {},
};

const animated: DetectionResult = {
  ...base,
  image: { width: 10, height: 10, format: 'gif', frames: 4, delaysMs: [80, 80, 80, 80], loop: 0 },
  detections: [],
  frames: [
    { index: 1, timeMs: 80, detections: [{ ...region('face', 'model'), track: 1 }] },
    {
      index: 2,
      timeMs: 160,
      detections: [{ ...region('face', 'tracker'), track: 1 }, region('plate', 'manual')],
    },
  ],
  tracks: [{ id: 1, label: 'face', firstFrame: 1, lastFrame: 2, sightings: 1, misses: 0, maxScore: 0.9 }],
};

const pages: DetectionResult = {
  ...base,
  image: { width: 10, height: 10, format: 'tiff', frames: 3 },
  detections: [],
  frames: [{ index: 2, timeMs: 0, detections: [region('face', 'model')] }],
  tracks: [],
};

describe('frames of a result', () => {
  it.each([
    { name: 'still', result: base, kind: 'still', first: 0, perFrame: [1, 1, 1, 1] },
    { name: 'animation', result: animated, kind: 'animation', first: 1, perFrame: [0, 1, 2, 0] },
    { name: 'pages', result: pages, kind: 'pages', first: 2, perFrame: [0, 0, 1, 0] },
    {
      name: 'one-frame GIF',
      result: { ...base, image: { ...base.image, frames: 1 } },
      kind: 'still',
      first: 0,
      perFrame: [1, 1, 1, 1],
    },
  ])('$name: kind $kind, first frame with regions $first', ({ result, kind, first, perFrame }) => {
    expect(frameKind(result)).toBe(kind);
    expect(firstFrameWithRegions(result)).toBe(first);
    expect([0, 1, 2, 3].map((i) => regionsOfFrame(result, i).length)).toEqual(perFrame);
  });
});
