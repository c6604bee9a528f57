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
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (active >= options.concurrency) {
        if (waiting.length >= options.queue) {
          throw new NestorError(
            'E_BUSY',
            `The server is busy (${active} processing, ${waiting.length} waiting)`,
          );
        }
        await new Promise<void>((resume) => waiting.push({ resume, since: performance.now() }));
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

/** Rejects with E_TIMEOUT when `work` takes longer than `ms` (the work itself goes on and ends). */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new NestorError('E_TIMEOUT', `Processing took longer than ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
