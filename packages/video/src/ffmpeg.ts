import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
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
  const faststart =
    settings.container === 'mp4' || settings.container === 'mov' ? ['-movflags', '+faststart'] : [];
  const metadata = settings.keepMetadata
    ? ['-map_metadata', '1']
    : ['-map_metadata', '-1', '-map_chapters', '-1'];
  const format = { mp4: 'mp4', mov: 'mov', mkv: 'matroska', webm: 'webm' }[settings.container];
  return [...pad, ...video, '-pix_fmt', 'yuv420p', ...faststart, ...metadata, '-f', format];
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

async function exitOf(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return child.exitCode;
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return code ?? (signal ? 128 : 1);
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
    const code = await exitOf(child);
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

export function createEncoder(
  input: string,
  output: string,
  info: VideoInfo,
  settings: EncoderSettings,
): FrameEncoder {
  const rate = `${info.frameRate.num}/${info.frameRate.den}`;
  const child = spawnTool(
    [
      '-f',
      'rawvideo',
      '-pix_fmt',
      'yuv420p',
      '-s',
      `${info.width}x${info.height}`,
      '-framerate',
      rate,
      '-i',
      'pipe:0',
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
    ],
    ['pipe', 'ignore', 'pipe'],
  );
  const stderr = stderrTail(child);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
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
      const code = await exitOf(child);
      if (failure || code !== 0) throw encodeError(failure ?? `exit ${code}`);
    },
    abort() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
