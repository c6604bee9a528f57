import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Nestor, NestorError, type ProcessOptions } from '@nestor/core';
import { type GroundTruthImage, type Prediction, scoreDetections, toPrediction } from './eval-metrics.ts';
import type { Io } from './main.ts';
import { Progress } from './progress.ts';

export interface EvalFlags {
  readonly setDir: string;
  readonly minSide: string;
  readonly predictions?: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly cwd: string;
}

/** `nestor eval`: detects on every image of an annotated set and scores it like shared/tools/eval.mjs. */
export async function runEval(
  nestor: Nestor,
  options: ProcessOptions,
  flags: EvalFlags,
  io: Io,
): Promise<number> {
  const annotationsPath = path.join(flags.setDir, 'annotations.json');
  let images: GroundTruthImage[];
  try {
    images = (JSON.parse(await readFile(annotationsPath, 'utf8')) as { images: GroundTruthImage[] }).images;
  } catch (error) {
    throw new NestorError('E_INPUT_UNREADABLE', `Could not read ${annotationsPath}`, { cause: error });
  }
  const predictions: Record<string, Prediction[]> = {};
  const progress = new Progress(io.stderr, images.length, 'eval', !flags.quiet && Boolean(io.stderr.isTTY));
  let detectMs = 0;
  for (const img of images) {
    const bytes = new Uint8Array(await readFile(path.join(flags.setDir, img.file)));
    const result = await nestor.detect(bytes, options);
    detectMs += result.timings.detectMs;
    predictions[img.file] = result.detections.map(toPrediction);
    progress.tick(true, img.file);
  }
  progress.finish();
  if (flags.predictions) {
    await writeFile(
      path.resolve(flags.cwd, flags.predictions),
      `${JSON.stringify({ images: predictions })}\n`,
    );
  }
  const metrics = scoreDetections(images, predictions, Number(flags.minSide) || 10);
  const meanDetectMs = Math.round(detectMs / Math.max(1, images.length));
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ images: images.length, meanDetectMs, metrics })}\n`);
  } else {
    for (const [label, m] of Object.entries(metrics)) io.stdout.write(`${label} ${JSON.stringify(m)}\n`);
    io.stdout.write(`images ${images.length}, mean detect ${meanDetectMs} ms\n`);
  }
  return 0;
}
