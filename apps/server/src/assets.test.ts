import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig, NestorError, type Pipeline } from '@nestor/core';
import { ORT_ENTRY, ORT_RUNTIME_FILES } from '@nestor/engine-web';
import { DEFAULT_MODELS_DIR, findModel, MODELS, sha256 } from '@nestor/models';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { assetRoutes, DEFAULT_ORT_DIR } from './assets.ts';
import { toHttpError } from './errors.ts';

/** A pipeline that is never used: these routes serve files only. */
const unused = (): never => {
  throw new NestorError('E_INTERNAL', 'not used by the asset routes');
};
const idle: Pipeline = { detect: unused, anonymize: unused, warmUp: async () => {}, dispose: async () => {} };

const SMALL = findModel('blazeface-front-128')!;

let app: FastifyInstance;
beforeAll(async () => {
  app = buildApp({ nestor: idle, config: defaultConfig() });
  await app.ready();
});
afterAll(() => app.close());

describe('GET /models/<file>', () => {
  it('serves a manifest model as octet-stream with its sha256 as strong ETag and a long immutable cache', async () => {
    const response = await app.inject({ url: `/models/${SMALL.file}?v=${SMALL.sha256.slice(0, 16)}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(response.headers.etag).toBe(`"${SMALL.sha256}"`);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['content-length']).toBe(String(SMALL.bytes));
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(sha256(response.rawPayload)).toBe(SMALL.sha256);
  });

  it('answers 304 without a body when the ETag matches', async () => {
    const response = await app.inject({
      url: `/models/${SMALL.file}`,
      headers: { 'if-none-match': `"other", "${SMALL.sha256}"` },
    });
    expect(response.statusCode).toBe(304);
    expect(response.rawPayload).toHaveLength(0);
  });

  it.each([
    '/models/unknown.onnx',
    '/models/..%2Fpackage.json',
    '/models/%2E%2E%2F%2E%2E%2Fpackage.json',
    `/models/${SMALL.file.toUpperCase()}`,
  ])('%s → 404 E_NOT_FOUND', async (url) => {
    const response = await app.inject({ url });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
  });

  it('lists exactly the manifest files in the OpenAPI document', async () => {
    const doc = app.swagger() as {
      paths: Record<string, { get: { parameters: { schema: { enum?: string[] } }[] } }>;
    };
    const param = doc.paths['/models/{file}']!.get.parameters.find((p) => p.schema.enum)!;
    expect(param.schema.enum).toEqual(MODELS.map((m) => m.file));
  });
});

describe('GET /ort/<file>', () => {
  it.each([...ORT_RUNTIME_FILES])('%s with its MIME type and a strong ETag', async (file) => {
    const response = await app.inject({ url: `/ort/${file}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(
      file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8',
    );
    const bytes = await readFile(path.join(DEFAULT_ORT_DIR, file));
    expect(response.rawPayload.equals(bytes)).toBe(true);
    expect(response.headers.etag).toBe(`"${sha256(bytes)}"`);
    const again = await app.inject({
      url: `/ort/${file}`,
      headers: { 'if-none-match': response.headers.etag! },
    });
    expect(again.statusCode).toBe(304);
  });

  it('serves every glue file the entry modules load (the list matches the installed onnxruntime-web)', async () => {
    for (const entry of Object.values(ORT_ENTRY)) {
      const source = await readFile(path.join(DEFAULT_ORT_DIR, entry), 'utf8');
      const glue = new Set(source.match(/ort-wasm-simd-threaded[a-z.]*\.mjs/g) ?? []);
      expect(glue.size).toBeGreaterThan(0);
      for (const name of glue) {
        expect(ORT_RUNTIME_FILES).toContain(name);
        expect(ORT_RUNTIME_FILES).toContain(name.replace(/\.mjs$/, '.wasm'));
      }
    }
  });

  it.each(['/ort/ort.all.min.mjs', '/ort/../package.json', '/ort/ort.node.min.mjs'])(
    '%s → 404 (only the runtime files the engine needs)',
    async (url) => {
      expect((await app.inject({ url })).statusCode).toBe(404);
    },
  );
});

describe('the models folder', () => {
  let dir: string;
  let bare: FastifyInstance;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'nestor-assets-'));
    bare = Fastify();
    bare.setErrorHandler((error, _request, reply) => {
      const { status, body } = toHttpError(error, 1);
      return reply.status(status).send(body);
    });
    await bare.register(assetRoutes, { modelsDir: dir });
    await bare.ready();
  });
  afterAll(async () => {
    await bare.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('places a missing model from its npm package before serving it', async () => {
    const response = await bare.inject({ url: `/models/${SMALL.file}` });
    expect(response.statusCode).toBe(200);
    expect(sha256(response.rawPayload)).toBe(SMALL.sha256);
    expect(sha256(await readFile(path.join(dir, SMALL.file)))).toBe(SMALL.sha256);
  });

  it('refuses a model file that does not match its sha256 (503 E_MODEL_INTEGRITY)', async () => {
    const back = findModel('blazeface-back-256')!;
    const good = await readFile(path.join(DEFAULT_MODELS_DIR, back.file));
    await writeFile(path.join(dir, back.file), Buffer.concat([good, Buffer.from([1])]));
    const response = await bare.inject({ url: `/models/${back.file}` });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error: { code: 'E_MODEL_INTEGRITY' } });
  });
});
