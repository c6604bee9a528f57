/** Time and chance as the client uses them: injectable, so tests wait for nothing. */
export interface Timing {
  /** Resolves after `ms`, or rejects with `signal.reason` as soon as the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Milliseconds since the epoch (a `Retry-After` date is compared with it). */
  now(): number;
  /** A number in [0, 1): the backoff's jitter. */
  random(): number;
}

/** Why a signal aborted; old browsers leave `reason` unset, so an `AbortError` stands in. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Whether an error is a caller's abort as `fetch` reports it (a `DOMException` named `AbortError`,
 * or `TimeoutError` from `AbortSignal.timeout`). A call aborted through its `signal` rejects with
 * the signal's reason, so a custom reason is recognised by identity instead.
 */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const SYSTEM_TIMING: Timing = { sleep, now: () => Date.now(), random: () => Math.random() };
