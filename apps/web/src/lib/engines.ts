import {
  countFrames,
  type DetectionResult,
  type ImageFormat,
  type InputFormat,
  type Label,
  NestorError,
  type Preset,
  type Progress,
  type RedactionMethod,
  sniffImageFormat,
} from '@nestor/core';
import type { WorkerNestor } from '@nestor/engine-web/worker-client';
import type { RequestOptions } from '@nestor/sdk';
import { api, appConfig } from './api.ts';
import { fixOptions, type VideoFix } from './video-fixes.ts';

/** Where the detectors run: the Nestor server (API) or this browser (onnxruntime-web). */
export type EngineKind = 'server' | 'device';
export type Task = 'anonymize' | 'detect';

/** The options form; the same names as the API's options. */
export interface StudioOptions {
  readonly task: Task;
  readonly preset: Preset;
  readonly targets: readonly Label[];
  readonly method: RedactionMethod;
  readonly strength: number;
  /** Not in the form: the server's default, sent so that both engines soften edges alike. */
  readonly feather: number;
  readonly minScore: Readonly<Record<Label, number>>;
  readonly format: 'same' | ImageFormat;
  readonly quality: number;
  readonly keepMetadata: boolean;
}

/** A region a person reviewed: exactly what the final image covers. */
export interface ReviewedRegion {
  readonly label: Label;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly shape: 'ellipse' | 'rect';
}

/** What one run gives, whatever the engine. */
export interface RunOutput {
  readonly result: DetectionResult;
  /** The anonymized image (anonymize task only). */
  readonly image?: { readonly blob: Blob; readonly mimeType: string };
  /** Time on the wire and in queues: the round trip minus the server's own total (server only). */
  readonly networkMs?: number;
  /** The whole run as the page saw it. */
  readonly wallMs: number;
}

/**
 * The request options for a run. Reviewed regions (a still) replace the detector's: they are
 * added as manual regions, and a suppress rectangle over the whole image drops every model
 * detection. Fixes (an animation) add their timed regions and areas to the detector's.
 */
export function requestOptions(
  options: StudioOptions,
  reviewed?: { readonly regions: readonly ReviewedRegion[]; readonly width: number; readonly height: number },
  fixes: readonly VideoFix[] = [],
): RequestOptions {
  const out: RequestOptions = {
    preset: options.preset,
    targets: [...options.targets],
    method: options.method,
    strength: options.strength,
    feather: options.feather,
    minScore: { ...options.minScore },
    format: options.format,
    quality: options.quality,
    keepMetadata: options.keepMetadata,
  };
  const fixed = fixOptions(fixes);
  const addRegions = [...(reviewed?.regions ?? []).map((r) => ({ ...r })), ...fixed.addRegions];
  const suppress = [
    ...(reviewed ? [{ x: 0, y: 0, width: reviewed.width, height: reviewed.height }] : []),
    ...fixed.suppress,
  ];
  return {
    ...out,
    ...(addRegions.length > 0 ? { addRegions } : {}),
    ...(suppress.length > 0 ? { suppress } : {}),
  };
}

const elapsed = (start: number) => Math.round((performance.now() - start) * 10) / 10;

function base64ToBlob(base64: string, mimeType: string): Blob {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Blob([bytes], { type: mimeType });
}

/** One run on the server: the image goes over the network to this origin's API, which streams its progress. */
export async function runOnServer(
  file: Blob,
  task: Task,
  options: RequestOptions,
  call: RunCall = {},
): Promise<RunOutput> {
  const start = performance.now();
  if (task === 'detect') {
    const result = await api().detect(file, options, call);
    const wallMs = elapsed(start);
    return { result, wallMs, networkMs: Math.max(0, Math.round(wallMs - result.timings.totalMs)) };
  }
  checkAnimatedFormat(new Uint8Array(await file.arrayBuffer()), options.format ?? 'same');
  const { output, ...result } = await api().anonymizeJson(file, options, call);
  const wallMs = elapsed(start);
  return {
    result,
    image: { blob: base64ToBlob(output.base64, output.mimeType), mimeType: output.mimeType },
    wallMs,
    networkMs: Math.max(0, Math.round(wallMs - result.timings.totalMs)),
  };
}

/** Output formats that hold an animation (the server refuses the others for an animated input). */
const ANIMATION_FORMATS: readonly ('same' | ImageFormat)[] = ['same', 'gif', 'webp'];

/**
 * Refuses an animated image with an output format that cannot animate before it is uploaded, as the
 * server would (`E_INVALID_OPTION`), with `details.animatedFrames` for a sentence that says so.
 * @example checkAnimatedFormat(animatedGifBytes, 'jpeg') // throws E_INVALID_OPTION
 */
export function checkAnimatedFormat(bytes: Uint8Array, chosen: 'same' | ImageFormat): void {
  if (ANIMATION_FORMATS.includes(chosen)) return;
  const frames = countFrames(bytes);
  if (frames > 1) {
    throw new NestorError(
      'E_INVALID_OPTION',
      `The image is animated (${frames} frames): ${chosen} cannot hold it; choose same, gif or webp`,
      { details: { animatedFrames: frames } },
    );
  }
}

let device: Promise<WorkerNestor> | undefined;

/**
 * The on-device pipeline, created once with the server's detection settings (never the built-in
 * defaults, which would find other things than the server): onnxruntime-web and the models come
 * from this server too. It runs in a Web Worker, so decoding and inference never hold the page. A
 * model the server names that this build lacks fails it (E_INVALID_CONFIG).
 */
export async function devicePipeline(): Promise<WorkerNestor> {
  device ??= Promise.all([import('@nestor/engine-web/worker-client'), appConfig()]).then(
    ([{ WorkerNestor }, server]) =>
      WorkerNestor.start(new Worker(new URL('./device.worker.ts', import.meta.url), { type: 'module' }), {
        assetsBaseUrl: `${window.location.origin}/`,
        preferWebGpu: true,
        config: server.detection,
      }),
  );
  const starting = device;
  let nestor: WorkerNestor;
  try {
    nestor = await starting;
  } catch (error) {
    // A failed start (no WebAssembly, models missing, no app-config) is tried again by the next run.
    if (device === starting) device = undefined;
    throw error;
  }
  if (nestor.usable) return nestor;
  // The worker failed (an error it could not answer): the next run gets a new one.
  if (device === starting) device = undefined;
  return devicePipeline();
}

/**
 * Whether on-device inference is limited to one WebAssembly thread (slow): threads need a
 * cross-origin-isolated page, which the Nestor server's COOP/COEP headers make; a proxy that drops
 * them, or a page from another server, leaves it not isolated.
 */
export function deviceSingleThreaded(): boolean {
  return globalThis.crossOriginIsolated !== true;
}

/** One run in this browser: nothing of the image is sent anywhere. */
export async function runOnDevice(
  file: Blob,
  task: Task,
  options: RequestOptions,
  call: RunCall = {},
): Promise<RunOutput> {
  const start = performance.now();
  const nestor = await devicePipeline();
  // The worker reads the file itself; the page reads only enough to know its format.
  if (task === 'detect') {
    const result = await nestor.detect(file, options, call);
    return { result, wallMs: elapsed(start) };
  }
  const head = new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer());
  const format = deviceOutputFormat(options.format ?? 'same', sniffImageFormat(head));
  const out = await nestor.anonymize(file, { ...options, format }, call);
  return {
    result: out.result,
    image: { blob: new Blob([new Uint8Array(out.bytes)], { type: out.mimeType }), mimeType: out.mimeType },
    wallMs: elapsed(start),
  };
}

/** Enough of a file's start to tell its format (an ISO-BMFF ftyp box lists its brands there). */
const SNIFF_BYTES = 256;

/** What the page can do with a run while it works. */
export interface RunCall {
  /** Stops it: the server's request, or the worker between two steps. */
  readonly signal?: AbortSignal;
  /** Where it stands: the worker's reports, or the server's (streamed from once the image is decoded). */
  readonly onProgress?: (progress: Progress) => void;
}

/** One run on the chosen engine. */
export function run(
  engine: EngineKind,
  file: Blob,
  task: Task,
  options: RequestOptions,
  call: RunCall = {},
): Promise<RunOutput> {
  return engine === 'server'
    ? runOnServer(file, task, options, call)
    : runOnDevice(file, task, options, call);
}

/** Formats the browser can write: on this device the output is limited to them. */
export const DEVICE_FORMATS: readonly ('same' | ImageFormat)[] = ['same', 'jpeg', 'png', 'webp'];

/**
 * The format asked of the on-device engine: "same as input" for an input the browser cannot write
 * (AVIF, TIFF, GIF) becomes WebP for AVIF (a lossy photo format) and PNG otherwise (lossless). An
 * HEIC photo is written as JPEG by the pipeline, which the browser writes.
 */
export function deviceOutputFormat(
  chosen: 'same' | ImageFormat,
  input: InputFormat | undefined,
): 'same' | ImageFormat {
  if (chosen !== 'same' || input === undefined || input === 'heic' || DEVICE_FORMATS.includes(input))
    return chosen;
  return input === 'avif' ? 'webp' : 'png';
}
