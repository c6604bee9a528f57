import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isAbortError, SYSTEM_TIMING } from './timing.ts';

describe('SYSTEM_TIMING.sleep', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves once the time has passed, not before', async () => {
    let done = false;
    const sleeping = SYSTEM_TIMING.sleep(1000).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await sleeping;
    expect(done).toBe(true);
  });

  it('rejects with the reason as soon as the signal aborts, and leaves no timer behind', async () => {
    const controller = new AbortController();
    const sleeping = SYSTEM_TIMING.sleep(10_000, controller.signal);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once on a signal already aborted', async () => {
    await expect(SYSTEM_TIMING.sleep(10, AbortSignal.abort())).rejects.toSatisfy(isAbortError);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('isAbortError', () => {
  it.each([
    { error: new DOMException('aborted', 'AbortError'), abort: true },
    { error: new DOMException('timed out', 'TimeoutError'), abort: true },
    { error: AbortSignal.abort().reason, abort: true },
    { error: new Error('aborted'), abort: false },
    { error: 'AbortError', abort: false },
    { error: undefined, abort: false },
  ])('$error → $abort', ({ error, abort }) => {
    expect(isAbortError(error)).toBe(abort);
  });
});
