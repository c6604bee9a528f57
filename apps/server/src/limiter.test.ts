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
});

describe('withDeadline', () => {
  it('passes results through and times out slow work with E_TIMEOUT', async () => {
    expect(await withDeadline(Promise.resolve(1), 100)).toBe(1);
    const slow = new Promise((r) => setTimeout(r, 200));
    const error = await withDeadline(slow, 10).catch((e: unknown) => e);
    expect((error as NestorError).code).toBe('E_TIMEOUT');
  });
});
