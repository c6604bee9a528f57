import type { Engine, ImageCodec } from './engine.ts';
import { NestorError } from './errors.ts';

/** The engine and codec a pipeline runs on. */
export interface PipelineParts {
  readonly engine: Engine;
  readonly codec: ImageCodec;
}

/**
 * The steps of one call (its decode, each inference run, its encode): each checks the call's
 * signal before it starts, so an aborted call stops between two steps; none starts once the call
 * has ended. Inference cannot be interrupted inside a run, so stopping waits for the one in flight.
 */
export class CallSteps {
  private readonly inFlight = new Set<Promise<unknown>>();
  private ended = false;

  constructor(readonly signal: AbortSignal) {}

  /** Starts one step, or rejects with the abort reason (or E_INTERNAL once the call has ended). */
  step<T>(start: () => Promise<T>): Promise<T> {
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    if (this.ended) return Promise.reject(new NestorError('E_INTERNAL', 'The request has already ended'));
    const started = start();
    this.inFlight.add(started);
    const done = () => this.inFlight.delete(started);
    started.then(done, done);
    return started;
  }

  /**
   * Runs `work` (a pipeline call whose parts are {@link guardSteps}-wrapped for this call) and settles
   * only after every step it started has ended: when it rejects, nothing of the call runs any more.
   * @example await steps.run(() => nestor.anonymize(bytes, options))
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      this.ended = true;
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    }
  }
}

/**
 * The engine and codec with each inference run, decode and encode made a step of the call
 * `current()` returns (run as is when it returns none). Loading a model is not a step: its session
 * serves the calls that come after.
 */
export function guardSteps(
  { engine, codec }: PipelineParts,
  current: () => CallSteps | undefined,
): PipelineParts {
  const step = <T>(start: () => Promise<T>): Promise<T> => current()?.step(start) ?? start();
  return {
    engine: {
      name: engine.name,
      async loadModel(spec) {
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
