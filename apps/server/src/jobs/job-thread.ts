import { Worker } from 'node:worker_threads';
import { type Config, NestorError, type NestorErrorJson } from '@nestor/core';
import type { JobOutput, JobProgress, JobSpec } from './types.ts';

/** Messages between the server and the job thread. */
export type JobThreadRequest =
  | { readonly type: 'run'; readonly spec: JobSpec }
  | { readonly type: 'abort'; readonly id: string }
  | { readonly type: 'dispose' };

export type JobThreadResponse =
  | { readonly type: 'progress'; readonly id: string; readonly progress: JobProgress }
  | { readonly type: 'done'; readonly id: string; readonly output: JobOutput }
  | { readonly type: 'failed'; readonly id: string; readonly error: NestorErrorJson }
  | { readonly type: 'disposed'; readonly error?: NestorErrorJson };

export type RunJob = (
  spec: JobSpec,
  onProgress: (progress: JobProgress) => void,
  signal: AbortSignal,
) => Promise<JobOutput>;

interface Running {
  readonly onProgress: (progress: JobProgress) => void;
  readonly resolve: (output: JobOutput) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Runs in-process jobs in one worker thread with its own pipeline, so the pixel work of a video
 * (colour conversion, sampling, redaction) never holds the server's event loop. The thread starts
 * on the first job and is the only one touching the job's files while it runs.
 */
export function createJobThread(options: { config: Config; modelsDir: string; storageRoot: string }): {
  run: RunJob;
  close: () => Promise<void>;
} {
  let worker: Worker | undefined;
  const running = new Map<string, Running>();
  let disposed: ((error?: NestorError) => void) | undefined;

  const failAll = (error: unknown) => {
    for (const r of running.values()) r.reject(error);
    running.clear();
  };
  const start = (): Worker => {
    const w = new Worker(new URL('./job-thread-worker.mjs', import.meta.url), {
      workerData: options,
    });
    w.on('message', (message: JobThreadResponse) => {
      if (message.type === 'disposed') {
        return disposed?.(message.error && NestorError.fromJSON(message.error));
      }
      const r = running.get(message.id);
      if (!r) return;
      if (message.type === 'progress') return r.onProgress(message.progress);
      running.delete(message.id);
      if (message.type === 'done') r.resolve(message.output);
      else r.reject(NestorError.fromJSON(message.error));
    });
    w.on('error', (error) => {
      failAll(new NestorError('E_INTERNAL', 'The job thread failed', { cause: error }));
      worker = undefined;
    });
    w.on('exit', () => {
      failAll(new NestorError('E_INTERNAL', 'The job thread stopped'));
      worker = undefined;
    });
    return w;
  };

  return {
    run(spec, onProgress, signal) {
      if (signal.aborted) return Promise.reject(signal.reason);
      worker ??= start();
      const thread = worker;
      return new Promise<JobOutput>((resolve, reject) => {
        running.set(spec.id, { onProgress, resolve, reject });
        signal.addEventListener('abort', () => thread.postMessage({ type: 'abort', id: spec.id }), {
          once: true,
        });
        thread.postMessage({ type: 'run', spec } satisfies JobThreadRequest);
      });
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (!w) return;
      // The thread releases its inference sessions first: terminating it while native sessions
      // are live can take the whole process down.
      const failure = await new Promise<NestorError | undefined>((resolve) => {
        disposed = resolve;
        w.once('exit', () => resolve(undefined));
        w.postMessage({ type: 'dispose' } satisfies JobThreadRequest);
      });
      await w.terminate();
      if (failure) throw failure;
    },
  };
}
