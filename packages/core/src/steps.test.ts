import { describe, expect, it } from 'vitest';
import type { ImageCodec, InferenceSession, ModelSpec } from './engine.ts';
import { CallSteps, guardSteps } from './steps.ts';

/** A step that ends when the test says so. */
function held() {
  const ends: (() => void)[] = [];
  let started = 0;
  const start = () => {
    started++;
    return new Promise<string>((resolve) => ends.push(() => resolve('ran')));
  };
  return { start, end: () => ends.shift()?.(), started: () => started };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('CallSteps', () => {
  it('starts steps until the signal aborts, then rejects each with its reason', async () => {
    const controller = new AbortController();
    const steps = new CallSteps(controller.signal);
    const h = held();
    const first = steps.step(h.start);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(steps.step(h.start)).rejects.toBe(reason);
    expect(h.started()).toBe(1);
    h.end();
    expect(await first).toBe('ran');
  });

  it('settles run() only once the steps in flight have ended, then refuses new ones', async () => {
    const steps = new CallSteps(new AbortController().signal);
    const h = held();
    let settled = false;
    const work = steps
      .run(() => Promise.all([steps.step(h.start), Promise.reject(new Error('decode failed'))]))
      .finally(() => {
        settled = true;
      });
    await tick();
    expect(settled).toBe(false);
    h.end();
    await expect(work).rejects.toThrow('decode failed');
    await expect(steps.step(h.start)).rejects.toMatchObject({ code: 'E_INTERNAL' });
    expect(h.started()).toBe(1);
  });
});

describe('guardSteps', () => {
  const session: InferenceSession = { run: async () => ({}), release: async () => {} };
  const codec = {
    decode: async () => ({}),
    encode: async () => new Uint8Array(1),
  } as unknown as ImageCodec;
  const spec = {} as ModelSpec;

  it.each([
    {
      what: 'an inference run',
      call: (p: ReturnType<typeof guardSteps>) => p.engine.loadModel(spec).then((s) => s.run({})),
    },
    {
      what: 'a decode',
      call: (p: ReturnType<typeof guardSteps>) =>
        p.codec.decode(new Uint8Array(1), { maxPixels: 1, minSide: 1, maxFrames: 1 }),
    },
  ])('makes $what a step of the current call, and runs it as is with no call', async ({ call }) => {
    const controller = new AbortController();
    let current: CallSteps | undefined = new CallSteps(controller.signal);
    const parts = guardSteps({ engine: { name: 'e', loadModel: async () => session }, codec }, () => current);
    controller.abort(new Error('stop'));
    await expect(call(parts)).rejects.toThrow('stop');
    current = undefined;
    await expect(call(parts)).resolves.toBeDefined();
  });
});
