import os from 'node:os';
import { type Config, Nestor, type PipelineParts } from '@nestor/core';
import { MODELS } from '@nestor/models';
import { createNodeEngine } from './onnx-engine.ts';
import { createSharpCodec } from './sharp-codec.ts';

/**
 * The pipeline wired to onnxruntime-node and sharp, models read from `modelsDir`. `adapt` may wrap
 * the engine and codec (the server's pool makes their steps cancellable).
 */
export function createNodeNestor(
  config: Config,
  modelsDir: string,
  adapt: (parts: PipelineParts) => PipelineParts = (parts) => parts,
): Nestor {
  const cores = Math.max(1, os.availableParallelism());
  return new Nestor({
    ...adapt({
      engine: createNodeEngine({ modelsDir, threads: config.engine.threads || cores }),
      codec: createSharpCodec(),
    }),
    models: MODELS,
    config,
    // Two views in flight per model: one sampled while the worker runs the other.
    concurrency: 2,
  });
}
