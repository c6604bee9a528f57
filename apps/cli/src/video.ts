import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
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
import { checkTarget, type TargetRules } from './outputs.ts';

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

/** Where the anonymized copy of a video goes: beside it as NAME.anonymized.EXT, or mirrored under outDir. */
export function videoOutputPath(input: InputFile, extension: string, outDir: string | undefined): string {
  const parsed = path.parse(input.absolute);
  if (!outDir) return path.join(parsed.dir, `${parsed.name}.anonymized${extension}`);
  const rel = path.parse(input.fromTree ? input.relative : path.basename(input.absolute));
  return path.join(path.resolve(outDir), rel.dir, `${rel.name}${extension}`);
}

/**
 * Anonymizes one video file (same container out), or with `detectOnly` only analyses it. ffmpeg
 * writes to a hidden temporary name renamed into place, so a failed run leaves no half file.
 */
export async function processVideoFile(
  nestor: FramePipeline,
  file: InputFile,
  options: ProcessOptions,
  target: { outDir: string | undefined; rules: TargetRules; detectOnly: boolean },
  io: { stderr: Stream; quiet: boolean },
): Promise<{ output?: string; result: VideoResult }> {
  const info = await probeVideo(file.absolute);
  const progress = progressLine(io.stderr, path.basename(file.given), !io.quiet && Boolean(io.stderr.isTTY));
  if (target.detectOnly) {
    try {
      return {
        result: await anonymizeVideo(nestor, { input: file.absolute, options, onProgress: progress.update }),
      };
    } finally {
      progress.finish();
    }
  }
  const output = videoOutputPath(file, VIDEO_EXTENSIONS[info.container], target.outDir);
  checkTarget(output, target.rules);
  const temp = path.join(
    path.dirname(output),
    `.${path.basename(output)}.${randomBytes(6).toString('hex')}.part`,
  );
  try {
    await mkdir(path.dirname(output), { recursive: true });
    const result = await anonymizeVideo(nestor, {
      input: file.absolute,
      output: temp,
      options,
      onProgress: progress.update,
    });
    checkTarget(output, target.rules);
    await rename(temp, output).catch((error: unknown) => {
      throw new NestorError('E_OUTPUT_WRITE', `Could not write ${output}`, { cause: error });
    });
    return { output, result };
  } finally {
    progress.finish();
    await rm(temp, { force: true });
  }
}
