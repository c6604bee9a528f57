import os from 'node:os';
import { defaultConfig, NestorError, type Progress, parseConfig } from '@nestor/core';
import { createNodeNestor } from '@nestor/engine-node';
import { DEFAULT_MODELS_DIR } from '@nestor/models';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { createPipelinePool, type WorkerExit, withThreadShare } from './pool.ts';

const config = defaultConfig();
const pool = createPipelinePool({ size: 2, config, modelsDir: DEFAULT_MODELS_DIR });
const local = createNodeNestor(config, DEFAULT_MODELS_DIR);
afterAll(async () => {
  await pool.dispose();
  await local.dispose();
});

async function photoLike(width: number, height: number): Promise<Uint8Array> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 31 + ((i / (width * 3)) | 0) * 7) % 256;
  return new Uint8Array(
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .jpeg()
      .toBuffer(),
  );
}

describe('pipeline pool (worker threads)', () => {
  it('gives the same detections and image as the in-process pipeline', async () => {
    const bytes = await photoLike(320, 240);
    const region = { label: 'face' as const, x: 40, y: 30, width: 60, height: 70 };
    const [a, b] = await Promise.all([
      pool.anonymize(bytes, { addRegions: [region] }),
      local.anonymize(bytes, { addRegions: [region] }),
    ]);
    expect(a.result.detections).toEqual(b.result.detections);
    expect(a.format).toBe(b.format);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    const detections = await pool.detect(bytes, { targets: ['face'] });
    expect(detections.image).toEqual({ width: 320, height: 240, format: 'jpeg' });
  });

  it("passes a request's progress back from its worker thread, before its answer", async () => {
    const seen: Progress[] = [];
    await pool.anonymize(await photoLike(320, 240), {}, { onProgress: (p) => seen.push(p) });
    expect([...new Set(seen.map((p) => p.stage))]).toEqual(['decode', 'detect', 'redact', 'encode']);
    const last = seen.at(-1)!;
    expect(last.runs).toBe(last.plannedRuns);
    expect(last.runs).toBeGreaterThan(0);
  });

  it('passes errors back with their codes', async () => {
    const error = await pool.detect(new Uint8Array(0)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NestorError);
    expect((error as NestorError).code).toBe('E_EMPTY_INPUT');
  });

  it('leaves the event loop free while it works', async () => {
    const big = await photoLike(4000, 3000);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await pool.anonymize(big);
    clearInterval(timer);
    // The main thread kept running timers during the whole anonymization (decode, detect, redact, encode).
    expect(ticks).toBeGreaterThan(10);
  });
});

describe('withThreadShare', () => {
  const cores = os.availableParallelism();
  it.each([
    { fixed: 0, size: 1, threads: Math.max(1, cores) },
    { fixed: 0, size: cores, threads: 1 },
    { fixed: 0, size: cores * 4, threads: 1 },
    { fixed: 3, size: 2, threads: 3 },
  ])('threads $fixed with $size workers → $threads per session', ({ fixed, size, threads }) => {
    const base = parseConfig({ engine: { threads: fixed } });
    expect(withThreadShare(base, size).engine.threads).toBe(threads);
  });
});

/** A pool of pool-test-worker.mjs threads, with the exits it reports. */
function testPool(size: number, config = defaultConfig()) {
  const exits: WorkerExit[] = [];
  const pool = createPipelinePool({
    size,
    config,
    modelsDir: '',
    workerUrl: new URL('./pool-test-worker.mjs', import.meta.url),
    onWorkerExit: (exit) => exits.push(exit),
  });
  return { pool, exits };
}

describe('pipeline pool: a worker thread that stops', () => {
  const threadOf = async (result: Promise<unknown>) => ((await result) as { threadId: number }).threadId;

  it('fails only its own request, and is replaced: later requests are answered', async () => {
    const { pool: crashing, exits } = testPool(2);
    try {
      // The slow request keeps one worker busy, so the crash goes to the other.
      const slow = threadOf(crashing.detect(new Uint8Array(3)));
      const crash = crashing.detect(new Uint8Array(1)).catch((error: unknown) => error);
      expect(await crash).toMatchObject({ code: 'E_INTERNAL', message: 'A pipeline worker stopped' });
      const survivor = await slow;
      expect(exits).toHaveLength(1);
      expect(exits[0]).toMatchObject({ exitCode: 1 });
      expect(String(exits[0]!.error)).toContain('worker crashed on purpose');
      // Two requests at once reach two live threads: the survivor and the replacement.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const threads = await Promise.all([
        threadOf(crashing.detect(new Uint8Array(3))),
        threadOf(crashing.detect(new Uint8Array(3))),
      ]);
      expect(new Set(threads).size).toBe(2);
      expect(threads).toContain(survivor);
    } finally {
      await crashing.dispose();
    }
  });

  it('a worker that cannot start is retried, and requests meanwhile fail at once instead of waiting', async () => {
    const { pool: broken, exits } = testPool(1, {
      ...defaultConfig(),
      dieAtStart: true,
    } as ReturnType<typeof defaultConfig>);
    try {
      const first = await broken.detect(new Uint8Array(2)).catch((error: unknown) => error);
      expect(first).toBeInstanceOf(NestorError);
      expect(['E_INTERNAL', 'E_BUSY']).toContain((first as NestorError).code);
      await expect.poll(() => exits.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      const meanwhile = await broken.detect(new Uint8Array(2)).catch((error: unknown) => error);
      expect(meanwhile).toBeInstanceOf(NestorError);
    } finally {
      await broken.dispose();
    }
  });
});

describe('pipeline pool: a cancelled request', () => {
  it('is stopped inside its worker, and rejects with its reason only once it has stopped', async () => {
    const { pool, exits } = testPool(1);
    try {
      const controller = new AbortController();
      // The test worker works on a 4-byte image until it is told to stop.
      const endless = pool
        .detect(new Uint8Array(4), {}, { signal: controller.signal })
        .catch((error: unknown) => error);
      const reason = new NestorError('E_TIMEOUT');
      controller.abort(reason);
      expect(await endless).toBe(reason);
      // The same thread, with nothing of the cancelled request left running when the next one came.
      expect(await pool.detect(new Uint8Array(2))).toMatchObject({ running: 0 });
      expect(exits).toEqual([]);
    } finally {
      await pool.dispose();
    }
  });

  it('is not sent when its signal has already aborted', async () => {
    const { pool } = testPool(1);
    try {
      const reason = new NestorError('E_TIMEOUT');
      await expect(pool.detect(new Uint8Array(4), {}, { signal: AbortSignal.abort(reason) })).rejects.toBe(
        reason,
      );
      expect(await pool.detect(new Uint8Array(2))).toMatchObject({ running: 0 });
    } finally {
      await pool.dispose();
    }
  });
});

describe('pipeline pool (worker threads): cancelling real work', () => {
  it('stops an anonymization between its steps: the request rejects instead of answering', async () => {
    const big = await photoLike(3000, 2000);
    const controller = new AbortController();
    const reason = new NestorError('E_TIMEOUT');
    const work = pool
      .anonymize(big, { preset: 'thorough' }, { signal: controller.signal })
      .catch((e: unknown) => e);
    controller.abort(reason);
    expect(await work).toBe(reason);
    // The worker goes on serving.
    expect((await pool.detect(await photoLike(320, 240))).image.width).toBe(320);
  });
});
