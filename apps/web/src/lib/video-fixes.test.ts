import type { FrameDetection } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import type { EditableRegion } from './regions.ts';
import { videoDetections } from './video-detections.fixture.ts';
import {
  animationTimeline,
  applyFrameEdit,
  editorRegions,
  fixesFit,
  fixOptions,
  frameDurationMs,
  regionsAt,
  trackDropAreas,
  type VideoFix,
  videoTimeline,
} from './video-fixes.ts';

const box = (x: number, y = 10, side = 20) => ({ x, y, width: side, height: side });

const found = (track: number, x: number, source: FrameDetection['source'] = 'model'): FrameDetection => ({
  label: 'face',
  score: 0.9,
  box: box(x),
  region: box(x - 2),
  shape: 'ellipse',
  source,
  track,
});

/** 25 fps, 2 s: frames 40 ms apart; track 1 walks right 4 px a frame from frame 0 to 9, track 2 stands still. */
function clip() {
  const frames = Array.from({ length: 10 }, (_, index) => ({
    index,
    timeMs: index * 40,
    detections: [found(1, 100 + index * 4), found(2, 300)],
  }));
  return videoDetections({
    frames,
    counts: { face: 2, plate: 0 },
  });
}

const ids = () => {
  let n = 0;
  return () => `fix${++n}`;
};

describe('frameDurationMs', () => {
  it.each([
    { frameRate: '25/1', expected: 40 },
    { frameRate: '30000/1001', expected: 1000 / (30000 / 1001) },
    { frameRate: '0/0', expected: 2000 / 50 },
  ])('$frameRate: $expected ms', ({ frameRate, expected }) => {
    expect(frameDurationMs({ ...clip().video, frameRate })).toBeCloseTo(expected, 9);
  });
});

describe('regionsAt: the regions of the frame a player shows', () => {
  it.each([
    { timeMs: 0, tracks: [1, 2] },
    { timeMs: 39, tracks: [1, 2] },
    { timeMs: 360.2, tracks: [1, 2] },
    // Frame 10 (400 ms) has no regions: the last listed frame is not shown any more.
    { timeMs: 400, tracks: [] },
    { timeMs: 1999, tracks: [] },
  ])('at $timeMs ms: tracks $tracks', ({ timeMs, tracks }) => {
    expect(regionsAt(clip(), timeMs).map((d) => d.track)).toEqual(tracks);
  });

  it('picks the frame the time falls in', () => {
    expect(regionsAt(clip(), 85)[0]?.box.x).toBe(108);
  });
});

describe('trackDropAreas: where a dropped region went', () => {
  it('a region that stands still is one area over its whole span', () => {
    expect(trackDropAreas(videoTimeline(clip()), 2)).toEqual([{ ...box(300), fromMs: 0, toMs: 360 }]);
  });

  it('a moving region is split so that no area grows past twice its box', () => {
    const areas = trackDropAreas(videoTimeline(clip()), 1);
    expect(areas.length).toBeGreaterThan(1);
    for (const a of areas) expect(a.width * a.height).toBeLessThanOrEqual(2 * 20 * 20);
    // Together the areas hold every box of the track, each in the area of its time.
    for (const frame of clip().frames) {
      const d = frame.detections.find((x) => x.track === 1)!;
      const area = areas.find((a) => a.fromMs <= frame.timeMs && frame.timeMs <= a.toMs)!;
      expect(d.box.x).toBeGreaterThanOrEqual(area.x);
      expect(d.box.x + d.box.width).toBeLessThanOrEqual(area.x + area.width);
    }
    expect(areas[0]!.fromMs).toBe(0);
    expect(areas.at(-1)!.toMs).toBe(360);
  });

  it('a track that is not there has no area', () => {
    expect(trackDropAreas(videoTimeline(clip()), 9)).toEqual([]);
  });
});

const cover: VideoFix = {
  id: 'c1',
  kind: 'cover',
  region: { label: 'plate', x: 5, y: 6, width: 40, height: 10, shape: 'rect' },
  fromMs: 100,
  toMs: 900,
};

describe('editorRegions', () => {
  it('lists the followed regions of the frame, then the cover fixes that hold at that time', () => {
    const frame = [found(1, 100), found(7, 50, 'manual')];
    const later: VideoFix = { ...cover, id: 'c2', fromMs: 1500, toMs: 1800 };
    expect(editorRegions(frame, [cover, later], 120)).toEqual([
      { id: 'track-1', label: 'face', ...box(98), shape: 'ellipse', source: 'model', score: 0.9 },
      { id: 'c1', ...cover.region, source: 'manual', score: 1 },
    ]);
  });
});

describe('applyFrameEdit', () => {
  const detections = clip();
  const before = editorRegions(regionsAt(detections, 120), [cover], 120);
  const edit = (after: EditableRegion[]) =>
    applyFrameEdit([cover], before, after, {
      timeline: videoTimeline(detections),
      timeMs: 120,
      newId: ids(),
    });
  const [walker, stander, covered] = before as [EditableRegion, EditableRegion, EditableRegion];

  it('nothing changed: the same fixes', () => {
    expect(edit([...before])).toEqual([cover]);
  });

  it('a followed region removed: its track is dropped wherever it went', () => {
    const fixes = edit([walker, covered]);
    expect(fixes).toEqual([
      cover,
      {
        id: 'fix1',
        kind: 'drop',
        label: 'face',
        areas: trackDropAreas(videoTimeline(detections), 2),
        fromMs: 0,
        toMs: 360,
      },
    ]);
  });

  it('a followed region made larger: the track stays and the larger one is covered around this frame', () => {
    const fixes = edit([{ ...walker, width: 60 }, stander, covered]);
    expect(fixes).toEqual([
      cover,
      { id: 'fix1', kind: 'cover', region: { ...plainOf(walker), width: 60 }, fromMs: 0, toMs: 1120 },
    ]);
  });

  it('a new region is covered for a second each side, within the video', () => {
    const drawn: EditableRegion = { ...walker, id: 'm1', x: 500, source: 'manual' };
    const fixes = applyFrameEdit([], before, [...before, drawn], {
      timeline: videoTimeline(detections),
      timeMs: 1500,
      newId: ids(),
    });
    expect(fixes).toEqual([{ id: 'fix1', kind: 'cover', region: plainOf(drawn), fromMs: 500, toMs: 2000 }]);
  });

  it('a cover fix edited here keeps its span; removed here, it is gone', () => {
    expect(edit([walker, stander, { ...covered, x: 9 }])).toEqual([
      { ...cover, region: { ...cover.region, x: 9 } },
    ]);
    expect(edit([walker, stander])).toEqual([]);
  });
});

describe('fixOptions and fixesFit', () => {
  it('covers become addRegions with their span, drops their areas in suppress', () => {
    const drop: VideoFix = {
      id: 'd1',
      kind: 'drop',
      label: 'face',
      areas: [{ ...box(1), fromMs: 0, toMs: 40 }],
      fromMs: 0,
      toMs: 40,
    };
    expect(fixOptions([cover, drop])).toEqual({
      addRegions: [{ ...cover.region, fromMs: 100, toMs: 900 }],
      suppress: [{ ...box(1), fromMs: 0, toMs: 40 }],
    });
    expect(fixesFit([cover, drop])).toBe(true);
    const many: VideoFix = { ...drop, areas: Array.from({ length: 1001 }, () => drop.areas[0]!) };
    expect(fixesFit([many])).toBe(false);
  });
});

function plainOf({ label, x, y, width, height, shape }: EditableRegion) {
  return { label, x, y, width, height, shape };
}

describe('animationTimeline', () => {
  it('lasts as long as all the delays', () => {
    expect(animationTimeline([], [80, 80, 400])).toEqual({ frames: [], durationMs: 560 });
  });
});
