import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Nestor, NestorError, type ProcessOptions, sniffImageFormat, type Timings } from '@nestor/core';
import { resizedJpeg, timeDecodeEncode, uprightJpeg } from '@nestor/engine-node';
import { benchAnimated } from './bench-animated.ts';
import { benchVideo, type VideoBenchRow } from './bench-video.ts';
import type { Io } from './main.ts';

export interface BenchFlags {
  readonly images: readonly string[];
  readonly runs: number;
  readonly json: boolean;
  readonly cwd: string;
  /** Only the photo or only the video part, or animated GIFs (not part of a full run). */
  readonly only?: 'photos' | 'video' | 'animated';
}

/** Photo sizes benchmarked, 4:3 like most cameras. */
export const BENCH_SIZES = [
  { name: '1MP', width: 1152, height: 864 },
  { name: '3MP', width: 2000, height: 1500 },
  { name: '12MP', width: 4000, height: 3000 },
] as const;

/** The dev set's largest photo, when ../shared is beside the repository. */
const DEFAULT_PHOTO = 'eval/dev/images/face-0344.jpg';

function findDefaultPhoto(cwd: string): string | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, '..', 'shared', DEFAULT_PHOTO);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const round = (x: number) => Math.round(x * 10) / 10;

/** `nestor bench`: per-stage medians at 1, 3 and 12 MP and the ratio total / (decode + encode). */
export async function runBench(
  nestor: Nestor,
  options: ProcessOptions,
  flags: BenchFlags,
  io: Io,
): Promise<number> {
  if (flags.only === 'animated') {
    const rows = await benchAnimated(nestor, options, flags.runs);
    if (flags.json) io.stdout.write(`${JSON.stringify({ animated: rows })}\n`);
    else {
      io.stdout.write('frames  size      still ms  animated ms  detect ms  encode ms  ratio\n');
      for (const r of rows) {
        io.stdout.write(
          `${String(r.frames).padStart(6)}  ${`${r.width}x${r.height}`.padEnd(8)}  ${[r.stillMs, r.animatedMs, r.detectMs, r.encodeMs].map((v, i) => String(v).padStart([8, 11, 9, 9][i]!)).join('  ')}  ${r.ratio.toFixed(1).padStart(5)}\n`,
        );
      }
      io.stdout.write('ratio = animated GIF / its first frame alone (PNG), anonymize medians\n');
    }
    return 0;
  }
  const video = flags.only === 'photos' ? [] : await videoRows(nestor, options, flags, io);
  if (flags.only === 'video') {
    printVideo(video, flags, io);
    return 0;
  }
  const photos =
    flags.images.length > 0
      ? flags.images.map((f) => path.resolve(flags.cwd, f))
      : [findDefaultPhoto(flags.cwd)];
  if (!photos[0]) {
    throw new NestorError(
      'E_INPUT_NOT_FOUND',
      'No photo given and ../shared/eval/dev is not beside the repository',
    );
  }
  const rows = [];
  for (const photoPath of photos as string[]) {
    const photo = new Uint8Array(await readFile(photoPath));
    for (const size of BENCH_SIZES) {
      const jpeg = await resizedJpeg(photo, size.width, size.height);
      rows.push(await benchRow(nestor, options, flags.runs, path.basename(photoPath), size, jpeg, jpeg));
    }
    // An HEIC is also timed as given, against the JPEG floor of the same pixels: what its decode costs.
    if (sniffImageFormat(photo) === 'heic') {
      const { jpeg, width, height } = await uprightJpeg(photo);
      const size = { name: 'HEIC', width, height };
      rows.push(await benchRow(nestor, options, flags.runs, path.basename(photoPath), size, photo, jpeg));
    }
  }
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ runs: flags.runs, rows })}\n`);
  } else {
    io.stdout.write('photo            size  decode  detect  redact  encode   total  codec floor  ratio\n');
    for (const r of rows) {
      io.stdout.write(
        `${r.photo.padEnd(16)} ${r.size.padEnd(5)} ${[r.decodeMs, r.detectMs, r.redactMs, r.encodeMs, r.totalMs].map((v) => String(v).padStart(6)).join('  ')}  ${String(r.codecFloorMs).padStart(11)}  ${r.ratio.toFixed(2).padStart(5)}\n`,
      );
    }
    io.stdout.write('ratio = total / (JPEG decode + encode of the same image), medians\n');
  }
  printVideo(video, flags, io);
  return 0;
}

/** Medians over `runs` of anonymizing `input`, and of the JPEG decode + encode of `floorJpeg`. */
async function benchRow(
  nestor: Nestor,
  options: ProcessOptions,
  runs: number,
  photo: string,
  size: { readonly name: string; readonly width: number; readonly height: number },
  input: Uint8Array,
  floorJpeg: Uint8Array,
) {
  await nestor.anonymize(input, options);
  const stages: Timings[] = [];
  const floor: number[] = [];
  for (let i = 0; i < Math.max(1, runs); i++) {
    const codec = await timeDecodeEncode(floorJpeg);
    floor.push(codec.decodeMs + codec.encodeMs);
    stages.push((await nestor.anonymize(input, options)).result.timings);
  }
  const pick = (k: keyof Timings) => round(median(stages.map((s) => s[k])));
  const codecMs = round(median(floor));
  const totalMs = pick('totalMs');
  return {
    photo,
    size: size.name,
    width: size.width,
    height: size.height,
    decodeMs: pick('decodeMs'),
    detectMs: pick('detectMs'),
    redactMs: pick('redactMs'),
    encodeMs: pick('encodeMs'),
    totalMs,
    codecFloorMs: codecMs,
    ratio: Math.round((totalMs / codecMs) * 100) / 100,
  };
}

async function videoRows(
  nestor: Nestor,
  options: ProcessOptions,
  flags: BenchFlags,
  io: Io,
): Promise<VideoBenchRow[]> {
  if (spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status !== 0) {
    io.stderr.write('bench: ffmpeg is not installed, the video part is skipped\n');
    return [];
  }
  return benchVideo(nestor, options, flags.runs);
}

function printVideo(rows: readonly VideoBenchRow[], flags: BenchFlags, io: Io): void {
  if (rows.length === 0) return;
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ video: rows })}\n`);
    return;
  }
  io.stdout.write('\nvideo  frames  every  x264    nestor s  fps    plain s  fps    speed ratio\n');
  for (const r of rows) {
    io.stdout.write(
      `${r.size.padEnd(6)} ${String(r.frames).padStart(6)}  ${String(r.detectEvery).padStart(5)}  ${r.x264Preset.padEnd(7)} ${String(r.nestorSeconds).padStart(8)}  ${String(r.nestorFps).padStart(5)}  ${String(r.plainSeconds).padStart(7)}  ${String(r.plainFps).padStart(5)}  ${r.ratio.toFixed(2).padStart(11)}\n`,
    );
  }
  io.stdout.write(
    'speed ratio = plain ffmpeg decode+encode time / Nestor time, same encoder settings, medians\n',
  );
}
