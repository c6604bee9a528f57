import {
  type AnonymizeResult,
  type CallHooks,
  type Config,
  type ConfigInput,
  type DetectionResult,
  type Engine,
  LABELS,
  modelsOfClass,
  Nestor,
  type NestorDeps,
  NestorError,
  type ProcessOptions,
  parseConfig,
  resolveSettings,
} from '@nestor/core';
import { MODELS } from '@nestor/models/manifest';
import { CanvasCodec, type CanvasCodecOptions, keepMetadataUnsupported } from './canvas-codec.ts';
import { OnnxWebEngine } from './onnx-web-engine.ts';
import { chooseBackend, directoryUrl, loadOrt } from './ort.ts';

export interface WebNestorOptions {
  /**
   * Where the Nestor server serves `models/<file>` and `ort/<file>` (e.g. `/` or
   * `https://nestor.example/`); relative URLs resolve against the page or worker location.
   */
  readonly assetsBaseUrl: string | URL;
  /**
   * Nestor's configuration (the one schema); defaults apply to what is left out. Give the server's
   * `detection` (`GET /v1/app-config`) to find what that server finds.
   */
  readonly config?: ConfigInput;
  /** Use WebGPU when the browser has an adapter (default: WASM). */
  readonly preferWebGpu?: boolean;
  readonly codec?: CanvasCodecOptions;
}

/**
 * The pipeline on device. Takes bytes or a Blob/File; keepMetadata is refused before any work,
 * since no browser encoder can keep it.
 */
export class WebNestor extends Nestor {
  override async detect(
    input: Uint8Array | Blob,
    options: ProcessOptions = {},
    hooks: CallHooks = {},
  ): Promise<DetectionResult> {
    return super.detect(await this.bytesOf(input), options, hooks);
  }

  override async anonymize(
    input: Uint8Array | Blob,
    options: ProcessOptions = {},
    hooks: CallHooks = {},
  ): Promise<AnonymizeResult> {
    if (resolveSettings(this.config, { ...options, task: 'anonymize' }).keepMetadata) {
      throw keepMetadataUnsupported();
    }
    return super.anonymize(await this.bytesOf(input), options, hooks);
  }

  /** A Blob too large is refused before it is read into memory. */
  private async bytesOf(input: Uint8Array | Blob): Promise<Uint8Array> {
    if (input instanceof Uint8Array) return input;
    const { maxBytes } = this.config.limits;
    if (input.size > maxBytes) {
      throw new NestorError(
        'E_INPUT_TOO_LARGE',
        `The input has ${input.size} bytes, more than the limit of ${maxBytes}`,
      );
    }
    return blobBytes(input);
  }
}

/**
 * Nestor in the browser: loads onnxruntime-web from `${assetsBaseUrl}ort/`, picks WASM or WebGPU,
 * and fetches models from `${assetsBaseUrl}models/` (sha256-checked) on first use or `warmUp()`.
 * Images never leave the page.
 */
export async function createWebNestor(options: WebNestorOptions): Promise<WebNestor> {
  const { engine, config } = await startWebEngine(options);
  return new WebNestor(webNestorDeps(engine, config, options.codec));
}

/** What `createWebNestor` runs on: onnxruntime-web loaded, the config checked for this browser. */
export interface WebEngineStart {
  readonly engine: Engine;
  readonly config: Config;
  /** WebAssembly threads onnxruntime-web computes on (1 unless cross-origin isolated). */
  readonly threads: number;
}

/** Loads onnxruntime-web for a web pipeline (the worker host builds one pipeline per call on it). */
export async function startWebEngine(options: WebNestorOptions): Promise<WebEngineStart> {
  const config = webNestorConfig(options.config);
  const base = directoryUrl(options.assetsBaseUrl);
  const backend = await chooseBackend(options.preferWebGpu ?? false);
  const ort = await loadOrt({ ortBaseUrl: new URL('ort/', base), backend, threads: config.engine.threads });
  return {
    engine: new OnnxWebEngine({ ort, backend, modelsBaseUrl: new URL('models/', base) }),
    config,
    threads: ort.env.wasm.numThreads ?? 1,
  };
}

/**
 * The config a web pipeline runs with, refused before anything loads when a browser cannot honour
 * it: keeping metadata, or a model this build's manifest lacks (a server newer than its web app):
 * running without that model would find other things than the server does.
 * @throws NestorError `E_INVALID_OPTION` for output.keepMetadata; `E_INVALID_CONFIG` naming the
 * unknown models (`details.unknownModels`)
 * @example webNestorConfig(appConfig.detection)
 */
export function webNestorConfig(input: ConfigInput = {}): Config {
  const config = parseConfig(input);
  if (config.output.keepMetadata) throw keepMetadataUnsupported();
  const known = new Set(MODELS.map((m) => m.id));
  // Every class, not only the targets: a run may ask for any of them.
  const unknown = [...new Set(LABELS.flatMap((l) => modelsOfClass(config.classes[l])))].filter(
    (id) => !known.has(id),
  );
  if (unknown.length > 0) {
    throw new NestorError(
      'E_INVALID_CONFIG',
      `The configuration names models this web app does not have: ${unknown.join(', ')}`,
      { details: { unknownModels: unknown } },
    );
  }
  return config;
}

/** The parts a web pipeline is made of (also used by tests that bring their own engine). */
export function webNestorDeps(
  engine: NestorDeps['engine'],
  config: NestorDeps['config'],
  codec: CanvasCodecOptions = {},
): NestorDeps {
  // One image at a time per model: the engine runs one inference at a time anyway.
  return { engine, codec: new CanvasCodec(codec), models: MODELS, config, concurrency: 1 };
}

/** The bytes of a File or Blob (e.g. from an <input type="file"> or a drop), for detect/anonymize. */
export async function blobBytes(blob: Blob): Promise<Uint8Array> {
  return new Uint8Array(await blob.arrayBuffer());
}
