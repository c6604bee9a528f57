import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HAS_FFMPEG, movingBoxClip, probeStreams } from '@nestor/video/test-clips';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT, main } from './main.ts';
import { captureIo, interruptibleIo } from './test-support.ts';

describe.skipIf(!HAS_FFMPEG)('nestor with videos', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-cli-video-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('anonymizes a folder of videos (MKV, MP4), mirroring it, with the video detections in --json', async () => {
    mkdirSync(path.join(dir, 'in/clips'), { recursive: true });
    movingBoxClip(path.join(dir, 'in/clips/box.mkv'), { frames: 10 });
    // Not a known extension: a folder walk leaves it alone.
    copyFileSync(path.join(dir, 'in/clips/box.mkv'), path.join(dir, 'in/notes.txt'));
    movingBoxClip(path.join(dir, 'in/still.mp4'), { frames: 2 });
    const io = captureIo(dir);
    const code = await main(
      ['anonymize', 'in', '-o', 'out', '--json', '--targets', 'face', '--preset', 'fast'],
      io,
    );
    expect(code, io.err()).toBe(EXIT.ok);
    expect(readdirSync(path.join(dir, 'out')).sort()).toEqual(['clips', 'still.mp4']);
    expect(probeStreams(path.join(dir, 'out/clips/box.mkv')).map((s) => s.codec_type)).toEqual([
      'video',
      'audio',
    ]);
    const { results } = JSON.parse(io.out()) as { results: { file: string; video?: { frames: number } }[] };
    expect(results.find((r) => r.file.endsWith('box.mkv'))?.video?.frames).toBe(10);
    // The summary line, not the detector's verdict on a synthetic automaton: that is measured by eval.
    expect(io.err()).toMatch(/box\.mkv: 10 frames, \d+ face tracks?, 0 plate tracks, [\d.]+ fps/);
  });

  it('numbers a video whose output name another has, and reports an output folder that is a file', async () => {
    mkdirSync(path.join(dir, 'same'), { recursive: true });
    movingBoxClip(path.join(dir, 'same/clip.mp4'), { frames: 2 });
    // MP4 content under .m4v: written as .mp4, the name clip.mp4 already has.
    copyFileSync(path.join(dir, 'same/clip.mp4'), path.join(dir, 'same/clip.m4v'));
    const io = captureIo(dir);
    const args = ['anonymize', 'same', '-o', 'same-out', '--json', '--targets', 'face', '--preset', 'fast'];
    expect(await main(args, io), io.err()).toBe(EXIT.ok);
    const { results } = JSON.parse(io.out()) as { results: { file: string; output: string }[] };
    expect(results.map((r) => [r.file, r.output])).toEqual([
      ['same/clip.m4v', 'same-out/clip.mp4'],
      ['same/clip.mp4', 'same-out/clip-2.mp4'],
    ]);
    expect(readdirSync(path.join(dir, 'same-out')).sort()).toEqual(['clip-2.mp4', 'clip.mp4']);
    writeFileSync(path.join(dir, 'taken.png'), 'not a folder');
    const taken = captureIo(dir);
    expect(await main(['anonymize', 'same/clip.mp4', '-o', 'taken.png', '-q'], taken)).toBe(EXIT.someFailed);
    expect(taken.err()).toContain(`E_OUTPUT_WRITE: Could not write ${path.join(dir, 'taken.png/clip.mp4')}`);
  });

  it('interrupted mid-video: ffmpeg is stopped, no partial file is left, exit 130', async () => {
    mkdirSync(path.join(dir, 'long'), { recursive: true });
    movingBoxClip(path.join(dir, 'long/clip.mp4'), { frames: 250 });
    const io = interruptibleIo(dir, { stderrIsTTY: true });
    // Interrupted at the first progress line: frames are being read, written and encoded.
    const write = io.stderr.write.bind(io.stderr);
    io.stderr.write = ((chunk: string) => {
      if (String(chunk).includes(' frames ')) io.interrupt();
      return write(chunk);
    }) as typeof io.stderr.write;
    const code = await main(
      ['anonymize', 'long', '-o', 'long-out', '--targets', 'face', '--preset', 'fast'],
      io,
    );
    expect(code, io.err()).toBe(EXIT.interrupted);
    expect(io.err()).toContain('nestor: interrupted: 1 file(s) not done');
    // Not even the hidden temporary file ffmpeg was writing.
    expect(readdirSync(path.join(dir, 'long-out'))).toEqual([]);
  });

  it('refuses a video with --server (videos are processed locally)', async () => {
    movingBoxClip(path.join(dir, 'alone.mp4'), { frames: 2 });
    const io = captureIo(dir);
    const code = await main(['detect', 'alone.mp4', '--server', 'http://127.0.0.1:9'], io);
    expect(code).toBe(EXIT.someFailed);
    expect(io.err()).toContain('E_INVALID_OPTION');
  });
});

it.skipIf(HAS_FFMPEG)('skipped: ffmpeg/ffprobe are not installed', () => {});
