import {
  type FrameDetection,
  type FrameDetections,
  holdsAt,
  type Label,
  type ProcessOptions,
} from '@nestor/core';
import type { VideoDetections } from '@nestor/sdk';
import type { ReviewedRegion } from './engines.ts';
import { type EditableRegion, reviewedOf } from './regions.ts';

/** An area whose detections are dropped, and when: an item of the API's `suppress`. */
export interface DropArea {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly fromMs: number;
  readonly toMs: number;
}

/** What corrections are made against: the frames with regions, and how long the whole lasts. */
export interface Timeline {
  readonly frames: readonly FrameDetections[];
  readonly durationMs: number;
}

/** A video result's timeline. */
export const videoTimeline = (detections: VideoDetections): Timeline => ({
  frames: detections.frames,
  durationMs: detections.video.durationMs,
});

/** An animation result's timeline: its frames last as long as their delays together. */
export const animationTimeline = (
  frames: readonly FrameDetections[],
  delaysMs: readonly number[],
): Timeline => ({
  frames,
  durationMs: delaysMs.reduce((sum, delay) => sum + delay, 0),
});

/** A person's correction of a processed video or animation, sent with the next run. */
export type VideoFix =
  | {
      readonly id: string;
      /** A region the detectors missed: covered from `fromMs` to `toMs`. */
      readonly kind: 'cover';
      readonly region: ReviewedRegion;
      readonly fromMs: number;
      readonly toMs: number;
    }
  | {
      readonly id: string;
      /** A followed region that is not a face or plate: its detections are dropped where it went. */
      readonly kind: 'drop';
      readonly label: Label;
      readonly areas: readonly DropArea[];
      readonly fromMs: number;
      readonly toMs: number;
    };

/** How long a drawn region is covered by default: this much before and after the frame it was drawn on. */
export const COVER_AROUND_MS = 1000;

/** The API allows this many items in `addRegions` and in `suppress`. */
export const MAX_FIX_ITEMS = 1000;

/** One frame's duration in ms, from the declared rate (`30000/1001`), else from frames and duration. */
export function frameDurationMs(video: VideoDetections['video']): number {
  const [num, den] = video.frameRate.split('/').map(Number);
  if (num && den && num > 0 && den > 0) return (1000 * den) / num;
  return video.frames > 0 ? video.durationMs / video.frames : 40;
}

/** The regions of the frame shown at `timeMs`, or none when that frame has none (results list only frames with regions). */
export function regionsAt(detections: VideoDetections, timeMs: number): readonly FrameDetection[] {
  const frameMs = frameDurationMs(detections.video);
  let shown: FrameDetections | undefined;
  for (const frame of detections.frames) {
    // A player's time sits inside the frame it shows; a millisecond of slack absorbs rounding.
    if (frame.timeMs <= timeMs + 1) shown = frame;
    else break;
  }
  return shown && timeMs - shown.timeMs < frameMs ? shown.detections : [];
}

/**
 * A followed region's path as drop areas: its boxes, a run of frames at a time, each run's
 * union kept within twice its largest box (a moving object gets several areas), so the drop
 * does not sweep over a real face that passes near it.
 */
export function trackDropAreas(timeline: Timeline, track: number): DropArea[] {
  const sightings = timeline.frames.flatMap((frame) =>
    frame.detections.filter((d) => d.track === track).map((d) => ({ timeMs: frame.timeMs, box: d.box })),
  );
  const areas: DropArea[] = [];
  let open:
    | { x0: number; y0: number; x1: number; y1: number; fromMs: number; toMs: number; maxArea: number }
    | undefined;
  const close = () => {
    if (open) {
      areas.push({
        x: open.x0,
        y: open.y0,
        width: open.x1 - open.x0,
        height: open.y1 - open.y0,
        fromMs: open.fromMs,
        toMs: open.toMs,
      });
    }
  };
  for (const { timeMs, box } of sightings) {
    const area = box.width * box.height;
    if (open) {
      const x0 = Math.min(open.x0, box.x);
      const y0 = Math.min(open.y0, box.y);
      const x1 = Math.max(open.x1, box.x + box.width);
      const y1 = Math.max(open.y1, box.y + box.height);
      const maxArea = Math.max(open.maxArea, area);
      if ((x1 - x0) * (y1 - y0) <= 2 * maxArea) {
        open = { x0, y0, x1, y1, fromMs: open.fromMs, toMs: timeMs, maxArea };
        continue;
      }
      close();
    }
    open = {
      x0: box.x,
      y0: box.y,
      x1: box.x + box.width,
      y1: box.y + box.height,
      fromMs: timeMs,
      toMs: timeMs,
      maxArea: area,
    };
  }
  close();
  return areas;
}

/** The corrections as items of the API's `addRegions` and `suppress`. */
export interface FixItems {
  readonly addRegions: NonNullable<ProcessOptions['addRegions']>;
  readonly suppress: NonNullable<ProcessOptions['suppress']>;
}

/** The run options a list of fixes asks for. */
export function fixOptions(fixes: readonly VideoFix[]): FixItems {
  return {
    addRegions: fixes.flatMap((f) =>
      f.kind === 'cover' ? [{ ...f.region, fromMs: f.fromMs, toMs: f.toMs }] : [],
    ),
    suppress: fixes.flatMap((f) => (f.kind === 'drop' ? f.areas : [])),
  };
}

/** What the frame editor starts from: the frame's followed regions, then the cover fixes that hold there. */
export function editorRegions(
  frame: readonly FrameDetection[],
  fixes: readonly VideoFix[],
  timeMs: number,
): EditableRegion[] {
  const found = frame.flatMap((d): EditableRegion[] =>
    d.source === 'manual' || d.track === undefined
      ? []
      : [
          {
            id: `track-${d.track}`,
            label: d.label,
            ...d.region,
            shape: d.shape,
            source: 'model',
            score: d.score,
          },
        ],
  );
  const covers = fixes.flatMap((f): EditableRegion[] =>
    f.kind === 'cover' && holdsAt(f, timeMs) ? [{ id: f.id, ...f.region, source: 'manual', score: 1 }] : [],
  );
  return [...found, ...covers];
}

const sameRect = (a: ReviewedRegion, b: ReviewedRegion) =>
  a.label === b.label &&
  a.shape === b.shape &&
  a.x === b.x &&
  a.y === b.y &&
  a.width === b.width &&
  a.height === b.height;

/**
 * The fixes after a frame was edited at `timeMs`:
 * - a followed region removed: its track is dropped wherever it went;
 * - a followed region moved or resized: the track stays (removing a region must be explicit)
 *   and the new rectangle is covered around this frame too;
 * - a new region: covered around this frame;
 * - a cover fix that held here, removed or changed: removed or changed, its span kept.
 */
export function applyFrameEdit(
  fixes: readonly VideoFix[],
  before: readonly EditableRegion[],
  after: readonly EditableRegion[],
  context: { timeline: Timeline; timeMs: number; newId: () => string },
): VideoFix[] {
  const { timeline, timeMs, newId } = context;
  const kept = new Map(after.map((r) => [r.id, r]));
  const fromMs = Math.max(0, Math.round(timeMs - COVER_AROUND_MS));
  const toMs = Math.min(timeline.durationMs, Math.round(timeMs + COVER_AROUND_MS));
  const next: VideoFix[] = fixes.flatMap((fix): VideoFix[] => {
    if (fix.kind !== 'cover' || !before.some((r) => r.id === fix.id)) return [fix];
    const edited = kept.get(fix.id);
    return edited ? [{ ...fix, region: reviewedOf(edited) }] : [];
  });
  for (const region of before) {
    if (!region.id.startsWith('track-')) continue;
    const edited = kept.get(region.id);
    if (edited && sameRect(edited, region)) continue;
    if (edited) {
      next.push({ id: newId(), kind: 'cover', region: reviewedOf(edited), fromMs, toMs });
      continue;
    }
    const areas = trackDropAreas(timeline, Number(region.id.slice('track-'.length)));
    if (areas.length === 0) continue;
    next.push({
      id: newId(),
      kind: 'drop',
      label: region.label,
      areas,
      fromMs: Math.min(...areas.map((a) => a.fromMs)),
      toMs: Math.max(...areas.map((a) => a.toMs)),
    });
  }
  const known = new Set(before.map((r) => r.id));
  for (const region of after) {
    if (!known.has(region.id))
      next.push({ id: newId(), kind: 'cover', region: reviewedOf(region), fromMs, toMs });
  }
  return next;
}

/** Whether the fixes fit in one request (the API's item limits). */
export function fixesFit(fixes: readonly VideoFix[]): boolean {
  const { addRegions, suppress } = fixOptions(fixes);
  return addRegions.length <= MAX_FIX_ITEMS && suppress.length <= MAX_FIX_ITEMS;
}
