import { type Engine, type InferenceSession, type ModelSpec, NestorError, type Tensor } from '@nestor/core';
import type { InferenceSession as OrtSession, Tensor as OrtTensor } from 'onnxruntime-web';
import { directoryUrl, type OrtModule, type WebBackend } from './ort.ts';

export interface OnnxWebEngineOptions {
  /** onnxruntime-web's module (`loadOrt` in browsers, `import('onnxruntime-web')` in Node). */
  readonly ort: OrtModule;
  readonly backend: WebBackend;
  /** Where each model's `file` is fetched from (the server's `/models/`). */
  readonly modelsBaseUrl?: string | URL;
  /** Reads a model's bytes instead of fetching it from `modelsBaseUrl`. */
  readonly fetchModel?: (spec: ModelSpec) => Promise<Uint8Array>;
}

/**
 * onnxruntime-web as a core `Engine`: models are fetched, checked against the manifest's sha256
 * (crypto.subtle) and only then handed to onnxruntime.
 */
export class OnnxWebEngine implements Engine {
  readonly name: string;
  /** Runs go one at a time: WASM computes on one thread anyway, and WebGPU sessions must not interleave. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: OnnxWebEngineOptions) {
    if (!options.fetchModel && options.modelsBaseUrl === undefined) {
      throw new NestorError('E_INVALID_CONFIG', 'OnnxWebEngine needs modelsBaseUrl or fetchModel');
    }
    this.name = `onnxruntime-web/${options.backend}`;
  }

  async loadModel(spec: ModelSpec): Promise<InferenceSession> {
    const bytes = await this.modelBytes(spec);
    const digest = await sha256Hex(bytes);
    if (digest !== spec.sha256) {
      throw new NestorError(
        'E_MODEL_INTEGRITY',
        `${spec.file} does not match the sha256 recorded for ${spec.id}`,
      );
    }
    const { ort, backend } = this.options;
    let session: OrtSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: [backend],
        logSeverityLevel: 3,
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      throw new NestorError('E_MODEL_LOAD', `onnxruntime-web could not load ${spec.id}`, { cause: error });
    }
    return {
      run: (feeds) => this.serial(() => run(ort, session, spec, feeds)),
      release: () => this.serial(() => session.release()),
    };
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    // The queue only orders work; each caller sees its own outcome.
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async modelBytes(spec: ModelSpec): Promise<Uint8Array> {
    const { fetchModel, modelsBaseUrl } = this.options;
    if (fetchModel) return fetchModel(spec);
    // The hash in the query gives each model version its own URL, so a long cache never serves a stale file.
    const url = new URL(`${spec.file}?v=${spec.sha256.slice(0, 16)}`, directoryUrl(modelsBaseUrl!));
    let response: Response;
    try {
      response = await fetch(url, { credentials: 'same-origin' });
    } catch (error) {
      throw new NestorError('E_NETWORK', `Could not fetch the model ${spec.id} from ${url.origin}`, {
        cause: error,
      });
    }
    if (!response.ok) {
      throw new NestorError(
        'E_MODEL_MISSING',
        `The model ${spec.id} could not be fetched from ${url.pathname} (HTTP ${response.status})`,
      );
    }
    return new Uint8Array(await response.arrayBuffer());
  }
}

async function run(
  ort: OrtModule,
  session: OrtSession,
  spec: ModelSpec,
  feeds: Readonly<Record<string, Tensor>>,
): Promise<Record<string, Tensor>> {
  const ortFeeds: Record<string, OrtTensor> = {};
  for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float32', t.data, t.dims);
  let results: OrtSession.OnnxValueMapType;
  try {
    results = await session.run(ortFeeds);
  } catch (error) {
    throw new NestorError('E_INFERENCE', `onnxruntime-web failed to run ${spec.id}`, { cause: error });
  }
  const out: Record<string, Tensor> = {};
  for (const [name, value] of Object.entries(results)) {
    out[name] = { data: value.data as Float32Array, dims: value.dims };
  }
  return out;
}

/** Lower-case hex sha256, as in the manifest (Web Crypto: browsers, workers and Node). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  if (!globalThis.crypto?.subtle) {
    // Browsers only expose Web Crypto to secure contexts: HTTPS, or a loopback address.
    throw new NestorError(
      'E_MODEL_INTEGRITY',
      'Models cannot be verified here: this page is not a secure context (serve it over HTTPS or from localhost)',
    );
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}
