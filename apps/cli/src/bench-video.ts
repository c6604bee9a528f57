import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Config, Nestor, ProcessOptions } from '@nestor/core';
import { anonymizeVideo, encoderArgs } from '@nestor/video';

const run = promisify(execFile);

/** Clip sizes benchmarked: 4 s at 25 fps with a tone. */
export const VIDEO_BENCH_SIZES = [
  { name: '720p', width: 1280, height: 720 },
  { name: '1080p', width: 1920, height: 1080 },
] as const;
const SECONDS = 4;
const RATE = 25;

export interface VideoBenchRow {
  size: string;
  frames: number;
  detectEvery: number;
  x264Preset: string;
  /** Median seconds of Nestor's anonymization and of a plain ffmpeg decode + encode with the same encoder settings. */
  nestorSeconds: number;
  plainSeconds: number;
  nestorFps: number;
  plainFps: number;
  /** Nestor's speed relative to the plain transcode (1 = as fast). */
  ratio: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Video speed: a generated clip per size (moving test pattern + tone) is anonymized by Nestor and
 * transcoded by a plain ffmpeg with the same encoder settings, alternately (the machine's load
 * hits both alike); medians of `runs`.
 */
export async function benchVideo(
  nestor: Nestor,
  options: ProcessOptions,
  runs: number,
): Promise<VideoBenchRow[]> {
  const config: Config = nestor.config;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nestor-bench-video-'));
  const rows: VideoBenchRow[] = [];
  try {
    for (const size of VIDEO_BENCH_SIZES) {
      const clip = path.join(dir, `${size.name}.mp4`);
      await run('ffmpeg', [
        ...['-hide_banner', '-loglevel', 'error', '-y'],
        ...[
          '-f',
          'lavfi',
          '-i',
          `testsrc2=size=${size.width}x${size.height}:rate=${RATE}:duration=${SECONDS}`,
        ],
        ...['-f', 'lavfi', '-i', `sine=frequency=440:duration=${SECONDS}`],
        ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', clip],
      ]);
      const settings = {
        container: 'mp4' as const,
        x264Preset: config.video.x264Preset,
        crf: config.video.crf,
        keepMetadata: false,
      };
      const plainArgs = [
        ...[
          '-hide_banner',
          '-loglevel',
          'error',
          '-nostdin',
          '-i',
          clip,
          '-map',
          '0:v:0',
          '-map',
          '0:a?',
          '-c:a',
          'copy',
        ],
        ...encoderArgs(settings, size.width, size.height),
        '-y',
        path.join(dir, 'plain.mp4'),
      ];
      const nestorTimes: number[] = [];
      const plainTimes: number[] = [];
      let frames = 0;
      for (let i = 0; i < Math.max(1, runs); i++) {
        let t = performance.now();
        await run('ffmpeg', plainArgs);
        plainTimes.push((performance.now() - t) / 1000);
        t = performance.now();
        const result = await anonymizeVideo(nestor, {
          input: clip,
          output: path.join(dir, 'nestor.mp4'),
          options,
        });
        nestorTimes.push((performance.now() - t) / 1000);
        frames = result.video.frames;
      }
      const nestorSeconds = median(nestorTimes);
      const plainSeconds = median(plainTimes);
      rows.push({
        size: size.name,
        frames,
        detectEvery: config.video.detectEvery,
        x264Preset: config.video.x264Preset,
        nestorSeconds: Math.round(nestorSeconds * 100) / 100,
        plainSeconds: Math.round(plainSeconds * 100) / 100,
        nestorFps: Math.round((frames / nestorSeconds) * 10) / 10,
        plainFps: Math.round((frames / plainSeconds) * 10) / 10,
        ratio: Math.round((plainSeconds / nestorSeconds) * 100) / 100,
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}
