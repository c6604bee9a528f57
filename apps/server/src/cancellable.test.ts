import type { ImageCodec, InferenceSession, ModelSpec } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { cancellable, runCancellable } from './cancellable.ts';

/** An engine whose runs end only when the test says so; it counts the runs it was asked for. */
function heldEngine() {
  const held: (() => void)[] = [];
  const state = { runs: 0, finishNext: () => held.shift()?.() };
  const session: InferenceSession = {
    run: () => {
      state.runs++;
      return new Promise((resolve) => held.push(() => resolve({})));
    },
    release: async () => {},
  };
  const parts = cancellable({
    engine: { name: 'held', loadModel: async () => session },
    codec: {} as ImageCodec,
  });
  return { engine: parts.engine, state };
}

/** A pipeline step after step: `steps` runs one after the other. */
async function runs(engine: ReturnType<typeof heldEngine>['engine'], steps: number): Promise<string> {
  const session = await engine.loadModel({} as ModelSpec);
  for (let i = 0; i < steps; i++) await session.run({});
  return 'done';
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('runCancellable', () => {
  it('refuses the steps after the abort, and settles only once the step in flight has ended', async () => {
    const { engine, state } = heldEngine();
    const controller = new AbortController();
    let settled = false;
    const work = runCancellable(controller.signal, () => runs(engine, 5)).finally(() => {
      settled = true;
    });
    await tick();
    expect(state.runs).toBe(1);
    const reason = new Error('stop');
    controller.abort(reason);
    await tick();
    expect(settled).toBe(false);
    state.finishNext();
    await expect(work).rejects.toBe(reason);
    expect(state.runs).toBe(1);
  });

  it('waits for the other branches of a request that failed, and refuses their next steps', async () => {
    const { engine, state } = heldEngine();
    let settled = false;
    const work = runCancellable(new AbortController().signal, () =>
      Promise.all([runs(engine, 3), Promise.reject(new Error('decode failed'))]),
    ).finally(() => {
      settled = true;
    });
    await tick();
    expect(settled).toBe(false);
    state.finishNext();
    await expect(work).rejects.toThrow('decode failed');
    await tick();
    expect(state.runs).toBe(1);
  });

  it('cancels one request without touching another that shares the sessions', async () => {
    const { engine, state } = heldEngine();
    const controller = new AbortController();
    const cancelled = runCancellable(controller.signal, () => runs(engine, 2)).catch((e: unknown) => e);
    const other = runCancellable(new AbortController().signal, () => runs(engine, 2));
    await tick();
    controller.abort(new Error('stop'));
    for (let i = 0; i < 3; i++) {
      state.finishNext();
      await tick();
    }
    expect(await other).toBe('done');
    expect(await cancelled).toEqual(new Error('stop'));
    expect(state.runs).toBe(3);
  });

  it('leaves steps outside any request alone', async () => {
    const { engine, state } = heldEngine();
    const work = runs(engine, 1);
    await tick();
    state.finishNext();
    expect(await work).toBe('done');
  });
});
