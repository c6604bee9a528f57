import os from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  type AnonymizeResult,
  type Config,
  type DetectionResult,
  type ErrorCode,
  NestorError,
  type Pipeline,
  type ProcessOptions,
} from '@nestor/core';

export type PoolRequest =
  | {
      readonly id: number;
      readonly task: 'detect' | 'anonymize';
      readonly bytes: Uint8Array;
      readonly options: ProcessOptions;
    }
  | {
      readonly id: number;
      readonly task: 'warmUp' | 'dispose';
      readonly bytes?: undefined;
      readonly options?: undefined;
    };

export type PoolResponse =
  | { readonly id: number; readonly ok: true; readonly task: 'detect'; readonly result: DetectionResult }
  | { readonly id: number; readonly ok: true; readonly task: 'anonymize'; readonly output: AnonymizeResult }
  | { readonly id: number; readonly ok: true; readonly task: 'warmUp' | 'dispose' }
  | { readonly id: number; readonly ok: false; readonly code: ErrorCode; readonly message: string };

interface Member {
  readonly worker: Worker;
  busy: number;
}

/**
 * A pool of worker threads, each with its own pipeline: decoding, tiling, redaction and encoding
 * all happen off the event loop, which only parses requests and writes answers. Work goes to the
 * least busy worker.
 */
export function createPipelinePool(options: { size: number; config: Config; modelsDir: string }): Pipeline {
  const pending = new Map<number, { resolve: (r: PoolResponse) => void; reject: (e: unknown) => void }>();
  let nextId = 0;
  const size = Math.max(1, options.size);
  const config = withThreadShare(options.config, size);
  const members: Member[] = Array.from({ length: size }, () => {
    const worker = new Worker(new URL('./pool-worker.mjs', import.meta.url), {
      workerData: { config, modelsDir: options.modelsDir },
    });
    worker.on('message', (response: PoolResponse) => {
      const p = pending.get(response.id);
      pending.delete(response.id);
      p?.resolve(response);
    });
    worker.on('error', (error) => {
      for (const p of pending.values())
        p.reject(new NestorError('E_INTERNAL', 'A pipeline worker failed', { cause: error }));
      pending.clear();
    });
    return { worker, busy: 0 };
  });

  const send = async (request: Omit<PoolRequest, 'id'>, member?: Member): Promise<PoolResponse> => {
    const target = member ?? members.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = nextId++;
    target.busy++;
    try {
      const response = await new Promise<PoolResponse>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // A private copy whose buffer can be handed over (a request's buffer may be shared).
        const transfer = request.bytes ? [new Uint8Array(request.bytes).buffer as ArrayBuffer] : [];
        const bytes = transfer[0] ? new Uint8Array(transfer[0]) : undefined;
        target.worker.postMessage({ ...request, id, ...(bytes ? { bytes } : {}) }, transfer);
      });
      if (!response.ok) throw new NestorError(response.code, response.message);
      return response;
    } finally {
      target.busy--;
    }
  };

  return {
    async detect(bytes, processOptions = {}) {
      const r = await send({ task: 'detect', bytes, options: processOptions });
      if (r.ok && r.task === 'detect') return r.result;
      throw new NestorError('E_INTERNAL');
    },
    async anonymize(bytes, processOptions = {}) {
      const r = await send({ task: 'anonymize', bytes, options: processOptions });
      if (r.ok && r.task === 'anonymize') return r.output;
      throw new NestorError('E_INTERNAL');
    },
    async warmUp() {
      await Promise.all(members.map((m) => send({ task: 'warmUp' }, m)));
    },
    async dispose() {
      try {
        await Promise.all(members.map((m) => send({ task: 'dispose' }, m)));
      } finally {
        await Promise.all(members.map((m) => m.worker.terminate()));
      }
    },
  };
}

/**
 * Unless the config fixes it, each worker's inference sessions get an equal share of the cores:
 * workers that each spawn one thread per core oversubscribe the CPU once they run at the same time.
 */
export function withThreadShare(config: Config, size: number): Config {
  if (config.engine.threads > 0) return config;
  const threads = Math.max(1, Math.floor(os.availableParallelism() / size));
  return { ...config, engine: { ...config.engine, threads } };
}
