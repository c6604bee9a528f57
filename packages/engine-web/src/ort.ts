import { NestorError } from '@nestor/core';
import type * as OrtWeb from 'onnxruntime-web';

/** onnxruntime-web's module: imported from the package in Node, loaded from our server in browsers. */
export type OrtModule = typeof OrtWeb;

/** The execution providers Nestor uses on the web. */
export type WebBackend = 'wasm' | 'webgpu';

/** The ESM builds served under `/ort/`: each loads its `ort-wasm-simd-threaded*.mjs/.wasm` from the same folder. */
export const ORT_ENTRY: Readonly<Record<WebBackend, string>> = {
  wasm: 'ort.wasm.min.mjs',
  webgpu: 'ort.webgpu.min.mjs',
};

/** Every file a browser may fetch from onnxruntime-web's `dist/` folder (the server serves exactly these). */
export const ORT_RUNTIME_FILES = [
  ORT_ENTRY.wasm,
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  ORT_ENTRY.webgpu,
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
] as const;

interface GpuNavigator {
  readonly gpu?: { requestAdapter(): Promise<unknown> };
}

/** WebGPU when the caller allows it and the browser has an adapter; WASM otherwise. */
export async function chooseBackend(preferWebGpu: boolean): Promise<WebBackend> {
  if (!preferWebGpu || typeof navigator === 'undefined') return 'wasm';
  const gpu = (navigator as GpuNavigator).gpu;
  if (!gpu) return 'wasm';
  try {
    return (await gpu.requestAdapter()) ? 'webgpu' : 'wasm';
  } catch {
    // An adapter request that throws (blocked GPU, lost device) means the same as none.
    return 'wasm';
  }
}

/**
 * What the on-device engine needs and this browser (or worker) lacks: WebAssembly (onnxruntime-web)
 * and Web Crypto (the models' sha256 check; only in secure contexts, HTTPS or localhost).
 * @example missingBrowserFeatures() // ['Web Crypto'] on a page served over plain HTTP
 */
export function missingBrowserFeatures(): string[] {
  const missing: string[] = [];
  if (typeof WebAssembly === 'undefined') missing.push('WebAssembly');
  if (!globalThis.crypto?.subtle) missing.push('Web Crypto');
  return missing;
}

/**
 * Loads onnxruntime-web at run time from `ortBaseUrl` (where the server serves ORT_RUNTIME_FILES),
 * so no bundler ever processes its WebAssembly glue. Threads need cross-origin isolation
 * (SharedArrayBuffer); without it one thread runs.
 */
export async function loadOrt(options: {
  readonly ortBaseUrl: string | URL;
  readonly backend: WebBackend;
  readonly threads?: number;
}): Promise<OrtModule> {
  const missing = missingBrowserFeatures();
  if (missing.length > 0) {
    throw new NestorError(
      'E_MODEL_LOAD',
      `This browser lacks ${missing.join(' and ')}, which the on-device engine needs`,
      {
        details: { missing },
      },
    );
  }
  const base = directoryUrl(options.ortBaseUrl);
  const entry = new URL(ORT_ENTRY[options.backend], base).href;
  const ort = (await import(
    /* webpackIgnore: true */ /* turbopackIgnore: true */ /* @vite-ignore */ entry
  ).catch((cause: unknown) => {
    throw new NestorError('E_MODEL_LOAD', `onnxruntime-web could not be loaded from ${entry}`, { cause });
  })) as OrtModule;
  ort.env.wasm.wasmPaths = base.href;
  ort.env.wasm.numThreads = threadCount(options.threads ?? 0);
  ort.env.logLevel = 'error';
  return ort;
}

/**
 * Threads only when cross-origin isolated (1 otherwise). 0 = half the cores, at most 4 (ORT's own
 * default): the page's thread also works (sampling views, decoding outputs), and on 2 loaded cores
 * a second WebAssembly thread was measured to slow detection down.
 */
export function threadCount(requested: number): number {
  const isolated = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
  if (!isolated) return 1;
  if (requested > 0) return requested;
  const cores = typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency || 1;
  return Math.max(1, Math.min(4, Math.ceil(cores / 2)));
}

/** A URL that ends in `/`, resolved against the page (or worker) location when relative. */
export function directoryUrl(url: string | URL): URL {
  const base = typeof location === 'undefined' ? undefined : location.href;
  const resolved = new URL(String(url), base);
  if (!resolved.pathname.endsWith('/')) resolved.pathname += '/';
  return resolved;
}
