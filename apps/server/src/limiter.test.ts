import type { NestorError } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { createLimiter, withDeadline } from './limiter.ts';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

describe('createLimiter', () => {
  it('runs at most `concurrency` at once, queues up to `queue`, refuses the rest with E_BUSY', async () => {
    const limiter = createLimiter({ concurrency: 2, queue: 1 });
    const gates = [deferred(), deferred(), deferred()];
    const order: number[] = [];
    const jobs = gates.map((g, i) =>
      limiter.run(async () => {
        order.push(i);
        await g.promise;
        return i;
      }),
    );
    await Promise.resolve();
    expect([limiter.active, limiter.waiting]).toEqual([2, 1]);
    const refused = await limiter.run(async () => 99).catch((e: unknown) => e);
    expect((refused as NestorError).code).toBe('E_BUSY');
    gates[0]!.resolve();
    await jobs[0];
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual([0, 1, 2]);
    gates[1]!.resolve();
    gates[2]!.resolve();
    expect(await Promise.all(jobs)).toEqual([0, 1, 2]);
    expect([limiter.active, limiter.waiting]).toEqual([0, 0]);
  });

  it('frees the slot when the work fails', async () => {
    const limiter = createLimiter({ concurrency: 1, queue: 0 });
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.run(async () => 'next')).toBe('next');
  });

  it('a request whose signal aborts while it waits leaves the queue with E_BUSY, and its work never runs', async () => {
    const limiter = createLimiter({ concurrency: 1, queue: 2 });
    const gate = deferred();
    const first = limiter.run(() => gate.promise);
    const controller = new AbortController();
    let ran = false;
    const queued = limiter
      .run(async () => {
        ran = true;
      }, controller.signal)
      .catch((e: unknown) => e);
    expect(limiter.waiting).toBe(1);
    controller.abort();
    expect((await queued) as NestorError).toMatchObject({ code: 'E_BUSY' });
    expect(limiter.waiting).toBe(0);
    gate.resolve();
    await first;
    expect(ran).toBe(false);
    expect([limiter.active, limiter.waiting]).toEqual([0, 0]);
  });
});

describe('withDeadline', () => {
  it('passes results through', async () => {
    expect(await withDeadline(100, async () => 1)).toBe(1);
  });

  it('aborts the work at the deadline and rejects with E_TIMEOUT once the work has stopped', async () => {
    const limiter = createLimiter({ concurrency: 1, queue: 0 });
    let stopped = false;
    const error = await withDeadline(10, (signal) =>
      limiter.run(
        () =>
          new Promise<never>((_, reject) =>
            signal.addEventListener('abort', () => {
              stopped = true;
              reject(signal.reason);
            }),
          ),
        signal,
      ),
    ).catch((e: unknown) => e);
    expect(error as NestorError).toMatchObject({ code: 'E_TIMEOUT' });
    expect(stopped).toBe(true);
    // The slot is already free: the next request runs instead of being refused.
    expect(limiter.active).toBe(0);
    expect(await limiter.run(async () => 'next')).toBe('next');
  });

  it('answers E_TIMEOUT for work that ignored the abort and finished late', async () => {
    const late = withDeadline(10, () => new Promise((r) => setTimeout(() => r('late'), 50)));
    await expect(late).rejects.toMatchObject({ code: 'E_TIMEOUT' });
  });
});
