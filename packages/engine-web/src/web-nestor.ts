import {
  type AnonymizeResult,
  type ConfigInput,
  type DetectionResult,
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
  /** Nestor's configuration (the one schema); defaults apply to what is left out. */
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
  override async detect(input: Uint8Array | Blob, options: ProcessOptions = {}): Promise<DetectionResult> {
    return super.detect(await this.bytesOf(input), options);
  }

  override async anonymize(input: Uint8Array | Blob, options: ProcessOptions = {}): Promise<AnonymizeResult> {
    if (resolveSettings(this.config, { ...options, task: 'anonymize' }).keepMetadata) {
      throw keepMetadataUnsupported();
    }
    return super.anonymize(await this.bytesOf(input), options);
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
  const config = parseConfig(options.config ?? {});
  if (config.output.keepMetadata) throw keepMetadataUnsupported();
  const base = directoryUrl(options.assetsBaseUrl);
  const backend = await chooseBackend(options.preferWebGpu ?? false);
  const ort = await loadOrt({ ortBaseUrl: new URL('ort/', base), backend, threads: config.engine.threads });
  return new WebNestor(
    webNestorDeps(
      new OnnxWebEngine({ ort, backend, modelsBaseUrl: new URL('models/', base) }),
      config,
      options.codec,
    ),
  );
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
