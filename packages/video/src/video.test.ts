import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '@nestor/core';
import { afterAll, describe, expect, it } from 'vitest';
import { anonymizeVideo } from './anonymize-video.ts';
import { decodeFrames } from './ffmpeg.ts';
import { parseProbe, probeVideo } from './probe.ts';
import { boxAt, HAS_FFMPEG, magentaPipeline, movingBoxClip, probeStreams } from './test-clips.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-video-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Mean luma of a box shrunk by 3 px (codec edges), on a YUV 4:2:0 frame. */
function meanInside(
  frame: Buffer,
  width: number,
  box: { x: number; y: number; width: number; height: number },
) {
  let sum = 0;
  let n = 0;
  for (let y = box.y + 3; y < box.y + box.height - 3; y++) {
    for (let x = box.x + 3; x < box.x + box.width - 3; x++) {
      sum += frame[y * width + x]!;
      n++;
    }
  }
  return sum / n;
}

describe('parseProbe', () => {
  const stream = {
    codec_type: 'video',
    codec_name: 'h264',
    width: 1920,
    height: 1080,
    r_frame_rate: '30000/1001',
    avg_frame_rate: '30000/1001',
    duration: '10.010',
    nb_read_packets: '300',
  };
  const format = { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', tags: { major_brand: 'isom' } };
  it.each([
    {
      name: 'a constant-rate MP4',
      json: { streams: [stream], format },
      expected: {
        container: 'mp4',
        frameRate: { num: 30000, den: 1001 },
        variableFrameRate: false,
        width: 1920,
      },
    },
    {
      name: 'a QuickTime file rotated 90°',
      json: {
        streams: [{ ...stream, side_data_list: [{ rotation: -90 }] }],
        format: { ...format, tags: { major_brand: 'qt  ' } },
      },
      expected: { container: 'mov', rotation: 270, width: 1080, height: 1920 },
    },
    {
      name: 'a variable-rate file (declared and average rates differ)',
      json: { streams: [{ ...stream, r_frame_rate: '60/1', avg_frame_rate: '300/10' }], format },
      expected: { variableFrameRate: true, frameRate: { num: 29970, den: 1000 } },
    },
    {
      name: 'VP9 + Opus in Matroska is WebM; H.264 in Matroska is MKV',
      json: {
        streams: [
          { ...stream, codec_name: 'vp9' },
          { codec_type: 'audio', codec_name: 'opus' },
        ],
        format: { format_name: 'matroska,webm' },
      },
      expected: { container: 'webm', audioStreams: 1 },
    },
    {
      name: 'H.264 in Matroska',
      json: { streams: [stream], format: { format_name: 'matroska,webm' } },
      expected: { container: 'mkv' },
    },
  ])('$name', ({ json, expected }) => {
    expect(parseProbe(json)).toMatchObject(expected);
  });

  it.each([
    {
      name: 'an image',
      json: {
        streams: [{ codec_type: 'video', codec_name: 'mjpeg', width: 10, height: 10 }],
        format: { format_name: 'image2' },
      },
      code: 'E_UNSUPPORTED_MEDIA',
    },
    { name: 'audio only', json: { streams: [{ codec_type: 'audio' }], format }, code: 'E_UNSUPPORTED_MEDIA' },
    { name: 'no frames', json: { streams: [{ ...stream, nb_read_packets: '0' }], format }, code: 'E_DECODE' },
  ])('refuses $name', ({ json, code }) => {
    expect(() => parseProbe(json)).toThrow(expect.objectContaining({ code }));
  });
});

describe.skipIf(!HAS_FFMPEG)('anonymizeVideo (ffmpeg)', () => {
  it('covers a moving object on every frame, including detector runs that miss it; frames, duration and audio kept', async () => {
    const input = path.join(dir, 'box.mp4');
    const output = path.join(dir, 'box.out.mp4');
    movingBoxClip(input, { frames: 30 });
    // Runs 2 and 3 miss the box: frames 6-11 are covered by the tracker alone.
    const pipeline = magentaPipeline(parseConfig({ video: { detectEvery: 3 } }), new Set([2, 3]));
    const result = await anonymizeVideo(pipeline, { input, output });
    expect(result.video).toMatchObject({
      frames: 30,
      width: 320,
      height: 240,
      container: 'mp4',
      audioStreams: 1,
    });
    expect(result.tracks).toHaveLength(1);
    expect(result.tracks[0]).toMatchObject({ label: 'plate', firstFrame: 0, lastFrame: 29, misses: 2 });
    expect(result.stats).toMatchObject({ detectEvery: 3, detectorMisses: 2, flickerFrames: 0 });
    expect(result.frames).toHaveLength(30);

    const [inV, inA] = probeStreams(input);
    const [outV, outA] = probeStreams(output);
    expect(outV!.nb_read_frames).toBe(inV!.nb_read_frames);
    expect(Math.abs(Number(outV!.duration) - Number(inV!.duration))).toBeLessThanOrEqual(1 / 25);
    expect(outA?.codec_type).toBe('audio');
    expect(Math.abs(Number(outA!.duration) - Number(inA!.duration))).toBeLessThan(0.05);

    const info = await probeVideo(output);
    let n = 0;
    for await (const frame of decodeFrames(output, info)) {
      expect(meanInside(frame, 320, boxAt(n)), `frame ${n}`).toBeLessThan(40);
      n++;
    }
    expect(n).toBe(30);
  });

  it('keeps the frame count and duration of a variable-frame-rate video', async () => {
    const input = path.join(dir, 'vfr.mp4');
    const output = path.join(dir, 'vfr.out.mp4');
    // 15 frames at 25 fps, then 15 at 10 fps.
    movingBoxClip(input, {
      frames: 30,
      filters: "setpts='if(lt(N,15),N/25,15/25+(N-15)/10)/TB'",
      extra: ['-fps_mode', 'vfr'],
    });
    const before = await probeVideo(input);
    expect(before.variableFrameRate).toBe(true);
    const result = await anonymizeVideo(magentaPipeline(), { input, output });
    const [inV] = probeStreams(input);
    const [outV] = probeStreams(output);
    expect(result.video.frames).toBe(30);
    expect(outV!.nb_read_frames).toBe(inV!.nb_read_frames);
    const frame = before.durationMs / 1000 / before.frames;
    expect(Math.abs(Number(outV!.duration) - Number(inV!.duration))).toBeLessThanOrEqual(frame * 1.01);
  });

  it('applies a rotation: frames are decoded upright and written without the flag', async () => {
    const input = path.join(dir, 'rotated.mov');
    const output = path.join(dir, 'rotated.out.mov');
    movingBoxClip(input, { frames: 10, rotate: 90 });
    const info = await probeVideo(input);
    expect(info).toMatchObject({ container: 'mov', width: 240, height: 320 });
    expect([90, 270]).toContain(info.rotation);
    const result = await anonymizeVideo(magentaPipeline(), { input, output });
    expect(result.video).toMatchObject({ width: 240, height: 320, frames: 10 });
    expect(result.tracks).toHaveLength(1);
    const out = await probeVideo(output);
    expect(out).toMatchObject({ width: 240, height: 320, rotation: 0, container: 'mov' });
  });

  it('writes WebM as WebM (VP9 + Opus copied)', async () => {
    const input = path.join(dir, 'clip.webm');
    const output = path.join(dir, 'clip.out.webm');
    movingBoxClip(input, { frames: 8 });
    await anonymizeVideo(magentaPipeline(), { input, output });
    const out = await probeVideo(output);
    expect(out).toMatchObject({ container: 'webm', videoCodec: 'vp9', audioStreams: 1, frames: 8 });
  });

  it('detect only: no output, the detections JSON of every frame with an object', async () => {
    const input = path.join(dir, 'detect.mkv');
    movingBoxClip(input, { frames: 12 });
    const pipeline = magentaPipeline(parseConfig({ video: { detectEvery: 4 } }));
    const result = await anonymizeVideo(pipeline, { input });
    expect(result.video.container).toBe('mkv');
    // Runs on frames 0, 4, 8 and the last frame (11).
    expect(result.stats.detectorRuns).toBe(4);
    expect(result.frames.map((f) => f.index)).toEqual([...Array(12).keys()]);
    expect(result.frames[5]!.timeMs).toBe(200);
    const seen = result.frames[4]!.detections[0]!;
    expect(seen).toMatchObject({ source: 'model', track: 1, label: 'plate' });
    // Chroma subsampling may bleed the box's colour by a pixel.
    expect(Math.abs(seen.box.x - boxAt(4).x)).toBeLessThanOrEqual(2);
    expect(result.frames[5]!.detections[0]!.source).toBe('tracker');
  });

  it('refuses a file that is not a video, and ends a job when asked', async () => {
    const error = await probeVideo(path.join(dir, 'missing.mp4')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_UNSUPPORTED_MEDIA' });
    const input = path.join(dir, 'abort.mp4');
    movingBoxClip(input, { frames: 10 });
    const controller = new AbortController();
    controller.abort();
    await expect(
      anonymizeVideo(magentaPipeline(), {
        input,
        output: path.join(dir, 'abort.out.mp4'),
        signal: controller.signal,
      }),
    ).rejects.toThrow();
  });
});

it.skipIf(HAS_FFMPEG)(
  'skipped: ffmpeg/ffprobe are not installed (scripts/system-deps.sh installs them)',
  () => {},
);
