import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { type Config, type Detection, defaultConfig, type ProcessOptions, type RawImage } from '@nestor/core';
import type { FramePipeline } from './anonymize-video.ts';

/** ffmpeg and ffprobe are on the PATH (tests that need them skip otherwise). */
export const HAS_FFMPEG =
  spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0 &&
  spawnSync('ffprobe', ['-version'], { stdio: 'ignore' }).status === 0;

/** mkvmerge (mkvtoolnix) is on the PATH: variable-rate video keeps exact timestamps. */
export const HAS_MKVMERGE = spawnSync('mkvmerge', ['--version'], { stdio: 'ignore' }).status === 0;

/** Presentation times (seconds) of a file's first video stream's packets, sorted. */
export function videoPacketTimes(file: string): number[] {
  const out = execFileSync('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time'],
    ...['-of', 'csv=p=0', file],
  ]).toString();
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => Number.parseFloat(line.split(',')[0]!))
    .sort((x, y) => x - y);
}

/** The moving magenta box of `movingBoxClip`: where it is on frame n. */
export const boxAt = (n: number) => ({ x: 20 + 4 * n, y: 100, width: 40, height: 30 });

/**
 * A short clip: a moving test pattern, a magenta box moving 4 px a frame (`boxAt`), a 440 Hz tone.
 * `filters` are appended to the video chain (e.g. re-timing); `extra` are output options.
 */
export function movingBoxClip(
  file: string,
  options: { frames?: number; rate?: number; filters?: string; extra?: string[]; rotate?: number } = {},
): void {
  const rate = options.rate ?? 25;
  const frames = options.frames ?? 30;
  const seconds = frames / rate;
  const b = boxAt(0);
  const background = [
    // A black-and-white automaton: detail everywhere and no colour the box could be mistaken for.
    `cellauto=size=320x240:rate=${rate}:rule=110:random_fill_ratio=0.4:random_seed=7`,
    `trim=duration=${seconds}`,
    'format=yuv420p',
  ].join(',');
  const moving = [
    // overlay's frame counter starts at 1 here.
    `overlay=x='${b.x - 4}+4*n':y=${b.y}:shortest=1`,
    ...(options.filters ? [options.filters] : []),
  ].join(',');
  const chain = `${background}[bg];color=c=magenta:size=${b.width}x${b.height}:rate=${rate}[box];[bg][box]${moving}[out0]`;
  execFileSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', chain],
      ...['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '10'],
      ...(file.endsWith('.webm')
        ? ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-c:a', 'libopus']
        : ['-c:a', 'aac']),
      ...(options.extra ?? []),
      options.rotate ? `${file}.plain${path.extname(file)}` : file,
    ],
    { stdio: 'inherit' },
  );
  if (options.rotate) {
    // ffmpeg 5 sets a display rotation only when copying streams.
    const plain = `${file}.plain${path.extname(file)}`;
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-i',
      plain,
      '-c',
      'copy',
      '-metadata:s:v:0',
      `rotate=${options.rotate}`,
      file,
    ]);
    rmSync(plain);
  }
}

/** Bounding box of magenta pixels, if any. */
export function findMagenta(
  image: RawImage,
): { x: number; y: number; width: number; height: number } | undefined {
  let x0 = Number.POSITIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let x1 = -1;
  let y1 = -1;
  const { data, width, height } = image;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      if (data[i]! > 180 && data[i + 1]! < 80 && data[i + 2]! > 180) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  }
  return x1 < 0 ? undefined : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/**
 * A stand-in for the models that finds the magenta box exactly, as a plate, but misses it on the
 * detector runs listed in `misses` (counted from 0): tracking must cover those frames.
 */
export function magentaPipeline(config: Config = defaultConfig(), misses: ReadonlySet<number> = new Set()) {
  let run = 0;
  const calls: number[] = [];
  const suppressed: NonNullable<ProcessOptions['suppress']>[] = [];
  const pipeline: FramePipeline & { calls: number[]; suppressed: typeof suppressed } = {
    config,
    calls,
    suppressed,
    modelIds: () => ({ plate: 'magenta@test' }),
    async detectPixels(image: RawImage, options?: ProcessOptions): Promise<Detection[]> {
      const found = findMagenta(image);
      calls.push(run);
      suppressed.push(options?.suppress ?? []);
      if (misses.has(run++) || !found) return [];
      return [{ label: 'plate', score: 0.9, box: found, region: found, shape: 'rect', source: 'model' }];
    },
    redactPixels(image, detections) {
      // Solid black, so a test can tell covered pixels from the picture.
      for (const d of detections) {
        for (let y = d.region.y; y < d.region.y + d.region.height; y++) {
          image.data.fill(
            0,
            (y * image.width + d.region.x) * 3,
            (y * image.width + d.region.x + d.region.width) * 3,
          );
        }
      }
    },
  };
  return pipeline;
}

/** Streams of a file as ffprobe reports them (frames counted). */
export function probeStreams(
  file: string,
): { codec_type: string; nb_read_frames?: string; duration?: string; width?: number; height?: number }[] {
  const out = execFileSync('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-print_format',
    'json',
    '-show_streams',
    file,
  ]).toString();
  return (JSON.parse(out) as { streams: ReturnType<typeof probeStreams> }).streams;
}
