import type { AnimatedImage, Nestor, ProcessOptions, RawImage } from '@nestor/core';
import { createSharpCodec } from '@nestor/engine-node';

export interface AnimatedBenchRow {
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  /** Median anonymize time of the first frame alone (PNG) and of the whole animated GIF, ms. */
  readonly stillMs: number;
  readonly animatedMs: number;
  readonly detectMs: number;
  readonly encodeMs: number;
  /** animated / still. */
  readonly ratio: number;
}

/** Animations benchmarked: short (every frame detected) and long (a run every video.detectEvery-th). */
const ANIMATIONS = [
  { frames: 20, width: 480, height: 360 },
  { frames: 60, width: 480, height: 360 },
] as const;

/** Textured frames (detector views are not empty) with a bright square walking 8 px a frame. */
function frame(width: number, height: number, index: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inSquare = x - index * 8 >= 20 && x - index * 8 < 100 && y >= 100 && y < 180;
      const v = inSquare ? 240 : ((x >> 4) + (y >> 4)) % 2 === 0 ? 70 : 110;
      data.set([v, v, (v + 40) % 256], (y * width + x) * 3);
    }
  }
  return { width, height, channels: 3, data };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * `nestor bench --only animated`: anonymizing an animated GIF against its first frame alone
 * (same size, PNG), medians of `runs`.
 */
export async function benchAnimated(
  nestor: Nestor,
  options: ProcessOptions,
  runs: number,
): Promise<AnimatedBenchRow[]> {
  const codec = createSharpCodec();
  const rows: AnimatedBenchRow[] = [];
  for (const { frames: count, width, height } of ANIMATIONS) {
    const frames = Array.from({ length: count }, (_, i) => frame(width, height, i));
    const animation: AnimatedImage = { frames, delays: frames.map(() => 80), loop: 0 };
    const original = { image: frames[0]!, format: 'png' as const, source: new Uint8Array() };
    const plain = { quality: 90, keepMetadata: false };
    const gif = await codec.encode(animation, { ...plain, format: 'gif' }, original);
    const still = await codec.encode(frames[0]!, { ...plain, format: 'png' }, original);
    await nestor.anonymize(still, options);
    const stillMs: number[] = [];
    const animated: { totalMs: number; detectMs: number; encodeMs: number }[] = [];
    for (let i = 0; i < Math.max(1, runs); i++) {
      stillMs.push((await nestor.anonymize(still, options)).result.timings.totalMs);
      animated.push((await nestor.anonymize(gif, options)).result.timings);
    }
    const animatedMs = median(animated.map((a) => a.totalMs));
    const still1 = median(stillMs);
    rows.push({
      frames: count,
      width,
      height,
      stillMs: Math.round(still1),
      animatedMs: Math.round(animatedMs),
      detectMs: Math.round(median(animated.map((a) => a.detectMs))),
      encodeMs: Math.round(median(animated.map((a) => a.encodeMs))),
      ratio: Math.round((animatedMs / still1) * 10) / 10,
    });
  }
  return rows;
}
