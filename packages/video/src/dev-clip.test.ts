import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '@nestor/core';
import { createNodeNestor, createSharpCodec } from '@nestor/engine-node';
import { DEFAULT_MODELS_DIR } from '@nestor/models';
import { afterAll, describe, expect, it } from 'vitest';
import { anonymizeVideo } from './anonymize-video.ts';
import { decodeFrames } from './ffmpeg.ts';
import { probeVideo } from './probe.ts';
import { HAS_FFMPEG, probeStreams } from './test-clips.ts';

const DEV = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/eval/dev');
const PHOTO = 'images/face-0003.jpg';
const HAS_DEV = existsSync(path.join(DEV, PHOTO));
const FRAMES = 30;
const W = 320;
const H = 240;
/** The window pans diagonally across the 400x295 photo. */
const offset = (n: number) => ({
  x: Math.round((n * 80) / (FRAMES - 1)),
  y: Math.round((n * 55) / (FRAMES - 1)),
});

describe.skipIf(!HAS_FFMPEG || !HAS_DEV)('a clip panned across a dev-set photo, real detector', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-dev-clip-'));
  const nestor = createNodeNestor(parseConfig({ targets: ['face'] }), DEFAULT_MODELS_DIR);
  afterAll(async () => {
    await nestor.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('covers both labelled faces on every frame; frames, duration and audio kept', async () => {
    const { image } = await createSharpCodec().decode(new Uint8Array(readFileSync(path.join(DEV, PHOTO))), {
      maxPixels: 1e8,
      minSide: 8,
      maxFrames: 1,
    });
    const annotations = JSON.parse(readFileSync(path.join(DEV, 'annotations.json'), 'utf8')) as {
      images: { file: string; boxes: { x: number; y: number; w: number; h: number }[] }[];
    };
    const faces = annotations.images.find((i) => i.file === PHOTO)!.boxes;
    expect(faces).toHaveLength(2);
    const raw = Buffer.alloc(FRAMES * W * H * 3);
    for (let n = 0; n < FRAMES; n++) {
      const o = offset(n);
      for (let y = 0; y < H; y++) {
        const from = ((o.y + y) * image.width + o.x) * image.channels;
        for (let x = 0; x < W; x++) {
          for (let c = 0; c < 3; c++)
            raw[((n * H + y) * W + x) * 3 + c] = image.data[from + x * image.channels + c]!;
        }
      }
    }
    const input = path.join(dir, 'pan.mp4');
    execFileSync(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-y'],
        ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${W}x${H}`, '-framerate', '25', '-i', 'pipe:0'],
        ...['-f', 'lavfi', '-i', `sine=frequency=440:duration=${FRAMES / 25}`],
        ...[
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-pix_fmt',
          'yuv420p',
          '-c:a',
          'aac',
          '-shortest',
          input,
        ],
      ],
      { input: raw },
    );
    const output = path.join(dir, 'pan.out.mp4');
    const result = await anonymizeVideo(nestor, { input, output, options: { method: 'solid' } });
    expect(result.video.frames).toBe(FRAMES);
    expect(result.counts.face).toBeGreaterThanOrEqual(2);

    const [inV, inA] = probeStreams(input);
    const [outV, outA] = probeStreams(output);
    expect(outV!.nb_read_frames).toBe(inV!.nb_read_frames);
    expect(Math.abs(Number(outV!.duration) - Number(inV!.duration))).toBeLessThanOrEqual(1 / 25);
    expect(Math.abs(Number(outA!.duration) - Number(inA!.duration))).toBeLessThan(0.05);

    // The middle of each face (inside its ellipse) is solid black on every frame.
    let n = 0;
    for await (const frame of decodeFrames(output, await probeVideo(output))) {
      const o = offset(n);
      for (const f of faces) {
        let sum = 0;
        let count = 0;
        for (let y = Math.round(f.y + f.h * 0.3); y < f.y + f.h * 0.7; y++) {
          for (let x = Math.round(f.x + f.w * 0.3); x < f.x + f.w * 0.7; x++) {
            sum += frame[(y - o.y) * W + (x - o.x)]!;
            count++;
          }
        }
        expect(sum / count, `frame ${n}, face at ${f.x},${f.y}`).toBeLessThan(40);
      }
      n++;
    }
    expect(n).toBe(FRAMES);
  });
});

it.skipIf(HAS_FFMPEG && HAS_DEV)(
  `skipped: needs ffmpeg and ${DEV} (../shared beside the repository)`,
  () => {},
);
