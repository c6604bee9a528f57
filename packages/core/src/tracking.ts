import type { Config, Label } from './config.ts';
import { iou, type Rect } from './geometry.ts';
import type { BoxJson, Detection } from './pipeline.ts';
import type { RegionShape } from './redact.ts';

/** How detections become tracks, and how long a track stays covered around its sightings. */
export interface TrackerOptions {
  /** A detection continues a track when its box overlaps the track's predicted box at least this much. */
  readonly iouThreshold: number;
  /** Detector runs in a row a track may be missed and live on (covered at its predicted place). */
  readonly maxMissed: number;
  /** Frames covered before a track's first sighting. */
  readonly holdBefore: number;
  /** Frames covered after a track's last sighting. */
  readonly holdAfter: number;
  /** Regions of frames without a sighting are grown by this share of their size (motion is not linear). */
  readonly grow: number;
  /** Frame size: regions are clipped to it. */
  readonly width: number;
  readonly height: number;
}

/** A region to cover on one frame, from a track: seen there (`model`) or carried by the tracker. */
export interface TrackedDetection extends Omit<Detection, 'source'> {
  readonly source: 'model' | 'tracker';
  readonly track: number;
}

/** A region on one frame (video or animated image), as in the detections schema, with its track. */
export interface FrameDetection extends Omit<Detection, 'source'> {
  readonly source: 'model' | 'tracker' | 'manual';
  readonly track?: number;
}

/** The regions of one frame; results list only frames with at least one. */
export interface FrameDetections {
  index: number;
  /** From the first frame's start. */
  timeMs: number;
  detections: FrameDetection[];
}

/**
 * Tracker options for a detector run on every `detectEvery`-th frame: between two runs an object
 * may appear or vanish unseen, so the holds span that gap too.
 */
export function trackerOptions(
  tracking: Config['video']['tracking'],
  detectEvery: number,
  width: number,
  height: number,
): TrackerOptions {
  return {
    iouThreshold: tracking.iouThreshold,
    maxMissed: tracking.maxMissed,
    holdBefore: tracking.holdBefore + detectEvery - 1,
    holdAfter: tracking.holdAfter + detectEvery - 1,
    grow: tracking.grow,
    width,
    height,
  };
}

/** One tracked object as reported in the video detections JSON. */
export interface TrackSummary {
  readonly id: number;
  readonly label: Label;
  /** First and last frames where the detector saw it. */
  readonly firstFrame: number;
  readonly lastFrame: number;
  /** Detector runs that found it. */
  readonly sightings: number;
  /** Detector runs between its first and last sighting that missed it (the tracker covered those). */
  readonly misses: number;
  readonly maxScore: number;
}

interface Sighting {
  readonly frame: number;
  readonly box: Rect;
  readonly region: Rect;
  readonly score: number;
}

interface Track {
  readonly id: number;
  readonly label: Label;
  readonly shape: RegionShape;
  readonly firstFrame: number;
  /** Sightings still needed to answer `at()` (older ones are forgotten), in frame order. */
  sightings: Sighting[];
  /** The first two sightings ever, for the motion before the first one. */
  readonly head: Sighting[];
  /** Consecutive detector runs that missed it; the track ends beyond `maxMissed`. */
  missed: number;
  alive: boolean;
  /** Frame of the last detector run during which the track was alive. */
  lastAlive: number;
  count: number;
  misses: number;
  pendingMisses: number;
  maxScore: number;
}

const centre = (r: Rect) => ({ x: r.x + r.width / 2, y: r.y + r.height / 2 });

/** Farthest a detection's centre may be from a track's predicted centre, in predicted box sizes. */
const MAX_CENTRE_DISTANCE = 1.5;

function centreDistance(predicted: Rect, box: Rect): number {
  const a = centre(predicted);
  const b = centre(box);
  return Math.hypot(a.x - b.x, a.y - b.y) / Math.max(1, predicted.width, predicted.height);
}

/** Constant-velocity motion of a box's centre between two sightings, per frame. */
function velocity(a: Sighting, b: Sighting): { x: number; y: number } {
  const dt = b.frame - a.frame;
  if (dt <= 0) return { x: 0, y: 0 };
  const ca = centre(a.box);
  const cb = centre(b.box);
  return { x: (cb.x - ca.x) / dt, y: (cb.y - ca.y) / dt };
}

const shift = (r: Rect, dx: number, dy: number): Rect => ({ ...r, x: r.x + dx, y: r.y + dy });

const lerp = (a: Rect, b: Rect, t: number): Rect => ({
  x: a.x + (b.x - a.x) * t,
  y: a.y + (b.y - a.y) * t,
  width: a.width + (b.width - a.width) * t,
  height: a.height + (b.height - a.height) * t,
});

const union = (a: Rect, b: Rect): Rect => {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(a.x + a.width, b.x + b.width) - x,
    height: Math.max(a.y + a.height, b.y + b.height) - y,
  };
};

const grown = (r: Rect, share: number): Rect => ({
  x: r.x - (r.width * share) / 2,
  y: r.y - (r.height * share) / 2,
  width: r.width * (1 + share),
  height: r.height * (1 + share),
});

function toBox(r: Rect, width: number, height: number): BoxJson {
  const x0 = Math.max(0, Math.floor(r.x));
  const y0 = Math.max(0, Math.floor(r.y));
  const x1 = Math.min(width, Math.ceil(r.x + r.width));
  const y1 = Math.min(height, Math.ceil(r.y + r.height));
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

/**
 * Tracks detections across video frames: each detector run is associated with the live tracks by
 * IoU against their constant-velocity predictions; a track lives through `maxMissed` missed runs.
 * `at(frame)` then says what to cover on any frame: boxes interpolated between sightings, carried
 * along the motion when missed, held `holdBefore`/`holdAfter` frames around first and last sight.
 *
 * Runs must be observed in frame order; `at(f)` is final once every run up to `f + holdBefore`
 * has been observed (a caller keeps that many frames of lookahead).
 */
export class Tracker {
  private readonly tracks: Track[] = [];
  private nextId = 1;
  private lastRun = -1;

  constructor(private readonly options: TrackerOptions) {}

  /** Feeds the detector's findings on `frame` (every detector run, even one that found nothing). */
  observe(frame: number, detections: readonly Detection[]): void {
    if (frame <= this.lastRun) throw new RangeError(`frame ${frame} observed after ${this.lastRun}`);
    this.lastRun = frame;
    const live = this.tracks.filter((t) => t.alive);
    const pairs: { track: Track; detection: Detection; quality: number }[] = [];
    for (const track of live) {
      const predicted = this.predict(track, frame);
      for (const detection of detections) {
        if (detection.label !== track.label) continue;
        const overlap = iou(predicted, detection.box);
        // Small fast objects may not overlap their prediction: a centre close to it still counts,
        // ranked after every overlapping pair.
        const distance = centreDistance(predicted, detection.box);
        if (overlap >= this.options.iouThreshold) pairs.push({ track, detection, quality: 1 + overlap });
        else if (distance <= MAX_CENTRE_DISTANCE)
          pairs.push({ track, detection, quality: 1 - distance / MAX_CENTRE_DISTANCE });
      }
    }
    pairs.sort((a, b) => b.quality - a.quality);
    const usedTracks = new Set<Track>();
    const usedDetections = new Set<Detection>();
    for (const { track, detection } of pairs) {
      if (usedTracks.has(track) || usedDetections.has(detection)) continue;
      usedTracks.add(track);
      usedDetections.add(detection);
      this.sight(track, frame, detection);
    }
    for (const track of live) {
      if (usedTracks.has(track)) continue;
      track.missed++;
      track.pendingMisses++;
      if (track.missed > this.options.maxMissed) track.alive = false;
      else track.lastAlive = frame;
    }
    for (const detection of detections) {
      if (usedDetections.has(detection)) continue;
      const sighting = { frame, box: detection.box, region: detection.region, score: detection.score };
      this.tracks.push({
        id: this.nextId++,
        label: detection.label,
        shape: detection.shape,
        firstFrame: frame,
        sightings: [sighting],
        head: [sighting],
        missed: 0,
        alive: true,
        lastAlive: frame,
        count: 1,
        misses: 0,
        pendingMisses: 0,
        maxScore: detection.score,
      });
    }
  }

  /** What to cover on `frame`, one entry per track present there. */
  at(frame: number): TrackedDetection[] {
    const { holdBefore, holdAfter, grow, width, height } = this.options;
    const out: TrackedDetection[] = [];
    for (const track of this.tracks) {
      const first = track.head[0]!;
      const last = track.sightings[track.sightings.length - 1]!;
      const end = Math.max(last.frame + holdAfter, track.alive ? Number.POSITIVE_INFINITY : track.lastAlive);
      if (frame < first.frame - holdBefore || frame > end) continue;
      let box: Rect;
      let region: Rect;
      let seen = false;
      let score = last.score;
      if (frame < first.frame) {
        // Before the first sighting: where it was, and where its motion says it came from.
        const v = track.head[1] ? velocity(first, track.head[1]) : { x: 0, y: 0 };
        const dt = frame - first.frame;
        box = union(first.box, shift(first.box, v.x * dt, v.y * dt));
        region = union(first.region, shift(first.region, v.x * dt, v.y * dt));
        score = first.score;
      } else if (frame >= last.frame) {
        const prev = track.sightings[track.sightings.length - 2];
        const v = prev ? velocity(prev, last) : { x: 0, y: 0 };
        const dt = frame - last.frame;
        seen = dt === 0;
        box = union(last.box, shift(last.box, v.x * dt, v.y * dt));
        region = union(last.region, shift(last.region, v.x * dt, v.y * dt));
      } else {
        let i = track.sightings.length - 2;
        while (i > 0 && track.sightings[i]!.frame > frame) i--;
        const a = track.sightings[i]!;
        const b = track.sightings[i + 1]!;
        const t = (frame - a.frame) / (b.frame - a.frame);
        seen = t === 0;
        box = lerp(a.box, b.box, t);
        region = lerp(a.region, b.region, t);
        score = Math.min(a.score, b.score);
      }
      if (!seen) region = grown(region, grow);
      const r = toBox(region, width, height);
      if (r.width <= 0 || r.height <= 0) continue;
      out.push({
        label: track.label,
        score,
        box: toBox(box, width, height),
        region: r,
        shape: track.shape,
        source: seen ? 'model' : 'tracker',
        track: track.id,
      });
    }
    return out;
  }

  /** Drops what frames before `frame` alone needed (bounded memory on long videos). */
  forget(frame: number): void {
    for (const track of this.tracks) {
      let keep = track.sightings.length - 2;
      while (keep > 0 && track.sightings[keep]!.frame > frame) keep--;
      if (keep > 0) track.sightings = track.sightings.slice(keep);
    }
  }

  /** Every track so far, in order of appearance. */
  summaries(): TrackSummary[] {
    return this.tracks.map((t) => ({
      id: t.id,
      label: t.label,
      firstFrame: t.firstFrame,
      lastFrame: t.sightings[t.sightings.length - 1]!.frame,
      sightings: t.count,
      misses: t.misses,
      maxScore: t.maxScore,
    }));
  }

  private sight(track: Track, frame: number, detection: Detection): void {
    const sighting = { frame, box: detection.box, region: detection.region, score: detection.score };
    track.sightings.push(sighting);
    if (track.head.length < 2) track.head.push(sighting);
    track.count++;
    track.misses += track.pendingMisses;
    track.pendingMisses = 0;
    track.missed = 0;
    track.lastAlive = frame;
    track.maxScore = Math.max(track.maxScore, detection.score);
  }

  private predict(track: Track, frame: number): Rect {
    const last = track.sightings[track.sightings.length - 1]!;
    const prev = track.sightings[track.sightings.length - 2];
    const v = prev ? velocity(prev, last) : { x: 0, y: 0 };
    return shift(last.box, v.x * (frame - last.frame), v.y * (frame - last.frame));
  }
}

/**
 * Flicker: frames on which a known object is not fully covered by the regions drawn there.
 * `truth[f]` lists the objects' boxes on frame f, `covered[f]` the regions drawn on it.
 */
export function flickerFrames(
  truth: readonly (readonly Rect[])[],
  covered: readonly (readonly Rect[])[],
  minCoverage = 0.99,
): number[] {
  const frames: number[] = [];
  truth.forEach((objects, f) => {
    const regions = covered[f] ?? [];
    const uncovered = objects.some((o) => coveredShare(o, regions) < minCoverage);
    if (uncovered) frames.push(f);
  });
  return frames;
}

/** Share of `box`'s area inside the union of `regions` (sampled on a grid, exact enough for tests). */
function coveredShare(box: Rect, regions: readonly Rect[]): number {
  const steps = 16;
  let inside = 0;
  for (let j = 0; j < steps; j++) {
    for (let i = 0; i < steps; i++) {
      const x = box.x + ((i + 0.5) / steps) * box.width;
      const y = box.y + ((j + 0.5) / steps) * box.height;
      if (regions.some((r) => x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height)) inside++;
    }
  }
  return inside / (steps * steps);
}
