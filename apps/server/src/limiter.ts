import os from 'node:os';
import { NestorError } from '@nestor/core';

/** `server.concurrency`, with 0 meaning one image per core. */
export function processingSlots(configured: number): number {
  return configured > 0 ? configured : Math.max(1, os.availableParallelism());
}

export interface LimiterOptions {
  /** Images processed at once. */
  readonly concurrency: number;
  /** Requests allowed to wait for a slot; beyond that they are refused at once (E_BUSY). */
  readonly queue: number;
}

/**
 * A concurrency limit with a bounded queue: heavy work waits its turn in order, and when the
 * queue is full the request is refused immediately so the client can retry elsewhere or later.
 */
export function createLimiter(options: LimiterOptions) {
  let active = 0;
  const waiting: { readonly resume: () => void; readonly since: number }[] = [];
  const release = () => {
    active--;
    const next = waiting.shift();
    if (next) {
      active++;
      next.resume();
    }
  };
  return {
    get active(): number {
      return active;
    },
    get waiting(): number {
      return waiting.length;
    },
    /** How long the request at the head of the queue has waited (0 when none waits), in ms. */
    get oldestWaitMs(): number {
      const head = waiting[0];
      return head ? performance.now() - head.since : 0;
    },
    /**
     * Runs `work` once a slot is free, holding the slot until `work` settles. A `signal` that aborts
     * while the request still waits takes it out of the queue: E_BUSY, its work never starts.
     */
    async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      signal?.throwIfAborted();
      if (active >= options.concurrency) {
        if (waiting.length >= options.queue) {
          throw new NestorError(
            'E_BUSY',
            `The server is busy (${active} processing, ${waiting.length} waiting)`,
          );
        }
        await new Promise<void>((resume, reject) => {
          const leave = () => {
            waiting.splice(waiting.indexOf(entry), 1);
            reject(new NestorError('E_BUSY', `No processing slot came free in time (${active} processing)`));
          };
          const entry = {
            resume: () => {
              signal?.removeEventListener('abort', leave);
              resume();
            },
            since: performance.now(),
          };
          signal?.addEventListener('abort', leave, { once: true });
          waiting.push(entry);
        });
      } else {
        active++;
      }
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}

/**
 * Runs `work` with a signal that aborts with E_TIMEOUT after `ms`, or as `stop` does (a client
 * gone). `work` stops when it aborts and settles only once it has, so whatever it held (a
 * processing slot) is free when this rejects.
 * @example await withDeadline(60_000, (signal) => limiter.run(() => pool.detect(bytes, {}, { signal }), signal))
 */
export async function withDeadline<T>(
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
  stop?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new NestorError('E_TIMEOUT', `Processing took longer than ${ms} ms`)),
    ms,
  );
  const signal = stop ? AbortSignal.any([controller.signal, stop]) : controller.signal;
  try {
    const result = await work(signal);
    // Past the deadline the answer is E_TIMEOUT, even from work that finished instead of stopping.
    signal.throwIfAborted();
    return result;
  } finally {
    clearTimeout(timer);
  }
}
