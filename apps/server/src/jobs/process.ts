import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  atMostEvery,
  type DetectionResult,
  FILE_EXTENSIONS,
  type Nestor,
  NestorError,
  type NestorErrorJson,
  type Progress,
  progressFraction,
  toNestorError,
} from '@nestor/core';
import {
  anonymizeVideo,
  type FramePipeline,
  probeVideo,
  VIDEO_EXTENSIONS,
  VIDEO_MIME_TYPES,
} from '@nestor/video';
import { zipSync } from 'fflate';
import type { JobStorage } from './storage.ts';
import type { JobOutput, JobProgress, JobSpec } from './types.ts';

export const DETECTIONS_FILE = 'detections.json';

/** A job's progress is told (a Redis write with BullMQ) at most this often, except when an image ends. */
const PROGRESS_EVERY_MS = 250;

/**
 * A batch's progress once `done` of `total` images are (fractional while one runs: a 12 MP
 * `thorough` photo takes half a minute), and the time left at the pace so far.
 * @example batchProgress(1.5, 3, 30) // { progress: 0.5, etaSeconds: 30 }
 */
export function batchProgress(done: number, total: number, elapsedSeconds: number): JobProgress {
  const progress = Math.min(1, done / total);
  if (done <= 0) return { progress };
  return { progress, etaSeconds: Math.round((elapsedSeconds / done) * Math.max(0, total - done)) };
}

/** What a job needs of a pipeline: images go through `detect` or `anonymize`, a video frame by frame. */
export type JobPipeline = Pick<Nestor, 'detect' | 'anonymize'> & FramePipeline;

/**
 * Runs one job to its output files: a video is anonymized to the same container (or only
 * analysed in detect mode), a batch of images becomes a ZIP. The detections JSON is written
 * beside the result. Used by the in-process queue and by BullMQ workers alike.
 */
export async function runJob(
  nestor: JobPipeline,
  storage: JobStorage,
  spec: JobSpec,
  onProgress: (progress: JobProgress) => void,
  signal?: AbortSignal,
): Promise<JobOutput> {
  const inDir = storage.inputDir(spec.id);
  const outDir = storage.outputDir(spec.id);
  const detect = spec.options.task === 'detect';
  const write = async (fileName: string, mimeType: string, data?: Uint8Array): Promise<JobOutput> => {
    const file = path.join(outDir, fileName);
    if (data) await writeFile(file, data, { mode: 0o600 });
    return { fileName, mimeType, bytes: (await stat(file)).size };
  };

  if (spec.kind === 'video') {
    const input = path.join(inDir, spec.inputs[0]!);
    const info = await probeVideo(input);
    const fileName = `anonymized${VIDEO_EXTENSIONS[info.container]}`;
    const tell = atMostEvery(PROGRESS_EVERY_MS, onProgress);
    const result = await anonymizeVideo(nestor, {
      input,
      ...(detect ? {} : { output: path.join(outDir, fileName) }),
      options: spec.options,
      ...(signal ? { signal } : {}),
      onProgress: (p) =>
        tell({ progress: p.frame / p.frames, etaSeconds: Math.round(p.etaSeconds) }, p.frame === p.frames),
    });
    const json = new TextEncoder().encode(JSON.stringify(result));
    if (detect) return write(DETECTIONS_FILE, 'application/json', json);
    await write(DETECTIONS_FILE, 'application/json', json);
    return write(fileName, VIDEO_MIME_TYPES[info.container]);
  }

  const started = performance.now();
  const tell = atMostEvery(PROGRESS_EVERY_MS, onProgress);
  const report = (done: number, always = false) =>
    tell(batchProgress(done, spec.inputs.length, (performance.now() - started) / 1000), always);
  const files: Record<string, Uint8Array> = {};
  const results: ({ file: string } & (DetectionResult | { error: NestorErrorJson }))[] = [];
  for (const [i, name] of spec.inputs.entries()) {
    signal?.throwIfAborted();
    const bytes = new Uint8Array(await readFile(path.join(inDir, name)));
    const hooks = { onProgress: (p: Progress) => report(i + progressFraction(p)) };
    try {
      if (detect) {
        results.push({ file: name, ...(await nestor.detect(bytes, spec.options, hooks)) });
      } else {
        const out = await nestor.anonymize(bytes, spec.options, hooks);
        const outName = `${path.parse(name).name}${FILE_EXTENSIONS[out.format]}`;
        files[uniqueName(files, outName)] = out.bytes;
        results.push({ file: name, ...out.result });
      }
    } catch (error) {
      // One bad image does not fail the batch: it is reported in the detections JSON.
      const e = toNestorError(error);
      if (e.code === 'E_INTERNAL' || e.code.startsWith('E_MODEL')) throw e;
      results.push({ file: name, error: e.toJSON() });
    }
    report(i + 1, true);
  }
  const json = new TextEncoder().encode(JSON.stringify({ results }));
  if (detect) return write(DETECTIONS_FILE, 'application/json', json);
  if (Object.keys(files).length === 0) {
    throw new NestorError('E_UNSUPPORTED_MEDIA', 'None of the images could be processed');
  }
  await write(DETECTIONS_FILE, 'application/json', json);
  // Images are already compressed: stored, not deflated again.
  return write('anonymized.zip', 'application/zip', zipSync(files, { level: 0 }));
}

function uniqueName(taken: Record<string, unknown>, name: string): string {
  if (!(name in taken)) return name;
  const { name: base, ext } = path.parse(name);
  let i = 2;
  while (`${base}-${i}${ext}` in taken) i++;
  return `${base}-${i}${ext}`;
}
