import { describe, expect, it } from 'vitest';
import type { Rect } from './geometry.ts';
import type { Detection } from './pipeline.ts';
import { flickerFrames, Tracker, type TrackerOptions } from './tracking.ts';

const OPTIONS: TrackerOptions = {
  iouThreshold: 0.2,
  maxMissed: 2,
  holdBefore: 0,
  holdAfter: 0,
  grow: 0,
  width: 1000,
  height: 1000,
};

const face = (x: number, y: number, size = 40, score = 0.9): Detection => ({
  label: 'face',
  score,
  box: { x, y, width: size, height: size },
  region: { x, y, width: size, height: size },
  shape: 'ellipse',
  source: 'model',
});

/** Feeds `runs` (frame → detections) in order and returns the tracker. */
function track(runs: readonly [number, Detection[]][], options: Partial<TrackerOptions> = {}): Tracker {
  const tracker = new Tracker({ ...OPTIONS, ...options });
  for (const [frame, detections] of runs) tracker.observe(frame, detections);
  return tracker;
}

describe('Tracker', () => {
  it.each([
    {
      name: 'a face moving steadily keeps one id',
      runs: [
        [0, [face(100, 100)]],
        [5, [face(120, 100)]],
        [10, [face(140, 100)]],
      ] as [number, Detection[]][],
      tracks: 1,
    },
    {
      name: 'two faces far apart are two tracks',
      runs: [
        [0, [face(100, 100), face(600, 600)]],
        [5, [face(105, 100), face(605, 600)]],
      ] as [number, Detection[]][],
      tracks: 2,
    },
    {
      name: 'a fast face is followed through its predicted motion',
      runs: [
        [0, [face(100, 100)]],
        [5, [face(160, 100)]],
        [10, [face(220, 100)]],
        [15, [face(280, 100)]],
      ] as [number, Detection[]][],
      tracks: 1,
    },
    {
      name: 'a face reappearing after maxMissed missed runs is a new track',
      runs: [
        [0, [face(100, 100)]],
        [5, []],
        [10, []],
        [15, []],
        [20, [face(100, 100)]],
      ] as [number, Detection[]][],
      tracks: 2,
    },
    {
      name: 'a face missed for maxMissed runs is the same track',
      runs: [
        [0, [face(100, 100)]],
        [5, []],
        [10, []],
        [15, [face(100, 100)]],
      ] as [number, Detection[]][],
      tracks: 1,
    },
  ])('$name', ({ runs, tracks }) => {
    expect(track(runs).summaries()).toHaveLength(tracks);
  });

  it('interpolates between sightings and marks carried frames as tracker', () => {
    const t = track([
      [0, [face(100, 100)]],
      [10, [face(160, 100)]],
    ]);
    expect(t.at(0)).toMatchObject([{ source: 'model', track: 1, region: { x: 100, y: 100 } }]);
    expect(t.at(5)).toMatchObject([{ source: 'tracker', track: 1, region: { x: 130, y: 100, width: 40 } }]);
    expect(t.at(10)).toMatchObject([{ source: 'model', region: { x: 160 } }]);
  });

  it('covers missed runs along the motion and counts them as misses once seen again', () => {
    const t = track([
      [0, [face(100, 100)]],
      [5, [face(150, 100)]],
      [10, []],
      [15, [face(250, 100)]],
    ]);
    const at10 = t.at(10)[0]!;
    expect(at10.region.x).toBe(200);
    expect(t.summaries()[0]).toMatchObject({ sightings: 3, misses: 1, firstFrame: 0, lastFrame: 15 });
  });

  it.each([
    { frame: -3, covered: false },
    { frame: -2, covered: true },
    { frame: 0, covered: true },
    { frame: 10, covered: true },
    { frame: 13, covered: true },
    { frame: 14, covered: false },
  ])('holds regions 2 frames before and 3 after: frame $frame covered=$covered', ({ frame, covered }) => {
    const t = track(
      [
        [0, [face(100, 100)]],
        [10, [face(100, 100)]],
        [20, []],
        [30, []],
        [40, []],
      ],
      { holdBefore: 2, holdAfter: 3, maxMissed: 0 },
    );
    expect(t.at(frame).length > 0).toBe(covered);
  });

  it('keeps a live track covered while it coasts, and until its last live run once it ends', () => {
    const t = track(
      [
        [0, [face(100, 100)]],
        [5, []],
        [10, []],
        [15, []],
      ],
      { maxMissed: 2 },
    );
    expect(t.at(10)).toHaveLength(1);
    expect(t.at(11)).toHaveLength(0);
  });

  it('grows carried regions and clips them to the frame', () => {
    const t = track(
      [
        [0, [face(0, 0, 100)]],
        [10, [face(0, 0, 100)]],
      ],
      { grow: 0.2 },
    );
    expect(t.at(5)[0]!.region).toEqual({ x: 0, y: 0, width: 110, height: 110 });
    expect(t.at(0)[0]!.region).toEqual({ x: 0, y: 0, width: 100, height: 100 });
  });

  it('never mixes labels', () => {
    const plate: Detection = { ...face(100, 100), label: 'plate', shape: 'rect' };
    const t = track([
      [0, [face(100, 100)]],
      [5, [plate]],
    ]);
    expect(t.summaries().map((s) => s.label)).toEqual(['face', 'plate']);
  });

  it('refuses runs out of order', () => {
    const t = track([[5, []]]);
    expect(() => t.observe(5, [])).toThrow(RangeError);
  });

  it('answers the same after forgetting frames already emitted', () => {
    const runs: [number, Detection[]][] = Array.from({ length: 20 }, (_, i) => [
      i * 5,
      [face(100 + i * 10, 100)],
    ]);
    const a = track(runs);
    const b = track(runs);
    b.forget(60);
    for (const frame of [60, 62, 70, 94, 95]) expect(b.at(frame)).toEqual(a.at(frame));
  });
});

describe('flickerFrames', () => {
  const box: Rect = { x: 10, y: 10, width: 10, height: 10 };
  it.each([
    { name: 'covered everywhere', covered: [[box], [{ x: 0, y: 0, width: 50, height: 50 }]], expected: [] },
    { name: 'one frame bare', covered: [[box], []], expected: [1] },
    { name: 'half covered', covered: [[box], [{ x: 10, y: 10, width: 5, height: 10 }]], expected: [1] },
    {
      name: 'covered by two regions together',
      covered: [
        [box],
        [
          { x: 10, y: 10, width: 5, height: 10 },
          { x: 15, y: 10, width: 5, height: 10 },
        ],
      ],
      expected: [],
    },
  ])('$name', ({ covered, expected }) => {
    expect(flickerFrames([[box], [box]], covered)).toEqual(expected);
  });
});
