import os from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  type AnonymizeResult,
  type CallHooks,
  type Config,
  type DetectionResult,
  type ErrorCode,
  NestorError,
  type Pipeline,
  type ProcessOptions,
  type Progress,
} from '@nestor/core';

export type PoolRequest =
  | {
      readonly id: number;
      readonly task: 'detect' | 'anonymize';
      readonly bytes: Uint8Array;
      readonly options: ProcessOptions;
      /** Whether the worker sends the request's progress (a message per inference run). */
      readonly progress?: boolean;
    }
  | {
      readonly id: number;
      readonly task: 'warmUp' | 'dispose';
      readonly bytes?: undefined;
      readonly options?: undefined;
    }
  /** Stop request `id` (it is answered once it has stopped); this message itself gets no answer. */
  | {
      readonly id: number;
      readonly task: 'cancel';
      readonly bytes?: undefined;
      readonly options?: undefined;
    };

export type PoolResponse =
  | { readonly id: number; readonly ok: true; readonly task: 'detect'; readonly result: DetectionResult }
  | { readonly id: number; readonly ok: true; readonly task: 'anonymize'; readonly output: AnonymizeResult }
  | { readonly id: number; readonly ok: true; readonly task: 'warmUp' | 'dispose' }
  | { readonly id: number; readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** Sent by a worker while request `id` runs, when it asked for progress; not an answer. */
export interface PoolProgress {
  readonly id: number;
  readonly progress: Progress;
}

/** One call: a signal that stops its work, and a listener for its progress. */
export interface PipelineCall extends CallHooks {
  readonly signal?: AbortSignal;
}

/**
 * A pipeline whose work stops when the call's signal aborts: it then rejects with the signal's
 * reason, and only once the work has stopped. A plain `Pipeline` (tests) ignores the signal.
 */
export interface CancellablePipeline extends Pipeline {
  detect(bytes: Uint8Array, options?: ProcessOptions, call?: PipelineCall): Promise<DetectionResult>;
  anonymize(bytes: Uint8Array, options?: ProcessOptions, call?: PipelineCall): Promise<AnonymizeResult>;
}

interface Member {
  readonly worker: Worker;
  alive: boolean;
  readonly pending: Map<
    number,
    {
      resolve: (r: PoolResponse) => void;
      reject: (e: unknown) => void;
      onProgress?: ((progress: Progress) => void) | undefined;
    }
  >;
  busy: number;
}

/** Why a pipeline worker thread stopped, for the server's log. */
export interface WorkerExit {
  readonly index: number;
  readonly exitCode: number;
  readonly error?: unknown;
}

export interface PipelinePoolOptions {
  readonly size: number;
  readonly config: Config;
  readonly modelsDir: string;
  /** Told when a worker thread stops on its own; the pool has already started its replacement. */
  readonly onWorkerExit?: (exit: WorkerExit) => void;
  /** The worker thread's entry (tests give one that can be made to crash). */
  readonly workerUrl?: URL;
}

/** The longest wait before a worker that keeps dying at start-up is started again. */
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * A pool of worker threads, each with its own pipeline: decoding, tiling, redaction and encoding
 * all happen off the event loop, which only parses requests and writes answers. Work goes to the
 * least busy worker. A worker that stops (a crash, out of memory) fails only its own requests and
 * is replaced, so later requests never wait on a dead thread. A cancelled request is stopped inside
 * its worker, between inference runs: terminating the thread instead would abort the whole process
 * (onnxruntime-node throws a C++ exception when its thread dies mid-run).
 */
export function createPipelinePool(options: PipelinePoolOptions): CancellablePipeline {
  let nextId = 0;
  let disposing = false;
  const size = Math.max(1, options.size);
  const config = withThreadShare(options.config, size);
  const workerUrl = options.workerUrl ?? new URL('./pool-worker.mjs', import.meta.url);
  // Workers that die before answering anything (a broken set-up) are restarted ever more slowly.
  const restarts = Array.from({ length: size }, () => 0);
  const spawn = (index: number): Member => {
    const worker = new Worker(workerUrl, { workerData: { config, modelsDir: options.modelsDir } });
    const member: Member = { worker, alive: true, pending: new Map(), busy: 0 };
    let failure: unknown;
    worker.on('message', (response: PoolResponse | PoolProgress) => {
      restarts[index] = 0;
      if ('progress' in response) {
        member.pending.get(response.id)?.onProgress?.(response.progress);
        return;
      }
      const p = member.pending.get(response.id);
      member.pending.delete(response.id);
      p?.resolve(response);
    });
    worker.on('error', (error) => {
      failure = error;
    });
    worker.on('exit', (exitCode) => {
      member.alive = false;
      for (const p of member.pending.values())
        p.reject(new NestorError('E_INTERNAL', 'A pipeline worker stopped', { cause: failure }));
      member.pending.clear();
      if (disposing) return;
      options.onWorkerExit?.({ index, exitCode, ...(failure === undefined ? {} : { error: failure }) });
      const delay = restarts[index] === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** restarts[index]!);
      restarts[index]!++;
      setTimeout(() => {
        if (!disposing) members[index] = spawn(index);
      }, delay).unref();
    });
    return member;
  };
  const members: Member[] = Array.from({ length: size }, (_, index) => spawn(index));

  const send = async (
    request: Omit<PoolRequest, 'id'>,
    member?: Member,
    { signal, onProgress }: PipelineCall = {},
  ): Promise<PoolResponse> => {
    signal?.throwIfAborted();
    const alive = members.filter((m) => m.alive);
    const target =
      member ?? alive.reduce<Member | undefined>((a, b) => (!a || b.busy < a.busy ? b : a), undefined);
    if (!target?.alive) throw new NestorError('E_BUSY', 'No pipeline worker is running; try again shortly');
    const id = nextId++;
    target.busy++;
    const cancel = () => target.worker.postMessage({ id, task: 'cancel' } satisfies PoolRequest);
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      const response = await new Promise<PoolResponse>((resolve, reject) => {
        target.pending.set(id, { resolve, reject, onProgress });
        // A private copy whose buffer can be handed over (a request's buffer may be shared).
        const transfer = request.bytes ? [new Uint8Array(request.bytes).buffer as ArrayBuffer] : [];
        const bytes = transfer[0] ? new Uint8Array(transfer[0]) : undefined;
        target.worker.postMessage(
          { ...request, id, ...(bytes ? { bytes } : {}), ...(onProgress ? { progress: true } : {}) },
          transfer,
        );
      });
      if (!response.ok)
        throw signal?.aborted ? signal.reason : new NestorError(response.code, response.message);
      return response;
    } finally {
      signal?.removeEventListener('abort', cancel);
      target.busy--;
    }
  };

  return {
    async detect(bytes, processOptions = {}, call = {}) {
      const r = await send({ task: 'detect', bytes, options: processOptions }, undefined, call);
      if (r.ok && r.task === 'detect') return r.result;
      throw new NestorError('E_INTERNAL');
    },
    async anonymize(bytes, processOptions = {}, call = {}) {
      const r = await send({ task: 'anonymize', bytes, options: processOptions }, undefined, call);
      if (r.ok && r.task === 'anonymize') return r.output;
      throw new NestorError('E_INTERNAL');
    },
    async warmUp() {
      await Promise.all(members.map((m) => send({ task: 'warmUp' }, m)));
    },
    async dispose() {
      disposing = true;
      try {
        await Promise.all(members.filter((m) => m.alive).map((m) => send({ task: 'dispose' }, m)));
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
