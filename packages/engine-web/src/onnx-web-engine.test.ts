import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Config,
  compareDetections,
  type DetectionConfig,
  defaultConfig,
  detectionConfig,
  Nestor,
  type NestorError,
  parseConfig,
} from '@nestor/core';
import { createNodeNestor, createSharpCodec } from '@nestor/engine-node';
import { DEFAULT_MODELS_DIR, findModel, MODELS } from '@nestor/models';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxWebEngine, sha256Hex } from './onnx-web-engine.ts';
import { noisyPng } from './test-support.ts';
import { webNestorConfig } from './web-nestor.ts';

const DEV = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/eval/dev/images');
const HAS_DEV = existsSync(DEV);
/** A small photo with 3 faces, a 1280x720 plate photo, and a 5 MP photo with 10 faces (quarter copy). */
// plate-0228: a plate only the vehicle search finds.
const DEV_PHOTOS = ['face-0003.jpg', 'plate-0002.jpg', 'plate-0228.jpg', 'face-0439.jpg'];

const modelFile = (file: string) => readFile(path.join(DEFAULT_MODELS_DIR, file));
// One thread, as in a browser page that is not cross-origin isolated.
ort.env.wasm.numThreads = 1;
const config = defaultConfig();
const webNestor = (webConfig: Config) =>
  new Nestor({
    engine: new OnnxWebEngine({
      ort,
      backend: 'wasm',
      fetchModel: async (spec) => new Uint8Array(await modelFile(spec.file)),
    }),
    // The same decoder as the node pipeline: only the inference engines differ.
    codec: createSharpCodec(),
    models: MODELS,
    config: webConfig,
    concurrency: 1,
  });
const web = webNestor(config);
const node = createNodeNestor(config, DEFAULT_MODELS_DIR);
afterAll(() => Promise.all([web.dispose(), node.dispose()]));

describe('OnnxWebEngine (onnxruntime-web, wasm) against onnxruntime-node', () => {
  it('reports itself as onnxruntime-web/wasm and finds nothing where there is nothing', async () => {
    const png = await noisyPng(160, 120, 11);
    const [a, b] = [await node.detect(png), await web.detect(png)];
    expect(b.engine).toBe('onnxruntime-web/wasm');
    expect(a.engine).toBe('onnxruntime-node/cpu');
    expect(b.models).toEqual(a.models);
    expect(compareDetections(a, b).agree).toBe(true);
  });

  it.skipIf(!HAS_DEV).each(DEV_PHOTOS)(
    '%s: the same detections as the node engine (same count, boxes within 2 px)',
    async (file) => {
      const bytes = new Uint8Array(await readFile(path.join(DEV, file)));
      const a = await node.detect(bytes);
      const b = await web.detect(bytes);
      const diff = compareDetections(a, b, { tolerancePx: 2 });
      expect(a.detections.length).toBeGreaterThan(0);
      expect(diff.unmatchedA).toEqual([]);
      expect(diff.unmatchedB).toEqual([]);
      expect(diff.maxDeltaPx).toBeLessThanOrEqual(2);
      expect(diff.agree).toBe(true);
      for (const p of diff.pairs) expect(Math.abs(p.a.score - p.b.score)).toBeLessThan(0.01);
    },
  );
  if (!HAS_DEV) it.skip(`dev-set agreement: ${DEV} is absent`, () => {});
});

describe("the server's customised detection settings, on device as on the server", () => {
  // An operator's changes: a stricter face threshold, and RetinaFace instead of the SSD in fast.
  const server = parseConfig({
    targets: ['face'],
    classes: { face: { minScore: 0.92, presets: { fast: { models: ['retinaface-mnet025'] } } } },
  });
  /** What the web app builds its engine from: the JSON of GET /v1/app-config. */
  const sent: DetectionConfig = JSON.parse(JSON.stringify(detectionConfig(server)));
  const onServer = createNodeNestor(server, DEFAULT_MODELS_DIR);
  const onDevice = webNestor(webNestorConfig(sent));
  afterAll(() => Promise.all([onServer.dispose(), onDevice.dispose()]));

  it('runs the models the server runs', () => {
    expect(onDevice.modelIds({ preset: 'fast' })).toEqual(onServer.modelIds({ preset: 'fast' }));
    expect(onDevice.modelIds({ preset: 'fast' }).face).toMatch(/^retinaface-mnet025@/);
  });

  it.skipIf(!HAS_DEV)(
    "keeps the faces the server keeps at its threshold, not the defaults' (face-0003.jpg)",
    async () => {
      const bytes = new Uint8Array(await readFile(path.join(DEV, 'face-0003.jpg')));
      const a = await onServer.detect(bytes, { preset: 'fast' });
      const b = await onDevice.detect(bytes, { preset: 'fast' });
      expect(compareDetections(a, b, { tolerancePx: 2 }).agree).toBe(true);
      expect(b.detections.map((d) => d.score >= 0.92)).toEqual([true]);
      // The built-in defaults (the SSD at 0.75) find both faces: the server's settings made the difference.
      expect((await web.detect(bytes, { preset: 'fast', targets: ['face'] })).detections).toHaveLength(2);
    },
  );
});

describe('OnnxWebEngine model loading', () => {
  const spec = findModel('blazeface-front-128')!;
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const good = await modelFile(spec.file);
    server = createServer((request, response) => {
      if (request.url?.startsWith(`/good/${spec.file}?v=`)) response.end(good);
      else if (request.url?.startsWith(`/tampered/${spec.file}`))
        response.end(Buffer.concat([good, Buffer.from([0])]));
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const load = (folder: string) =>
    new OnnxWebEngine({ ort, backend: 'wasm', modelsBaseUrl: `${base}/${folder}` }).loadModel(spec);
  const code = (promise: Promise<unknown>) =>
    promise.then(
      () => 'resolved',
      (e: NestorError) => e.code,
    );

  it('fetches a model from the models URL (hash in the query) and runs it', async () => {
    const session = await load('good');
    const input = new Float32Array(128 * 128 * 3);
    const out = await session.run({ 'input:0': { data: input, dims: [1, 128, 128, 3] } });
    expect(Object.keys(out).sort()).toEqual(['Identity:0', 'Identity_1:0', 'Identity_2:0', 'Identity_3:0']);
    expect(out['Identity:0']!.dims).toEqual([1, 512, 1]);
    await session.release();
  });

  it.each([
    { folder: 'tampered', want: 'E_MODEL_INTEGRITY' },
    { folder: 'absent', want: 'E_MODEL_MISSING' },
  ])('$folder → $want', async ({ folder, want }) => {
    expect(await code(load(folder))).toBe(want);
  });

  it('E_NETWORK when the server cannot be reached', async () => {
    const engine = new OnnxWebEngine({ ort, backend: 'wasm', modelsBaseUrl: 'http://127.0.0.1:1/models/' });
    expect(await code(engine.loadModel(spec))).toBe('E_NETWORK');
  });

  it('needs a models URL or a reader', () => {
    expect(() => new OnnxWebEngine({ ort, backend: 'wasm' })).toThrow(/modelsBaseUrl or fetchModel/);
  });

  it('sha256Hex matches the manifest', async () => {
    expect(await sha256Hex(new Uint8Array(await modelFile(spec.file)))).toBe(spec.sha256);
  });
});
