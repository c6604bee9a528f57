import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NestorError } from '@nestor/core';
import { toolMissing, type VideoContainer, type VideoInfo } from './probe.ts';
import { yuvLayout } from './yuv.ts';

/** How the anonymized video is encoded. */
export interface EncoderSettings {
  readonly container: VideoContainer;
  readonly x264Preset: string;
  readonly crf: number;
  readonly keepMetadata: boolean;
}

/**
 * Output arguments of the video encoder for a container: H.264 for MP4/MOV/MKV (MP4 and MOV with
 * the index up front so players can stream them), VP9 for WebM. Odd sizes are padded by one pixel
 * (4:2:0 needs even sides).
 */
export function encoderArgs(settings: EncoderSettings, width: number, height: number): string[] {
  const pad = width % 2 || height % 2 ? ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2'] : [];
  const video =
    settings.container === 'webm'
      ? [
          '-c:v',
          'libvpx-vp9',
          '-crf',
          String(Math.min(63, settings.crf + 8)),
          '-b:v',
          '0',
          '-row-mt',
          '1',
          '-deadline',
          'good',
          '-cpu-used',
          '4',
        ]
      : ['-c:v', 'libx264', '-preset', settings.x264Preset, '-crf', String(settings.crf)];
  return [...pad, ...video, '-pix_fmt', 'yuv420p', ...containerArgs(settings)];
}

/** Muxer options: MP4/MOV with the index up front, metadata and chapters of input 1 kept or dropped. */
function containerArgs(settings: EncoderSettings): string[] {
  const faststart =
    settings.container === 'mp4' || settings.container === 'mov' ? ['-movflags', '+faststart'] : [];
  const metadata = settings.keepMetadata
    ? ['-map_metadata', '1']
    : ['-map_metadata', '-1', '-map_chapters', '-1'];
  const format = { mp4: 'mp4', mov: 'mov', mkv: 'matroska', webm: 'webm' }[settings.container];
  return [...faststart, ...metadata, '-f', format];
}

/** Keeps the end of a child's stderr for error reports (never logged: it names files). */
function stderrTail(child: ChildProcess): () => string {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    tail = (tail + s).slice(-4000);
  });
  return () => tail;
}

function spawnTool(args: readonly string[], stdio: ('pipe' | 'ignore')[]): ChildProcess {
  return spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', ...args], { stdio });
}

/**
 * The child's exit code once it has exited and closed its pipes (128 when killed). Taken right
 * after spawning: asked later, a killed child that already closed would never answer.
 */
function whenClosed(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) =>
      resolve(code ?? (signal ? 128 : 1)),
    );
  });
}

/**
 * Decoded frames of the first video stream, planar YUV 4:2:0 (see yuv.ts), in presentation
 * order; every stored frame exactly once (no rate conversion). Reading is pulled:
 * ffmpeg is paused while the consumer is busy, so at most one frame plus a pipe buffer is held.
 */
export async function* decodeFrames(
  file: string,
  info: VideoInfo,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  const frameBytes = yuvLayout(info.width, info.height).bytes;
  // An abort before the start has no event left to fire.
  signal?.throwIfAborted();
  const child = spawnTool(
    [
      '-i',
      file,
      '-map',
      '0:v:0',
      '-fps_mode',
      'passthrough',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'yuv420p',
      'pipe:1',
    ],
    ['ignore', 'pipe', 'pipe'],
  );
  const closed = whenClosed(child);
  const stderr = stderrTail(child);
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const onAbort = () => child.kill('SIGKILL');
  signal?.addEventListener('abort', onAbort);
  try {
    await spawned.catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? toolMissing(error) : error;
    });
    let frame = Buffer.allocUnsafe(frameBytes);
    let filled = 0;
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          yield frame;
          frame = Buffer.allocUnsafe(frameBytes);
          filled = 0;
        }
      }
    }
    const code = await closed;
    signal?.throwIfAborted();
    if (code !== 0 || filled !== 0) {
      throw new NestorError('E_DECODE', 'The video could not be decoded (corrupt or truncated)', {
        cause: new Error(stderr()),
      });
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** Writes frames to an ffmpeg encoder that also copies the input's audio; `finish()` waits for the file. */
export interface FrameEncoder {
  write(frame: Buffer): Promise<void>;
  finish(): Promise<void>;
  abort(): void;
}

/** Raw frames on stdin, timed at the video's (declared or average) rate. */
function rawInputArgs(info: VideoInfo): string[] {
  const rate = `${info.frameRate.num}/${info.frameRate.den}`;
  const size = `${info.width}x${info.height}`;
  return ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', size, '-framerate', rate, '-i', 'pipe:0'];
}

/** Frames timed at `info.frameRate`, with the input's audio copied, into `output`. */
export function createEncoder(
  input: string,
  output: string,
  info: VideoInfo,
  settings: EncoderSettings,
): FrameEncoder {
  return spawnEncoder([
    ...rawInputArgs(info),
    '-i',
    input,
    '-map',
    '0:v',
    '-map',
    '1:a?',
    '-c:a',
    'copy',
    ...encoderArgs(settings, info.width, info.height),
    '-y',
    output,
  ]);
}

/** mkvmerge (mkvtoolnix) can be run: variable-rate video keeps its exact timestamps. */
export function mkvmergeAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('mkvmerge', ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
}

/**
 * An mkvmerge "timestamp format v2" file: one time in milliseconds a frame, from 0, in
 * presentation order. Frames past the list (a decoder that output more than ffprobe counted)
 * continue at the last spacing; the list is cut to the frames written.
 */
export function timestampsV2(times: readonly number[], count: number): string {
  const first = times[0] ?? 0;
  const last = times.length - 1;
  const step = last >= 1 ? times[last]! - times[last - 1]! : 0;
  const lines = ['# timestamp format v2'];
  for (let i = 0; i < count; i++) {
    const t = i <= last ? times[i]! : times[last]! + (i - last) * step;
    lines.push(((t - first) * 1000).toFixed(3));
  }
  return `${lines.join('\n')}\n`;
}

/** Runs one step of the remux to the end; exit codes in `ok` succeed (mkvmerge exits 1 on warnings). */
async function runStep(
  command: string,
  args: readonly string[],
  track: (child: ChildProcess | undefined) => void,
  ok: readonly number[] = [0],
): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let output = '';
  const keep = (s: string) => {
    output = (output + s).slice(-4000);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const [code, error] = await new Promise<[number | null, unknown]>((resolve) => {
    child.once('error', (e) => resolve([null, e]));
    child.once('close', (c) => resolve([c, undefined]));
  });
  track(undefined);
  if (code === null || !ok.includes(code)) {
    throw new NestorError('E_ENCODE', 'The video could not be encoded', {
      cause: new Error(output || String(error ?? `${command} exit ${code}`)),
    });
  }
}

/**
 * Frames of a variable-rate video with each frame's own time kept: they are encoded video-only
 * into a private folder (0700, deleted at the end), mkvmerge stamps them with the input's
 * presentation times (`frameTimes`, seconds from the file's start), and ffmpeg copies that video
 * and the input's audio into `output`, shifted so the first frame keeps its offset from the audio.
 */
export function createTimestampedEncoder(
  input: string,
  output: string,
  info: VideoInfo,
  settings: EncoderSettings,
  frameTimes: readonly number[],
): FrameEncoder {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-vfr-'));
  const container = settings.container === 'webm' ? 'webm' : 'mkv';
  const videoOnly = path.join(dir, `video.${container}`);
  const stamped = path.join(dir, 'stamped.mkv');
  const timestampsFile = path.join(dir, 'timestamps.txt');
  const encoder = spawnEncoder([
    ...rawInputArgs(info),
    '-map',
    '0:v',
    ...encoderArgs({ ...settings, container, keepMetadata: false }, info.width, info.height),
    '-y',
    videoOnly,
  ]);
  let written = 0;
  let step: ChildProcess | undefined;
  const track = (child: ChildProcess | undefined) => {
    step = child;
  };
  const cleanUp = () => rmSync(dir, { recursive: true, force: true });
  return {
    async write(frame) {
      await encoder.write(frame);
      written++;
    },
    async finish() {
      try {
        await encoder.finish();
        await writeFile(timestampsFile, timestampsV2(frameTimes, written), { mode: 0o600 });
        await runStep(
          'mkvmerge',
          ['--quiet', '-o', stamped, '--timestamps', `0:${timestampsFile}`, videoOnly],
          track,
          [0, 1],
        );
        await runStep(
          'ffmpeg',
          [
            ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
            // ffmpeg starts each input at 0: this puts the video back where it began next to the audio.
            ...['-itsoffset', (frameTimes[0] ?? 0).toFixed(6), '-i', stamped],
            ...['-i', input, '-map', '0:v', '-map', '1:a?', '-c', 'copy'],
            ...containerArgs(settings),
            '-y',
            output,
          ],
          track,
        );
      } finally {
        cleanUp();
      }
    },
    abort() {
      encoder.abort();
      if (step?.exitCode === null) step.kill('SIGKILL');
      cleanUp();
    },
  };
}

function spawnEncoder(args: readonly string[]): FrameEncoder {
  const child = spawnTool(args, ['pipe', 'ignore', 'pipe']);
  const stderr = stderrTail(child);
  const closed = whenClosed(child);
  let failure: unknown;
  child.once('error', (error: NodeJS.ErrnoException) => {
    failure = error.code === 'ENOENT' ? toolMissing(error) : error;
  });
  // An encoder that died shows as EPIPE on the next write; its exit code tells the real story.
  child.stdin!.on('error', (error) => {
    failure ??= error;
  });
  const encodeError = (cause: unknown) =>
    failure instanceof NestorError
      ? failure
      : new NestorError('E_ENCODE', 'The video could not be encoded', {
          cause: new Error(stderr() || String(cause)),
        });
  return {
    async write(frame) {
      if (failure) throw encodeError(failure);
      if (!child.stdin!.write(frame)) {
        await Promise.race([once(child.stdin!, 'drain'), closed]);
        if (failure || child.exitCode !== null) throw encodeError(failure);
      }
    },
    async finish() {
      child.stdin!.end();
      const code = await closed;
      if (failure || code !== 0) throw encodeError(failure ?? `exit ${code}`);
    },
    abort() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
