import { rename } from 'node:fs/promises';
import path from 'node:path';
import { NestorError, type ProcessOptions } from '@nestor/core';
import {
  anonymizeVideo,
  type FramePipeline,
  probeVideo,
  VIDEO_EXTENSIONS,
  type VideoProgress,
  type VideoResult,
} from '@nestor/video';
import type { InputFile } from './inputs.ts';
import {
  checkTarget,
  makeFolderFor,
  removeTemporary,
  type TargetRules,
  temporaryPathFor,
} from './outputs.ts';

/** Extensions treated as videos (the content is still probed, never trusted). */
export const VIDEO_FILE_EXTENSIONS = ['.mp4', '.m4v', '.mov', '.mkv', '.webm'];

export const isVideoFile = (file: string): boolean =>
  VIDEO_FILE_EXTENSIONS.includes(path.extname(file).toLowerCase());

type Stream = NodeJS.WritableStream & { isTTY?: boolean };

/** A progress line for one video on a TTY: frames, fps and ETA, at most four updates a second. */
function progressLine(stream: Stream, name: string, enabled: boolean) {
  let last = 0;
  return {
    update(p: VideoProgress) {
      const now = performance.now();
      if (!enabled || (now - last < 250 && p.frame < p.frames)) return;
      last = now;
      const width = 20;
      const filled = Math.round((Math.min(p.frame, p.frames) / p.frames) * width);
      stream.write(
        `\r\x1b[2K${name} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${p.frame}/${p.frames} frames ${p.fps.toFixed(1)} fps eta ${Math.ceil(p.etaSeconds)}s`,
      );
    },
    finish() {
      if (enabled) stream.write('\r\x1b[2K');
    },
  };
}

/** The extension the anonymized copy of a video should get, before ffprobe says (`.m4v` is written as MP4). */
export function expectedVideoExtension(file: string): string {
  const extension = path.extname(file).toLowerCase();
  return extension === '.m4v' ? VIDEO_EXTENSIONS.mp4 : extension;
}

/** Where an anonymized video goes (given its extension), and what it may not replace. */
export interface VideoTarget {
  readonly pathFor: (extension: string) => string;
  readonly rules: TargetRules;
}

/**
 * Anonymizes one video file (same container out), or without `target` only analyses it. ffmpeg
 * writes to a hidden temporary name renamed into place, so a failed run leaves no half file.
 */
export async function processVideoFile(
  nestor: FramePipeline,
  file: InputFile,
  options: ProcessOptions,
  target: VideoTarget | undefined,
  io: { stderr: Stream; quiet: boolean; signal?: AbortSignal | undefined },
): Promise<{ output?: string; result: VideoResult }> {
  // Interrupted: ffmpeg is stopped and the temporary file removed (below) before this rejects.
  const stop = io.signal ? { signal: io.signal } : {};
  const info = await probeVideo(file.absolute);
  const progress = progressLine(io.stderr, path.basename(file.given), !io.quiet && Boolean(io.stderr.isTTY));
  if (!target) {
    try {
      return {
        result: await anonymizeVideo(nestor, {
          input: file.absolute,
          options,
          onProgress: progress.update,
          ...stop,
        }),
      };
    } finally {
      progress.finish();
    }
  }
  const output = target.pathFor(VIDEO_EXTENSIONS[info.container]);
  checkTarget(output, target.rules);
  const temp = temporaryPathFor(output);
  try {
    await makeFolderFor(output);
    const result = await anonymizeVideo(nestor, {
      input: file.absolute,
      output: temp,
      options,
      onProgress: progress.update,
      ...stop,
    });
    checkTarget(output, target.rules);
    await rename(temp, output).catch((error: unknown) => {
      throw new NestorError('E_OUTPUT_WRITE', `Could not write ${output}`, { cause: error });
    });
    return { output, result };
  } finally {
    progress.finish();
    const leftover = await removeTemporary(temp);
    if (leftover) io.stderr.write(`nestor: ${file.given}: ${leftover}\n`);
  }
}
