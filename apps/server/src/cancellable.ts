import { AsyncLocalStorage } from 'node:async_hooks';
import { NestorError } from '@nestor/core';
import type { PipelineParts } from '@nestor/engine-node';

/** A request's steps: its signal, and the steps it has started that have not ended yet. */
interface Steps {
  readonly signal: AbortSignal;
  readonly inFlight: Set<Promise<unknown>>;
  /** Set once the request has settled: steps its other branches still try to start are refused. */
  ended: boolean;
}

const current = new AsyncLocalStorage<Steps>();

/**
 * Runs `work` (a pipeline call over the engine and codec of {@link cancellable}) so that each
 * inference run, decode and encode it starts checks `signal` first: once it aborts, the next step
 * throws its reason. Settles only after every step already started has ended, so when it rejects
 * nothing of the request runs any more.
 * @example await runCancellable(controller.signal, () => nestor.anonymize(bytes, options))
 */
export async function runCancellable<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  const steps: Steps = { signal, inFlight: new Set(), ended: false };
  try {
    return await current.run(steps, work);
  } finally {
    steps.ended = true;
    while (steps.inFlight.size > 0) await Promise.allSettled([...steps.inFlight]);
  }
}

/** The engine and codec of a pipeline, their steps made cancellable by {@link runCancellable}. */
export function cancellable({ engine, codec }: PipelineParts): PipelineParts {
  return {
    engine: {
      name: engine.name,
      async loadModel(spec) {
        // Loading is not a step: the session is shared by the requests that come after.
        const session = await engine.loadModel(spec);
        return { run: (feeds) => step(() => session.run(feeds)), release: () => session.release() };
      },
    },
    codec: {
      decode: (bytes, limits) => step(() => codec.decode(bytes, limits)),
      encode: (image, options, original) => step(() => codec.encode(image, options, original)),
    },
  };
}

function step<T>(start: () => Promise<T>): Promise<T> {
  const steps = current.getStore();
  if (!steps) return start();
  if (steps.signal.aborted) return Promise.reject(steps.signal.reason);
  if (steps.ended) return Promise.reject(new NestorError('E_INTERNAL', 'The request has already ended'));
  const started = start();
  steps.inFlight.add(started);
  const done = () => steps.inFlight.delete(started);
  started.then(done, done);
  return started;
}
