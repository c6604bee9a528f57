import { AsyncLocalStorage } from 'node:async_hooks';
import { CallSteps, guardSteps, type PipelineParts } from '@nestor/core';

/** The steps of the request whose async context this is (sessions are shared by all requests). */
const current = new AsyncLocalStorage<CallSteps>();

/**
 * Runs `work` (a pipeline call over the engine and codec of {@link cancellable}) so that each
 * inference run, decode and encode it starts checks `signal` first: once it aborts, the next step
 * throws its reason. Settles only after every step already started has ended, so when it rejects
 * nothing of the request runs any more.
 * @example await runCancellable(controller.signal, () => nestor.anonymize(bytes, options))
 */
export function runCancellable<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  const steps = new CallSteps(signal);
  return steps.run(() => current.run(steps, work));
}

/** The engine and codec of a pipeline, their steps made cancellable by {@link runCancellable}. */
export function cancellable(parts: PipelineParts): PipelineParts {
  return guardSteps(parts, () => current.getStore());
}
