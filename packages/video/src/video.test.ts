import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '@nestor/core';
import { afterAll, describe, expect, it } from 'vitest';
import { anonymizeVideo } from './anonymize-video.ts';
import { decodeFrames, timestampsV2 } from './ffmpeg.ts';
import { parseProbe, probeVideo, shownPacketTimes } from './probe.ts';
import {
  boxAt,
  HAS_FFMPEG,
  HAS_MKVMERGE,
  magentaPipeline,
  movingBoxClip,
  probeStreams,
  videoPacketTimes,
} from './test-clips.ts';

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
      name: 'evenly spaced times (rounded to 1 ms, 29.97 fps): constant rate',
      times: [0, 0.033, 0.067, 0.1, 0.133, 0.167, 0.2],
      rates: { r_frame_rate: '30000/1001', avg_frame_rate: '30000/1001' },
      expected: { variableFrameRate: false, frameRate: { num: 30000, den: 1001 }, frames: 7 },
      frameTimes: undefined,
    },
    {
      name: 'times in decode order, 25 then 10 fps, after the file start: variable, sorted, from the start',
      times: [1.5, 1.58, 1.54, 1.62, 1.72, 1.82],
      rates: { r_frame_rate: '25/1', avg_frame_rate: '25/1' },
      expected: { variableFrameRate: true, frames: 6 },
      frameTimes: [0.5, 0.54, 0.58, 0.62, 0.72, 0.82],
    },
    {
      name: 'a timestamp missing: the declared and average rates decide',
      times: [0, Number.NaN, 0.08],
      rates: { r_frame_rate: '25/1', avg_frame_rate: '25/1' },
      expected: { variableFrameRate: false, frames: 3 },
      frameTimes: undefined,
    },
  ])('packet times: $name', ({ times, rates, expected, frameTimes }) => {
    const json = {
      streams: [{ ...stream, ...rates, duration: '1' }],
      format: { ...format, start_time: '1.000000' },
    };
    const info = parseProbe(json, times);
    expect(info).toMatchObject(expected);
    expect(info.frameTimes?.length).toBe(frameTimes?.length);
    for (const [i, t] of (info.frameTimes ?? []).entries()) expect(t).toBeCloseTo(frameTimes![i]!, 9);
  });

  it.each([
    { name: 'times and flags', csv: '0.000000,K__\n0.040000,___\n', expected: [0, 0.04] },
    {
      name: 'packets before an edit list start (D) are not frames',
      csv: '-0.080000,KD\n-0.040000,_D\n0.000000,__\n0.040000,__\n',
      expected: [0, 0.04],
    },
    { name: 'a trailing separator and a blank line', csv: '0.5,K_,\n\n0.54,__,\n', expected: [0.5, 0.54] },
    { name: 'no timestamp', csv: 'N/A,K_\n', expected: [Number.NaN] },
  ])('shown packet times: $name', ({ csv, expected }) => {
    expect(shownPacketTimes(csv)).toEqual(expected);
  });

  it('writes mkvmerge timestamps from 0, cut or continued to the frames written', () => {
    expect(timestampsV2([0.2, 0.24, 0.34], 2)).toBe('# timestamp format v2\n0.000\n40.000\n');
    expect(timestampsV2([0.2, 0.24, 0.34], 4)).toBe(
      '# timestamp format v2\n0.000\n40.000\n140.000\n240.000\n',
    );
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
      timestamps: 'constant-rate',
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

  /** 15 frames at 25 fps, then 15 at 10 fps, B-frames; the video starts 0.2 s after the audio. */
  function vfrClip(name: string): string {
    const plain = path.join(dir, `${name}.plain.mp4`);
    const input = path.join(dir, `${name}.mp4`);
    movingBoxClip(plain, {
      frames: 30,
      filters: "setpts='if(lt(N,15),N/25,15/25+(N-15)/10)/TB'",
      extra: ['-fps_mode', 'vfr', '-bf', '3'],
    });
    execFileSync('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-itsoffset', '0.2', '-i', plain, '-i', plain],
      ...['-map', '0:v', '-map', '1:a', '-c', 'copy', input],
    ]);
    return input;
  }

  /** The private folders of variable-rate encodes now on disk. */
  const privateDirs = () => readdirSync(os.tmpdir()).filter((f) => f.startsWith('nestor-vfr-'));

  /** Frame count, duration (±1 frame) and audio (same length) of the output match the input's. */
  function expectSameLengths(input: string, output: string) {
    const [inV, inA] = probeStreams(input);
    const [outV, outA] = probeStreams(output);
    expect(outV!.nb_read_frames).toBe(inV!.nb_read_frames);
    // The shortest frame of the clip: 1/25 s.
    expect(Math.abs(Number(outV!.duration) - Number(inV!.duration))).toBeLessThanOrEqual(1 / 25);
    expect(outA?.codec_type).toBe('audio');
    expect(Math.abs(Number(outA!.duration) - Number(inA!.duration))).toBeLessThan(0.05);
  }

  it.skipIf(!HAS_MKVMERGE)(
    'keeps every frame time of a variable-frame-rate video, its offset from the audio, and frame order',
    async () => {
      const input = vfrClip('vfr');
      const output = path.join(dir, 'vfr.out.mp4');
      const before = await probeVideo(input);
      expect(before.variableFrameRate).toBe(true);
      const dirsBefore = privateDirs();
      const result = await anonymizeVideo(magentaPipeline(), { input, output });
      // The video-only and timestamp files are gone.
      expect(privateDirs()).toEqual(dirsBefore);
      expect(result.video).toMatchObject({ frames: 30, variableFrameRate: true, timestamps: 'exact' });
      expect(result.frames[16]!.timeMs).toBe(680);
      const inTimes = videoPacketTimes(input);
      const outTimes = videoPacketTimes(output);
      expect(inTimes[0]).toBeCloseTo(0.2, 3);
      expect(outTimes).toHaveLength(inTimes.length);
      // Matroska stores milliseconds: far inside one frame (40 ms at the fastest).
      for (const [i, t] of inTimes.entries())
        expect(Math.abs(outTimes[i]! - t), `frame ${i}`).toBeLessThanOrEqual(0.002);
      expectSameLengths(input, output);
      // Frames come out in presentation order: the box is covered where frame n has it.
      const info = await probeVideo(output);
      expect(info.variableFrameRate).toBe(true);
      let n = 0;
      for await (const frame of decodeFrames(output, info)) {
        expect(meanInside(frame, 320, boxAt(n)), `frame ${n}`).toBeLessThan(40);
        n++;
      }
      expect(n).toBe(30);
    },
  );

  it('without mkvmerge, writes a variable-frame-rate video at its average rate: frames and duration kept', async () => {
    const input = vfrClip('vfr-average');
    const output = path.join(dir, 'vfr-average.out.mp4');
    // A PATH with ffmpeg and ffprobe but no mkvmerge.
    const bin = path.join(dir, 'bin-without-mkvmerge');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['ffmpeg', 'ffprobe']) {
      const at = execFileSync('sh', ['-c', `command -v ${tool}`])
        .toString()
        .trim();
      symlinkSync(at, path.join(bin, tool));
    }
    const savedPath = process.env.PATH;
    process.env.PATH = bin;
    try {
      const result = await anonymizeVideo(magentaPipeline(), { input, output });
      expect(result.video).toMatchObject({ frames: 30, timestamps: 'average-rate' });
    } finally {
      process.env.PATH = savedPath;
    }
    expectSameLengths(input, output);
  });

  it('counts only the frames a clip cut without re-encoding shows: progress ends at 100 %', async () => {
    const whole = path.join(dir, 'uncut.mp4');
    const input = path.join(dir, 'cut.mp4');
    movingBoxClip(whole, { frames: 40 });
    // Starts at the key frame before 0.5 s, with an edit list hiding the packets before 0.5 s.
    execFileSync('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-ss', '0.5', '-i', whole, '-c', 'copy', input],
    ]);
    const shown = Number(probeStreams(input)[0]!.nb_read_frames);
    expect(videoPacketTimes(input).length).toBeGreaterThan(shown);
    const info = await probeVideo(input);
    expect(info.frames).toBe(shown);
    const progress: { frame: number; frames: number }[] = [];
    const result = await anonymizeVideo(magentaPipeline(), {
      input,
      output: path.join(dir, 'cut.out.mp4'),
      onProgress: (p) => progress.push(p),
    });
    expect(result.video.frames).toBe(shown);
    expect(progress.at(-1)).toMatchObject({ frame: shown, frames: shown });
  });

  it('holds an object first seen on the last frame back over the frames before it', async () => {
    const input = path.join(dir, 'late.mp4');
    movingBoxClip(input, { frames: 23 });
    // Runs on frames 0, 5, 10, 15, 20 miss the box; the last frame's run (22) sees it.
    const config = parseConfig({ video: { detectEvery: 5 } });
    const result = await anonymizeVideo(magentaPipeline(config, new Set([0, 1, 2, 3, 4])), { input });
    const { holdBefore } = config.video.tracking;
    const first = 22 - (holdBefore + 5 - 1);
    expect(result.frames.map((f) => f.index)).toEqual([...Array(23).keys()].slice(first));
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

  it('corrections hold in their time span: a drawn region is covered, a dropped area passed on', async () => {
    const input = path.join(dir, 'spans.mkv');
    movingBoxClip(input, { frames: 12 });
    const pipeline = magentaPipeline(parseConfig({ video: { detectEvery: 4 } }));
    const drawn = { x: 0, y: 0, width: 16, height: 16, label: 'face' as const };
    const dropped = { x: 100, y: 0, width: 50, height: 50 };
    const result = await anonymizeVideo(pipeline, {
      input,
      options: {
        task: 'detect',
        // Frames are 40 ms apart: frames 3 to 6, and the runs of frames 4 and 8.
        addRegions: [{ ...drawn, fromMs: 120, toMs: 240 }],
        suppress: [{ ...dropped, fromMs: 160, toMs: 320 }],
      },
    });
    const manualFrames = result.frames
      .filter((f) => f.detections.some((d) => d.source === 'manual'))
      .map((f) => f.index);
    expect(manualFrames).toEqual([3, 4, 5, 6]);
    expect(result.frames[3]!.detections.find((d) => d.source === 'manual')).toMatchObject({
      label: 'face',
      shape: 'ellipse',
      region: { x: 0, y: 0, width: 16, height: 16 },
    });
    // Runs on frames 0, 4, 8 and 11: only those at 160 and 320 ms are told to drop the area.
    expect(pipeline.suppressed).toEqual([
      [],
      [{ ...dropped, fromMs: 160, toMs: 320 }],
      [{ ...dropped, fromMs: 160, toMs: 320 }],
      [],
    ]);
    // The regions the detector was not asked to drop are tracked as before.
    expect(result.tracks).toHaveLength(1);
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

  it.each([
    { name: 'at a constant rate', clip: 'cancel-late.mp4' },
    { name: 'at a variable rate (mkvmerge remux)', clip: 'vfr' },
  ])('ends a job cancelled after its last frame was decoded, $name', async ({ clip }) => {
    const input = clip === 'vfr' ? vfrClip('cancel-late-vfr') : path.join(dir, clip);
    if (clip !== 'vfr') movingBoxClip(input, { frames: 12 });
    const controller = new AbortController();
    const pipeline = magentaPipeline();
    const frames = (await probeVideo(input)).frames;
    const lastRun = Math.ceil(frames / 5);
    const dirsBefore = privateDirs();
    const job = anonymizeVideo(
      {
        ...pipeline,
        // The last frame's run starts once decoding has ended.
        detectPixels: (image, options) => {
          if (pipeline.calls.length === lastRun) controller.abort();
          return pipeline.detectPixels(image, options);
        },
      },
      { input, output: path.join(dir, `${clip}.cancelled.mp4`), signal: controller.signal },
    );
    await expect(job).rejects.toThrow(/abort/i);
    expect(privateDirs()).toEqual(dirsBefore);
  });

  it('ends a decode aborted mid-stream even when ffmpeg has exited before it is asked', async () => {
    const input = path.join(dir, 'abort-late.mp4');
    movingBoxClip(input, { frames: 30 });
    const info = await probeVideo(input);
    const controller = new AbortController();
    const frames = decodeFrames(input, info, controller.signal);
    await frames.next();
    controller.abort();
    // The killed ffmpeg closes while the consumer is busy elsewhere.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const drain = async () => {
      for (;;) if ((await frames.next()).done) return;
    };
    await expect(drain()).rejects.toThrow(/abort/i);
  }, 10_000);
});

it.skipIf(HAS_FFMPEG)(
  'skipped: ffmpeg/ffprobe are not installed (scripts/system-deps.sh installs them)',
  () => {},
);
