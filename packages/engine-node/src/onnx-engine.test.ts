import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NestorError } from '@nestor/core';
import { DEFAULT_MODELS_DIR, findModel } from '@nestor/models';
import { describe, expect, it } from 'vitest';
import { createNodeEngine } from './onnx-engine.ts';

const spec = findModel('blazeface-full-range')!;
/** A smooth, deterministic input in the model's [-1, 1] range. */
const input = () => {
  const data = new Float32Array(192 * 192 * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i / 97) * 0.8;
  return { input: { data, dims: [1, 192, 192, 3] } };
};

describe('node engine', () => {
  it('gives identical outputs in a worker thread and in-process', async () => {
    const worker = await createNodeEngine({ workers: true }).loadModel(spec);
    const inline = await createNodeEngine({ workers: false }).loadModel(spec);
    try {
      const [a, b] = await Promise.all([worker.run(input()), inline.run(input())]);
      for (const name of ['Identity:0', 'Identity_1:0']) {
        expect(a[name]!.dims).toEqual([1, 2304, 17]);
        expect(a[name]!.data).toEqual(b[name]!.data);
      }
    } finally {
      await worker.release();
      await inline.release();
    }
  });

  it('runs many requests concurrently on one worker session, each answered with its own output', async () => {
    const session = await createNodeEngine().loadModel(spec);
    try {
      const feeds = [0.1, -0.5, 0.9].map((v) => ({
        input: { data: new Float32Array(192 * 192 * 3).fill(v), dims: [1, 192, 192, 3] },
      }));
      const outputs = await Promise.all(feeds.map((f) => session.run(f)));
      const again = await session.run({
        input: { data: new Float32Array(192 * 192 * 3).fill(-0.5), dims: [1, 192, 192, 3] },
      });
      expect(outputs[1]!['Identity:0']!.data).toEqual(again['Identity:0']!.data);
      expect(outputs[0]!['Identity:0']!.data).not.toEqual(outputs[2]!['Identity:0']!.data);
    } finally {
      await session.release();
    }
  });

  it('answers a bad feed with E_INFERENCE and keeps working', async () => {
    const session = await createNodeEngine().loadModel(spec);
    try {
      const error = await session
        .run({ input: { data: new Float32Array(10), dims: [1, 10] } })
        .catch((e: unknown) => e);
      expect((error as NestorError).code).toBe('E_INFERENCE');
      expect((await session.run(input()))['Identity:0']!.dims).toEqual([1, 2304, 17]);
    } finally {
      await session.release();
    }
  });

  it('refuses a model file whose sha256 does not match', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-models-'));
    writeFileSync(path.join(dir, spec.file), 'not the model');
    const error = await createNodeEngine({ modelsDir: dir })
      .loadModel(spec)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NestorError);
    expect((error as NestorError).code).toBe('E_MODEL_INTEGRITY');
  });

  it('places a missing model from its npm package on first use, or says to run npm run models', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-models-'));
    const missing = await createNodeEngine({ modelsDir: dir, autoPrepare: false })
      .loadModel(spec)
      .catch((e: unknown) => e);
    expect((missing as NestorError).code).toBe('E_MODEL_MISSING');
    const session = await createNodeEngine({ modelsDir: dir }).loadModel(findModel('blazeface-back-256')!);
    await session.release();
    copyFileSync(path.join(DEFAULT_MODELS_DIR, spec.file), path.join(dir, spec.file));
    await (await createNodeEngine({ modelsDir: dir }).loadModel(spec)).release();
  });
});
