import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type ImageCodec, type Nestor, NestorError, type ProcessOptions, type RawImage } from '@nestor/core';
import { assembleSheet, captioned, renderTile } from './contact-sheet.ts';
import {
  type GroundTruthImage,
  type Prediction,
  type ReviewCase,
  reviewCases,
  scoreDetections,
  toPrediction,
} from './eval-metrics.ts';
import { encodeDrawn, readAnnotations, readSetImage } from './labelled-set.ts';
import type { Io } from './main.ts';
import { Progress } from './progress.ts';

export interface EvalFlags {
  readonly setDir: string;
  readonly minSide: string;
  readonly predictions?: string;
  /** Score this predictions file (eval.mjs format) instead of detecting. */
  readonly from?: string;
  /** Write review sheets of the false positives and misses to this folder. */
  readonly review?: string;
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
  codec: ImageCodec,
): Promise<number> {
  const images = await readAnnotations(flags.setDir);
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
  return report(images, predictions, Math.round(detectMs / Math.max(1, images.length)), flags, io, codec);
}

/** `nestor eval --from P`: scores (and reviews) saved predictions without running a model. */
export async function runEvalFromPredictions(flags: EvalFlags & { from: string }, io: Io, codec: ImageCodec) {
  const images = await readAnnotations(flags.setDir);
  const file = path.resolve(flags.cwd, flags.from);
  let predictions: Record<string, Prediction[]>;
  try {
    predictions = (JSON.parse(await readFile(file, 'utf8')) as { images: Record<string, Prediction[]> })
      .images;
  } catch (error) {
    throw new NestorError('E_INPUT_UNREADABLE', `Could not read ${file}`, { cause: error });
  }
  if (typeof predictions !== 'object' || predictions === null) {
    throw new NestorError('E_INPUT_UNREADABLE', `${file} has no "images" object (eval.mjs format)`);
  }
  return report(images, predictions, undefined, flags, io, codec);
}

async function report(
  images: readonly GroundTruthImage[],
  predictions: Readonly<Record<string, readonly Prediction[]>>,
  meanDetectMs: number | undefined,
  flags: EvalFlags,
  io: Io,
  codec: ImageCodec,
): Promise<number> {
  const minSide = Number(flags.minSide) || 10;
  const metrics = scoreDetections(images, predictions, minSide);
  if (flags.json) {
    io.stdout.write(
      `${JSON.stringify({ images: images.length, ...(meanDetectMs === undefined ? {} : { meanDetectMs }), metrics })}\n`,
    );
  } else {
    for (const [label, m] of Object.entries(metrics)) io.stdout.write(`${label} ${JSON.stringify(m)}\n`);
    io.stdout.write(
      `images ${images.length}${meanDetectMs === undefined ? '' : `, mean detect ${meanDetectMs} ms`}\n`,
    );
  }
  if (flags.review) {
    const dir = path.resolve(flags.cwd, flags.review);
    const cases = reviewCases(images, predictions, minSide);
    const sheets = await writeReview(flags.setDir, cases, dir, codec);
    const count = (kind: ReviewCase['kind']) => cases.filter((c) => c.kind === kind).length;
    io.stderr.write(
      `review: ${count('false-positive')} false positives and ${count('miss')} misses on ${sheets} sheets in ${dir}\n`,
    );
  }
  return 0;
}

/** Tiles per review sheet (10 columns). */
const SHEET_TILES = 100;
const SHEET_COLUMNS = 10;
const TILE_PX = 128;

/**
 * One PNG sheet per 100 errors of a label and kind: false positives by score, highest first (the
 * surest mistakes), misses by size, largest first (the worst leaks). review.json maps each
 * tile's number to its image and box.
 */
async function writeReview(setDir: string, cases: readonly ReviewCase[], dir: string, codec: ImageCodec) {
  await mkdir(dir, { recursive: true });
  const tiles = new Map<ReviewCase, RawImage>();
  const byFile = groupBy(cases, (c) => c.file);
  for (const [file, own] of byFile) {
    const image = await readSetImage(setDir, file, codec);
    for (const c of own) {
      tiles.set(c, renderTile(image, { focus: c.box, truths: c.truths, predictions: c.regions }, TILE_PX));
    }
  }
  const groups = groupBy(cases, (c) => `${c.label}-${c.kind === 'miss' ? 'misses' : 'false-positives'}`);
  const index: { file: string; label: string; kind: string; tiles: object[] }[] = [];
  for (const [name, group] of groups) {
    const ordered = [...group].sort((a, b) =>
      a.kind === 'miss' ? b.box.w * b.box.h - a.box.w * a.box.h : b.value - a.value,
    );
    for (let page = 0; page * SHEET_TILES < ordered.length; page++) {
      const chunk = ordered.slice(page * SHEET_TILES, (page + 1) * SHEET_TILES);
      const file = `${name}-${page + 1}.png`;
      const rendered = chunk.map((c, k) => captioned(tiles.get(c)!, `${k + 1} ${c.value.toFixed(2)}`));
      const sheet = assembleSheet(rendered, SHEET_COLUMNS);
      await writeFile(path.join(dir, file), await encodeDrawn(codec, sheet, 'png', 100));
      index.push({
        file,
        label: chunk[0]!.label,
        kind: chunk[0]!.kind,
        tiles: chunk.map((c, k) => ({ tile: k + 1, image: c.file, box: c.box, value: c.value })),
      });
    }
  }
  await writeFile(path.join(dir, 'review.json'), `${JSON.stringify({ sheets: index }, null, 2)}\n`);
  return index.length;
}

/** Map.groupBy, which Node 20 lacks. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
