import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { defaultConfig, type Nestor } from '@nestor/core';
import { createNodeNestor } from '@nestor/engine-node';
import { DEFAULT_MODELS_DIR } from '@nestor/models';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';

/** Deterministic PRNG (mulberry32) so a failing case can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const forceGc = (): void => {
  setFlagsFromString('--expose_gc');
  (runInNewContext('gc') as () => void)();
};

const CONTENT_TYPES = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'application/octet-stream',
  'image/heic',
  'text/plain',
  'application/json',
  'multipart/form-data; boundary=x',
];
const ROUTES = ['/v1/detect', '/v1/anonymize', '/detect', '/predict'];

describe('fuzzing the upload routes', () => {
  let nestor: Nestor;
  let app: FastifyInstance;
  const seeds: Buffer[] = [];

  beforeAll(async () => {
    nestor = createNodeNestor(defaultConfig(), DEFAULT_MODELS_DIR);
    app = buildApp({ nestor, config: defaultConfig() });
    await app.ready();
    await nestor.warmUp();
    const raw = Buffer.alloc(48 * 40 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 31 + (i >> 7) * 17) % 256;
    for (const format of ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const) {
      seeds.push(
        await sharp(raw, { raw: { width: 48, height: 40, channels: 3 } })
          .toFormat(format)
          .toBuffer(),
      );
    }
  });
  afterAll(async () => {
    await app.close();
    await nestor.dispose();
  });

  it('answers 1200 mutated, truncated and random bodies with well-formed 2xx/4xx, stays up, and frees memory', {
    timeout: 300_000,
  }, async () => {
    const next = random(20261123);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    // Warm up first: loading the models and sizing onnxruntime's arenas is a one-time cost, not a leak.
    for (const url of ROUTES) {
      await app.inject({ method: 'POST', url, payload: seeds[0]!, headers: { 'content-type': 'image/png' } });
    }
    forceGc();
    const baseline = process.memoryUsage().rss;
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1200; i++) {
      const seed = pick(seeds);
      let body: Buffer;
      const kind = i % 4;
      if (kind === 0) body = seed.subarray(0, Math.floor(next() * seed.length));
      else if (kind === 1) {
        body = Buffer.from(seed);
        for (let k = 0, n = 1 + Math.floor(next() * 20); k < n; k++)
          body[Math.floor(next() * body.length)] = Math.floor(next() * 256);
      } else if (kind === 2)
        body = Buffer.from(Array.from({ length: Math.floor(next() * 4096) }, () => Math.floor(next() * 256)));
      else
        body = Buffer.concat([
          seed.subarray(0, 16),
          Buffer.from(Array.from({ length: Math.floor(next() * 512) }, () => Math.floor(next() * 256))),
        ]);
      const response = await app.inject({
        method: 'POST',
        url: pick(ROUTES),
        payload: body,
        headers: { 'content-type': pick(CONTENT_TYPES) },
      });
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      expect(response.statusCode, `case ${i}`).toBeLessThan(500);
      if (response.statusCode >= 400) {
        const parsed = response.json() as { error: { code: string; message: string } };
        expect(parsed.error.code, `case ${i}`).toMatch(/^E_[A-Z_]+$/);
        expect(parsed.error.message.length).toBeGreaterThan(0);
      } else {
        expect(response.headers['cache-control']).toBe('no-store');
      }
    }
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // Some mutations still decode: the success path was exercised too.
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    forceGc();
    expect(process.memoryUsage().rss - baseline).toBeLessThan(150 * 1024 * 1024);
  });
});
