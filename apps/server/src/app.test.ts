import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Config,
  type DetectionResult,
  defaultConfig,
  IMAGE_FORMATS,
  Nestor,
  NestorError,
  type ProcessOptions,
  type Progress,
  parseConfig,
  REDACTION_METHODS,
  type StatsReport,
} from '@nestor/core';
import { createNodeEngine, createNodeNestor, createSharpCodec } from '@nestor/engine-node';
import { DEFAULT_MODELS_DIR, MODELS } from '@nestor/models';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { fakePipeline } from './fake-pipeline.ts';
import { startServer } from './main.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PHOTO = path.resolve(REPO_ROOT, '../shared/eval/dev/images/face-0003.jpg');
const HAS_PHOTO = existsSync(PHOTO);
if (!HAS_PHOTO)
  console.warn(`skipping the real-photo test: ${PHOTO} is absent (put ../shared beside the repository)`);

let nestor: Nestor;
let app: FastifyInstance;
let png: Buffer;
let jpeg: Buffer;
const extraApps: FastifyInstance[] = [];
const extraNestors: Nestor[] = [];

/** A second app on the shared Nestor (or a cheap one that never loads models) with another config. */
async function appWith(config: Config, own?: Nestor): Promise<FastifyInstance> {
  if (own) extraNestors.push(own);
  const other = buildApp({ nestor: own ?? nestor, config });
  extraApps.push(other);
  await other.ready();
  return other;
}

async function noisyPng(width: number, height: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919 + (i >> 5) * 104729) % 251;
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** A multipart body as a browser or curl would send it. */
async function multipart(
  fields: Record<string, string>,
  file?: { name?: string; bytes: Buffer; type: string },
): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file)
    form.append(file.name ?? 'file', new Blob([new Uint8Array(file.bytes)], { type: file.type }), 'x');
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return {
    payload: Buffer.from(await request.arrayBuffer()),
    headers: { 'content-type': request.headers.get('content-type')! },
  };
}

const post = (url: string, payload: Buffer | string, type: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload, headers: { 'content-type': type, ...headers } });

function expectError(res: LightMyRequestResponse, status: number, code: string): string {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json<{ error: { code: string; message: string; details?: unknown } }>();
  // A refused option always names itself (details.option); no other error shows its details.
  const details =
    code === 'E_INVALID_OPTION' ? { details: expect.objectContaining({ option: expect.any(String) }) } : {};
  expect(body).toEqual({ error: { code, message: expect.any(String), ...details } });
  return body.error.message;
}

const withoutTimings = ({ timings: _t, ...rest }: DetectionResult) => rest;

beforeAll(async () => {
  nestor = createNodeNestor(defaultConfig(), DEFAULT_MODELS_DIR);
  app = buildApp({ nestor, config: defaultConfig() });
  await app.ready();
  png = await noisyPng(96, 64);
  jpeg = await sharp({
    create: { width: 320, height: 240, channels: 3, background: { r: 40, g: 120, b: 200 } },
  })
    .composite([{ input: await noisyPng(100, 80), left: 30, top: 40 }])
    .jpeg({ quality: 85 })
    .toBuffer();
});

afterAll(async () => {
  await Promise.all([app, ...extraApps].map((a) => a.close()));
  await Promise.all([nestor, ...extraNestors].map((n) => n.dispose()));
});

describe('health and metadata', () => {
  it('GET /healthz answers ok', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 200 once the models are loaded', async () => {
    let res = await app.inject({ method: 'GET', url: '/readyz' });
    // Up to 20 s: model loading shares two cores with the other test files.
    for (let i = 0; i < 400 && res.statusCode !== 200; i++) {
      expect(res.statusCode).toBe(503);
      await new Promise((r) => setTimeout(r, 50));
      res = await app.inject({ method: 'GET', url: '/readyz' });
    }
    expect(res.json()).toEqual({ status: 'ready' });
  });

  it('GET /readyz is 503 while models cannot load, and processing is 503 E_MODEL_MISSING', async () => {
    const missing = path.join(os.tmpdir(), `nestor-no-models-${process.pid}`);
    const engine = createNodeEngine({ modelsDir: missing, autoPrepare: false });
    const config = defaultConfig();
    const broken = await appWith(
      config,
      new Nestor({ engine, codec: createSharpCodec(), models: MODELS, config }),
    );
    let res = await broken.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    for (let i = 0; i < 100 && res.json<{ status: string }>().status === 'starting'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      res = await broken.inject({ method: 'GET', url: '/readyz' });
    }
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'failed', error: { code: 'E_MODEL_MISSING' } });
    const detect = await broken.inject({
      method: 'POST',
      url: '/v1/detect',
      payload: png,
      headers: { 'content-type': 'image/png' },
    });
    const message = expectError(detect, 503, 'E_MODEL_MISSING');
    expect(message).not.toContain(missing);
  });

  it('GET /v1/models lists the manifest without file paths', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/models' });
    expect(res.statusCode).toBe(200);
    const { models } = res.json<{ models: Record<string, unknown>[] }>();
    expect(models.map((m) => m.id)).toEqual(MODELS.map((m) => m.id));
    for (const m of models) {
      expect(Object.keys(m).sort()).toEqual(['active', 'description', 'id', 'label', 'sha256', 'source']);
      expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(models.find((m) => m.id === 'retinaface-mnet025')?.active).toBe(true);
    // thorough runs it: active means some preset of the config may run it.
    expect(models.find((m) => m.id === 'blazeface-full-range')?.active).toBe(true);
    expect(models.find((m) => m.id === 'blazeface-front-128')?.active).toBe(false);
    expect(res.body).not.toContain(DEFAULT_MODELS_DIR);
  });

  it('GET /docs serves the UI and /docs/json documents every route', async () => {
    const ui = await app.inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/^text\/html/);
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(doc.openapi).toMatch(/^3\./);
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(routes.sort()).toEqual(
      [
        'get /healthz',
        'get /metrics',
        'get /readyz',
        'get /v1/app-config',
        'get /v1/models',
        'get /v1/stats',
        'post /v1/detect',
        'post /detect',
        'post /v1/anonymize',
        'post /predict',
        'post /v1/jobs',
        'get /v1/jobs/{id}',
        'delete /v1/jobs/{id}',
        'get /v1/jobs/{id}/result',
        'get /v1/auth/session',
        'post /v1/auth/login',
        'post /v1/auth/logout',
        'post /v1/auth/register',
        'post /v1/auth/credentials',
        'post /v1/auth/renew',
        'get /v1/keys',
        'post /v1/keys',
        'delete /v1/keys/{id}',
        'get /v1/users',
        'post /v1/users',
        'patch /v1/users/{id}',
        'delete /v1/users/{id}',
        'post /v1/users/{id}/credentials',
        'get /v1/users/{id}/keys',
        'get /v1/audit',
        'get /models/{file}',
        'get /ort/{file}',
      ].sort(),
    );
    expect(JSON.stringify(doc.paths['/v1/anonymize'])).toContain('multipart/form-data');
    expect(JSON.stringify(doc.paths['/v1/detect'])).toContain('faceThreshold');
  });
});

describe('POST /v1/detect', () => {
  it('returns exactly what nestor.detect returns, for a raw JPEG body', async () => {
    const res = await post('/v1/detect', jpeg, 'image/jpeg');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<DetectionResult>();
    expect(withoutTimings(body)).toEqual(withoutTimings(await nestor.detect(jpeg)));
    expect(Object.keys(body.timings).sort()).toEqual([
      'decodeMs',
      'detectMs',
      'encodeMs',
      'redactMs',
      'totalMs',
    ]);
    expect(body.image).toEqual({ width: 320, height: 240, format: 'jpeg' });
  });

  it('takes multipart with option fields, and application/octet-stream with query options', async () => {
    const form = await multipart(
      {
        targets: 'face',
        faceThreshold: '0.9',
        addRegions: '[{"x":1,"y":2,"width":10,"height":12,"label":"plate"}]',
      },
      { bytes: png, type: 'image/png' },
    );
    const res = await app.inject({ method: 'POST', url: '/v1/detect', ...form });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<DetectionResult>();
    expect(Object.keys(body.models)).toEqual(['face']);
    expect(body.detections).toContainEqual({
      label: 'plate',
      score: 1,
      box: { x: 1, y: 2, width: 10, height: 12 },
      region: { x: 1, y: 2, width: 10, height: 12 },
      shape: 'rect',
      source: 'manual',
    });

    const raw = await post('/v1/detect?targets=plate&minScore.plate=0.7', png, 'application/octet-stream');
    expect(raw.statusCode, raw.body).toBe(200);
    expect(Object.keys(raw.json<DetectionResult>().models)).toEqual(['plate']);
  });

  it('POST /detect is an alias', async () => {
    const res = await post('/detect', png, 'image/png');
    expect(res.statusCode).toBe(200);
    expect(res.json<DetectionResult>().image).toEqual({ width: 96, height: 64, format: 'png' });
  });
});

describe('POST /v1/anonymize', () => {
  it('returns the image with Server-Timing, X-Nestor-Counts and no-store', async () => {
    const res = await post('/v1/anonymize', png, 'image/png');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['server-timing']).toMatch(
      /^decode;dur=[\d.]+, detect;dur=[\d.]+, redact;dur=[\d.]+, encode;dur=[\d.]+, total;dur=[\d.]+$/,
    );
    expect(res.headers['x-nestor-counts']).toMatch(/^face=\d+, plate=\d+$/);
    const meta = await sharp(res.rawPayload).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 96, 64]);
  });

  it('converts the format and takes multipart', async () => {
    const form = await multipart(
      { format: 'webp', quality: '60', method: 'pixelate' },
      { bytes: jpeg, type: 'image/jpeg' },
    );
    const res = await app.inject({ method: 'POST', url: '/v1/anonymize', ...form });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('image/webp');
    expect((await sharp(res.rawPayload).metadata()).format).toBe('webp');
  });

  it('answers JSON with the image in base64 when asked for application/json', async () => {
    const res = await post('/v1/anonymize?format=jpeg', png, 'image/png', { accept: 'application/json' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-nestor-counts']).toMatch(/^face=\d+, plate=\d+$/);
    const body = res.json<
      DetectionResult & { output: { format: string; mimeType: string; base64: string } }
    >();
    expect(body.image).toEqual({ width: 96, height: 64, format: 'png' });
    expect(body.output).toMatchObject({ format: 'jpeg', mimeType: 'image/jpeg' });
    expect((await sharp(Buffer.from(body.output.base64, 'base64')).metadata()).format).toBe('jpeg');
    expect(Object.keys(body).sort()).toEqual(
      ['counts', 'detections', 'engine', 'image', 'models', 'output', 'timings'].sort(),
    );
  });

  it('anonymizes an HEIC photo (image/heic, as an iPhone uploads it) into a JPEG', async () => {
    const heic = readFileSync(
      new URL('../../../packages/engine-node/fixtures/blocks-irot90.heic', import.meta.url),
    );
    const res = await post('/v1/anonymize', heic, 'image/heic');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    const meta = await sharp(res.rawPayload).metadata();
    expect([meta.format, meta.width, meta.height, meta.exif]).toEqual(['jpeg', 64, 96, undefined]);
    const detected = await post('/v1/detect', heic, 'application/octet-stream');
    expect(detected.json<DetectionResult>().image).toEqual({ width: 64, height: 96, format: 'heic' });
  });

  it('POST /predict is an alias', async () => {
    const res = await post('/predict', jpeg, 'image/jpeg');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
  });

  it.skipIf(!HAS_PHOTO)('finds the two faces of a real photo (face-0003.jpg)', async () => {
    const res = await post('/v1/anonymize', readFileSync(PHOTO), 'image/jpeg', {
      accept: 'application/json',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<DetectionResult>().counts.face).toBeGreaterThanOrEqual(2);
    const face = Number(/face=(\d+)/.exec(String(res.headers['x-nestor-counts']))?.[1]);
    expect(face).toBeGreaterThanOrEqual(2);
  });
});

/** The lines of an NDJSON answer, parsed. */
const ndjsonLines = (res: LightMyRequestResponse) =>
  res.body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('progress (Accept: application/x-ndjson)', () => {
  const NDJSON = { accept: 'application/x-ndjson' };

  it('streams detect: progress lines, then the same result a plain answer has', async () => {
    const res = await post('/v1/detect', jpeg, 'image/jpeg', NDJSON);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson');
    expect(res.headers['cache-control']).toBe('no-store');
    const lines = ndjsonLines(res);
    const progress = lines.slice(0, -1).map((l) => l.progress as Progress);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.stage === 'detect')).toBe(true);
    // The last report before the result has every planned run done.
    expect(progress.at(-1)!.runs).toBe(progress.at(-1)!.plannedRuns);
    const { result } = lines.at(-1) as { result: DetectionResult };
    const plain = (await post('/v1/detect', jpeg, 'image/jpeg')).json<DetectionResult>();
    expect(withoutTimings(result)).toEqual(withoutTimings(plain));
  });

  it('streams anonymize: the result line is the JSON answer with the image in base64', async () => {
    const res = await post('/v1/anonymize?format=png', jpeg, 'image/jpeg', NDJSON);
    expect(res.statusCode, res.body).toBe(200);
    const lines = ndjsonLines(res);
    expect([...new Set(lines.slice(0, -1).map((l) => (l.progress as Progress).stage))]).toEqual([
      'detect',
      'redact',
      'encode',
    ]);
    const { result } = lines.at(-1) as { result: { output: { format: string; base64: string } } };
    expect(result.output.format).toBe('png');
    expect((await sharp(Buffer.from(result.output.base64, 'base64')).metadata()).format).toBe('png');
  });

  it('answers an unreadable image or a bad option with the usual HTTP error, before any line', async () => {
    expectError(
      await post('/v1/detect', Buffer.from('not an image'), 'image/jpeg', NDJSON),
      415,
      'E_UNSUPPORTED_MEDIA',
    );
    expectError(await post('/v1/detect?method=smudge', jpeg, 'image/jpeg', NDJSON), 400, 'E_INVALID_OPTION');
  });

  it('ends with the status and error body a plain answer would have had when the work fails after it began', async () => {
    const failing = fakePipeline();
    const broken = await appWith(defaultConfig(), {
      ...failing,
      detect: async (
        _bytes: Uint8Array,
        _options?: ProcessOptions,
        call?: { onProgress?: (p: Progress) => void },
      ) => {
        call?.onProgress?.({ stage: 'decode', runs: 0, plannedRuns: 0 });
        call?.onProgress?.({ stage: 'detect', runs: 0, plannedRuns: 2 });
        throw new NestorError('E_INFERENCE', 'session 7 failed at /opt/models/x.onnx');
      },
    } as unknown as Nestor);
    const res = await broken.inject({
      method: 'POST',
      url: '/v1/detect',
      payload: png,
      headers: { 'content-type': 'image/png', ...NDJSON },
    });
    expect(res.statusCode).toBe(200);
    const lines = ndjsonLines(res);
    expect(lines[0]).toEqual({ progress: { stage: 'detect', runs: 0, plannedRuns: 2 } });
    // A server error's message is its code's generic text: no path leaks.
    expect(lines.at(-1)).toEqual({
      status: 500,
      error: { code: 'E_INFERENCE', message: expect.not.stringContaining('/opt') },
    });
    const metrics = await broken.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/nestor_errors_total\{code="E_INFERENCE"\} 1/);
    // Counted as the failure it was, so error-rate alerts see it.
    expect(metrics.body).toMatch(
      /nestor_http_requests_total\{route="\/v1\/detect",method="POST",status="500"\} 1/,
    );
    expect(metrics.body).not.toMatch(
      /nestor_http_requests_total\{route="\/v1\/detect",method="POST",status="200"\}/,
    );
  });
});

describe('errors', () => {
  it('E_EMPTY_INPUT for an empty or missing body (400)', async () => {
    expectError(await post('/v1/detect', Buffer.alloc(0), 'image/jpeg'), 400, 'E_EMPTY_INPUT');
    expectError(await app.inject({ method: 'POST', url: '/v1/anonymize' }), 400, 'E_EMPTY_INPUT');
    const form = await multipart({ method: 'solid' });
    expectError(await app.inject({ method: 'POST', url: '/v1/anonymize', ...form }), 400, 'E_EMPTY_INPUT');
  });

  it('E_UNSUPPORTED_MEDIA for a text body or bytes that are no image (415)', async () => {
    expectError(await post('/v1/detect', 'hello', 'text/plain'), 415, 'E_UNSUPPORTED_MEDIA');
    expectError(await post('/v1/detect', '{"a":1}', 'application/json'), 415, 'E_UNSUPPORTED_MEDIA');
    expectError(
      await post('/v1/anonymize', Buffer.from('not an image at all'), 'image/jpeg'),
      415,
      'E_UNSUPPORTED_MEDIA',
    );
  });

  it('E_DECODE for a truncated JPEG (422), E_IMAGE_TOO_SMALL for a 4 px image (422)', async () => {
    expectError(
      await post('/v1/anonymize', jpeg.subarray(0, jpeg.length / 3), 'image/jpeg'),
      422,
      'E_DECODE',
    );
    expectError(await post('/v1/detect', await noisyPng(4, 4), 'image/png'), 422, 'E_IMAGE_TOO_SMALL');
  });

  it('E_INVALID_OPTION with the one message format (400)', async () => {
    expect(
      expectError(await post('/v1/detect?strength=abc', png, 'image/png'), 400, 'E_INVALID_OPTION'),
    ).toBe('Expected a number for strength but received "abc" of type string');
    expect(
      expectError(await post('/v1/anonymize?method=smudge', png, 'image/png'), 400, 'E_INVALID_OPTION'),
    ).toMatch(/^Expected one of "gaussian", .* for method but received "smudge" of type string$/);
    expectError(await post('/v1/detect?bogus=1', png, 'image/png'), 400, 'E_INVALID_OPTION');
    expectError(await post('/v1/detect?__proto__=1', png, 'image/png'), 400, 'E_INVALID_OPTION');
    const form = await multipart({ suppress: '[{' }, { bytes: png, type: 'image/png' });
    expect(
      expectError(await app.inject({ method: 'POST', url: '/v1/detect', ...form }), 400, 'E_INVALID_OPTION'),
    ).toBe('Expected a JSON array for suppress but received "[{" of type string');
  });

  it.each([
    { url: '/v1/detect?strength=abc', details: { option: 'strength', reason: 'type' } },
    {
      url: '/v1/anonymize?method=smudge',
      details: { option: 'method', reason: 'choice', allowed: [...REDACTION_METHODS] },
    },
    { url: '/v1/anonymize?quality=500', details: { option: 'quality', reason: 'range', maximum: 100 } },
    { url: '/v1/detect?faceThreshold=2', details: { option: 'minScore.face', reason: 'range', maximum: 1 } },
    {
      url: '/v1/detect?minScore.plate=-1',
      details: { option: 'minScore.plate', reason: 'range', minimum: 0 },
    },
    { url: '/v1/detect?bogus=1', details: { option: 'bogus', reason: 'unknown' } },
    { url: '/v1/detect', form: { suppress: '[{' }, details: { option: 'suppress', reason: 'type' } },
    {
      url: '/v1/anonymize',
      form: { format: 'bmp' },
      details: { option: 'format', reason: 'choice', allowed: ['same', ...IMAGE_FORMATS] },
    },
  ])('a refused option names itself in details (400): $url $form', async ({ url, form, details }) => {
    const res = form
      ? await app.inject({
          method: 'POST',
          url,
          ...(await multipart(form, { bytes: png, type: 'image/png' })),
        })
      : await post(url, png, 'image/png');
    expectError(res, 400, 'E_INVALID_OPTION');
    expect(res.json<{ error: { details: unknown } }>().error.details).toEqual(details);
  });

  it('E_BAD_REQUEST for a file in another multipart field or a broken multipart body (400)', async () => {
    const form = await multipart({}, { name: 'image', bytes: png, type: 'image/png' });
    expectError(await app.inject({ method: 'POST', url: '/v1/detect', ...form }), 400, 'E_BAD_REQUEST');
    const good = await multipart({}, { bytes: png, type: 'image/png' });
    const broken = { ...good, payload: good.payload.subarray(0, good.payload.length - 60) };
    expectError(await app.inject({ method: 'POST', url: '/v1/detect', ...broken }), 400, 'E_BAD_REQUEST');
  });

  it('E_NOT_FOUND for an unknown route (404)', async () => {
    expectError(await app.inject({ method: 'GET', url: '/v2/nothing' }), 404, 'E_NOT_FOUND');
    expectError(await app.inject({ method: 'GET', url: '/v1/detect' }), 404, 'E_NOT_FOUND');
  });

  it('E_INPUT_TOO_LARGE over limits.maxBytes, raw or multipart (413)', async () => {
    const small = await appWith(parseConfig({ limits: { maxBytes: 2000 } }));
    const raw = await small.inject({
      method: 'POST',
      url: '/v1/anonymize',
      payload: jpeg,
      headers: { 'content-type': 'image/jpeg' },
    });
    expect(expectError(raw, 413, 'E_INPUT_TOO_LARGE')).toContain('2000 bytes');
    expect(raw.headers['cache-control']).toBe('no-store');
    const form = await multipart({}, { bytes: jpeg, type: 'image/jpeg' });
    expectError(await small.inject({ method: 'POST', url: '/v1/detect', ...form }), 413, 'E_INPUT_TOO_LARGE');
  });

  it('E_TOO_MANY_PIXELS over limits.maxPixels (413)', async () => {
    const config = parseConfig({ limits: { maxPixels: 1000 } });
    const tight = await appWith(config, createNodeNestor(config, DEFAULT_MODELS_DIR));
    const res = await tight.inject({
      method: 'POST',
      url: '/v1/detect',
      payload: png,
      headers: { 'content-type': 'image/png' },
    });
    expectError(res, 413, 'E_TOO_MANY_PIXELS');
  });
});

describe('the real server', () => {
  it('listens on an ephemeral loopback port and answers a fetch POST', async () => {
    const { app: live, url } = await startServer({
      nestor,
      config: parseConfig({ server: { host: '127.0.0.1', port: 0 } }),
    });
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${url}/v1/anonymize?format=png`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: new Uint8Array(jpeg),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('x-nestor-counts')).toMatch(/^face=\d+, plate=\d+$/);
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 320, 240]);
    } finally {
      await live.close();
    }
  });

  it('refuses a non-loopback host', async () => {
    await expect(
      startServer({ nestor, config: parseConfig({ server: { host: '0.0.0.0', port: 0 } }) }),
    ).rejects.toMatchObject({ code: 'E_INVALID_CONFIG', message: expect.stringContaining('0.0.0.0') });
  });
});

describe('GET /metrics', () => {
  it('exposes Prometheus counters for requests, stages, detections and errors, and no image data', async () => {
    await post('/v1/detect', png, 'image/png');
    await post('/v1/detect', 'not an image', 'image/png');
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    const text = response.body;
    expect(text).toMatch(/nestor_http_requests_total\{route="\/v1\/detect",method="POST",status="200"\} \d+/);
    expect(text).toMatch(
      /nestor_http_request_duration_seconds_bucket\{le="[^"]+",route="\/v1\/detect",method="POST"\}/,
    );
    expect(text).toMatch(/nestor_stage_duration_seconds_count\{stage="detect"\} \d+/);
    expect(text).toMatch(/nestor_errors_total\{code="E_[A-Z_]+"\} \d+/);
    expect(text).toContain('nestor_detections_total{label="face"}');
    expect(text).toContain('nestor_requests_in_flight');
    expect(text).toContain('nestor_nodejs_eventloop_lag_seconds');
  });
});

describe('load shedding', () => {
  it('refuses work beyond the concurrency limit and queue with 503 E_BUSY and Retry-After', async () => {
    const busy = await appWith(parseConfig({ server: { concurrency: 1, queue: 0 } }));
    const responses = await Promise.all(
      Array.from({ length: 4 }, () =>
        busy.inject({
          method: 'POST',
          url: '/v1/detect',
          payload: png,
          headers: { 'content-type': 'image/png' },
        }),
      ),
    );
    const refused = responses.filter((r) => r.statusCode === 503);
    expect(responses.filter((r) => r.statusCode === 200).length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) {
      expect(r.json()).toEqual({ error: { code: 'E_BUSY', message: 'The server is busy; retry shortly.' } });
      expect(r.headers['retry-after']).toBe('2');
    }
  });

  it('answers 503 E_TIMEOUT when processing outlasts server.timeoutMs', async () => {
    const slow = await appWith(parseConfig({ server: { timeoutMs: 100 } }));
    const big = await noisyPng(3000, 2000);
    const r = await slow.inject({
      method: 'POST',
      url: '/v1/anonymize',
      payload: big,
      headers: { 'content-type': 'image/png' },
    });
    expect(r.statusCode).toBe(503);
    expect(r.json<{ error: { code: string } }>().error.code).toBe('E_TIMEOUT');
  });

  /**
   * A fake pipeline: a 3-byte image keeps it busy until its request's signal aborts (counted in
   * `stopped`), or until `release` when it ignores the signal; any other image is answered at once.
   */
  function slowPipeline(options: { ignoresSignal?: boolean } = {}) {
    const fake = fakePipeline();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const state = { calls: 0, stopped: 0, release };
    const detect = async (
      bytes: Uint8Array,
      processOptions?: ProcessOptions,
      { signal }: { signal?: AbortSignal } = {},
    ) => {
      state.calls++;
      if (bytes.length !== 3) return fake.detect(bytes, processOptions);
      if (options.ignoresSignal) {
        await held;
        return fake.detect(bytes, processOptions);
      }
      return new Promise<never>((_, reject) =>
        signal?.addEventListener('abort', () => {
          state.stopped++;
          reject(signal.reason);
        }),
      );
    };
    return { nestor: { ...fake, detect }, state };
  }

  async function slowApp(nestor: ReturnType<typeof slowPipeline>['nestor'], config: Config) {
    const built = buildApp({ nestor, config });
    extraApps.push(built);
    await built.ready();
    const detect = (bytes: number) =>
      built.inject({
        method: 'POST',
        url: '/v1/detect',
        payload: Buffer.alloc(bytes, 1),
        headers: { 'content-type': 'image/png' },
      });
    return detect;
  }

  it('stops the work of a request past server.timeoutMs, frees its slot, and sends no Retry-After', async () => {
    const { nestor, state } = slowPipeline();
    const detect = await slowApp(
      nestor,
      parseConfig({ server: { concurrency: 1, queue: 0, timeoutMs: 100 } }),
    );
    const timedOut = await detect(3);
    expectError(timedOut, 503, 'E_TIMEOUT');
    // The same image would time out again: no invitation to retry it.
    expect(timedOut.headers['retry-after']).toBeUndefined();
    expect(state.stopped).toBe(1);
    // With no queue, a slot still held would refuse this one with E_BUSY.
    expect((await detect(2)).statusCode).toBe(200);
  });

  it('stops the work of a request whose client left, and frees its slot for the next one', async () => {
    const { nestor, state } = slowPipeline();
    const built = buildApp({ nestor, config: parseConfig({ server: { concurrency: 1, queue: 0 } }) });
    extraApps.push(built);
    const { port } = new URL(await built.listen({ host: '127.0.0.1', port: 0 }));
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(
        'POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 3\r\n\r\nabc',
      );
    });
    await expect.poll(() => state.calls).toBe(1);
    socket.destroy();
    await expect.poll(() => state.stopped).toBe(1);
    // With no queue, a slot still held would refuse this one with E_BUSY.
    const next = await built.inject({
      method: 'POST',
      url: '/v1/detect',
      payload: Buffer.alloc(2, 1),
      headers: { 'content-type': 'image/png' },
    });
    expect(next.statusCode).toBe(200);
  });

  it('a request still queued at its deadline leaves with 503 E_BUSY and Retry-After, its work never started', async () => {
    const { nestor, state } = slowPipeline({ ignoresSignal: true });
    const detect = await slowApp(
      nestor,
      parseConfig({ server: { concurrency: 1, queue: 1, timeoutMs: 100 } }),
    );
    const first = detect(3);
    await expect.poll(() => state.calls).toBe(1);
    const queued = await detect(2);
    expectError(queued, 503, 'E_BUSY');
    expect(queued.headers['retry-after']).toBe('2');
    expect(state.calls).toBe(1);
    state.release();
    // Finished after its deadline: the answer is still the timeout.
    expectError(await first, 503, 'E_TIMEOUT');
    expect((await detect(2)).statusCode).toBe(200);
  });
});

describe('the HTTP surface (fake pipeline)', () => {
  /** An app that loads no model, with what it logs at info level and above. */
  async function fakeApp(input: Parameters<typeof parseConfig>[0] = {}) {
    const logs: { level: number; msg: string; code?: string }[] = [];
    const stream = { write: (line: string) => void logs.push(JSON.parse(line)) };
    const fake = buildApp({
      nestor: fakePipeline(),
      config: parseConfig(input),
      logger: { level: 'info', stream },
    });
    extraApps.push(fake);
    await fake.ready();
    return { app: fake, logs };
  }

  it('a client that leaves mid-upload is counted as a 400, and leaves no request in flight and no server error', async () => {
    const { app: fake, logs } = await fakeApp();
    const url = await fake.listen({ host: '127.0.0.1', port: 0 });
    const { port } = new URL(url);
    const head = (path: string, type: string) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: 100000\r\n\r\n`;
    const part = '--XX\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\nabc';
    for (const request of [
      `${head('/v1/anonymize', 'image/jpeg')}abc`,
      `${head('/v1/anonymize', 'multipart/form-data; boundary=XX')}${part}`,
      `${head('/v1/jobs', 'multipart/form-data; boundary=XX')}${part}`,
    ]) {
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(request);
          setTimeout(() => socket.destroy(), 100);
        });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
    }
    // The one in flight is then this /metrics request, and each abort is counted with its status
    // (polled: the server sees each close a little later).
    const counted = [
      'nestor_http_requests_total{route="/v1/anonymize",method="POST",status="400"} 2\n',
      'nestor_http_requests_total{route="/v1/jobs",method="POST",status="400"} 1\n',
    ];
    const settled = (text: string) =>
      /nestor_requests_in_flight 1\n/.test(text) && counted.every((line) => text.includes(line));
    let metrics = '';
    for (let i = 0; i < 40 && !settled(metrics); i++) {
      await new Promise((r) => setTimeout(r, 50));
      metrics = await (await fetch(`${url}/metrics`)).text();
    }
    expect(metrics).toMatch(/nestor_requests_in_flight 1\n/);
    for (const line of counted) expect(metrics).toContain(line);
    // The dashboard counts them too, as the client-side errors they are.
    const { totals } = (await (await fetch(`${url}/v1/stats`)).json()) as StatsReport;
    expect(totals.requests).toMatchObject({ anonymize: 2, job: 1 });
    expect(totals.errors).toEqual({ E_BAD_REQUEST: 3 });
    expect(metrics).not.toContain('E_INTERNAL');
    expect(logs.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('a 413 names the limit of the route that refused the body', async () => {
    const { app: fake } = await fakeApp({ limits: { maxBytes: 2000 } });
    const json = (bytes: number) =>
      fake.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: `{"username":"${'a'.repeat(bytes - 15)}"}`,
        headers: { 'content-type': 'application/json' },
      });
    const over = await json(16 * 1024 + 1);
    expect(expectError(over, 413, 'E_INPUT_TOO_LARGE')).toBe(
      'The input is larger than the limit of 16384 bytes',
    );
    // At the limit the body is read (local mode has no sign-in): both sides of the JSON parser's limit agree.
    expect((await json(16 * 1024)).statusCode).toBe(404);
    const image = await fake.inject({
      method: 'POST',
      url: '/v1/detect',
      payload: Buffer.alloc(3000),
      headers: { 'content-type': 'image/png' },
    });
    expect(expectError(image, 413, 'E_INPUT_TOO_LARGE')).toContain('2000 bytes');
  });

  it('too many files or fields answer 400 E_BAD_REQUEST saying how many are allowed', async () => {
    const { app: fake } = await fakeApp();
    const form = new FormData();
    for (let i = 0; i < 2; i++)
      form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'a.png');
    const request = new Request('http://localhost/', { method: 'POST', body: form });
    const twoFiles = await fake.inject({
      method: 'POST',
      url: '/v1/detect',
      payload: Buffer.from(await request.arrayBuffer()),
      headers: { 'content-type': request.headers.get('content-type')! },
    });
    expect(expectError(twoFiles, 400, 'E_BAD_REQUEST')).toMatch(/^Send one image per request/);
    const fields = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, 'x']));
    const many = await multipart(fields, { bytes: png, type: 'image/png' });
    expect(
      expectError(await fake.inject({ method: 'POST', url: '/v1/detect', ...many }), 400, 'E_BAD_REQUEST'),
    ).toBe('At most 32 option fields per request');
  });

  it('task on /v1/detect or /v1/anonymize is refused, not silently ignored', async () => {
    const { app: fake } = await fakeApp();
    for (const url of ['/v1/detect?task=anonymize', '/v1/anonymize?task=detect']) {
      const res = await fake.inject({
        method: 'POST',
        url,
        payload: png,
        headers: { 'content-type': 'image/png' },
      });
      expect(expectError(res, 400, 'E_INVALID_OPTION'), url).toMatch(/for task but received/);
    }
    const form = await multipart({ task: 'detect' }, { bytes: png, type: 'image/png' });
    expectError(
      await fake.inject({ method: 'POST', url: '/v1/anonymize', ...form }),
      400,
      'E_INVALID_OPTION',
    );
  });

  it('an error never repeats a long value back', async () => {
    const { app: fake } = await fakeApp();
    const long = await multipart({ method: 'x'.repeat(500_000) }, { bytes: png, type: 'image/png' });
    const res = await fake.inject({ method: 'POST', url: '/v1/anonymize', ...long });
    expect(expectError(res, 400, 'E_INVALID_OPTION')).toMatch(
      /for method but received "x{40}…" of type string$/,
    );
    // A field busboy cut short is named as such, not misread as broken JSON.
    const huge = await multipart(
      { addRegions: `[${'{"x":0},'.repeat(140_000)}]` },
      { bytes: png, type: 'image/png' },
    );
    const cut = await fake.inject({ method: 'POST', url: '/v1/anonymize', ...huge });
    expect(expectError(cut, 400, 'E_INVALID_OPTION')).toBe(
      'The field "addRegions" is longer than 1048576 bytes',
    );
    expect(cut.body.length).toBeLessThan(200);
  });
});
