import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  compareDetections,
  defaultConfig,
  type Engine,
  type InferenceSession,
  Nestor,
  NestorError,
  type Progress,
  parseConfig,
} from '@nestor/core';
import { createSharpCodec } from '@nestor/engine-node';
import { DEFAULT_MODELS_DIR, MODELS } from '@nestor/models';
import * as ort from 'onnxruntime-web';
import { afterEach, describe, expect, it } from 'vitest';
import { OnnxWebEngine } from './onnx-web-engine.ts';
import { noisyPng } from './test-support.ts';
import { webNestorConfig } from './web-nestor.ts';
import { type WorkerEndpoint, WorkerNestor } from './worker-client.ts';
import { serveWebNestor, type WorkerHostParts, type WorkerHostScope } from './worker-host.ts';

const DEV = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/eval/dev/images');
const HAS_DEV = existsSync(DEV);
if (!HAS_DEV) console.warn(`skipping the worker's dev-photo comparison: ${DEV} is absent`);

ort.env.wasm.numThreads = 1;
const realEngine = () =>
  new OnnxWebEngine({
    ort,
    backend: 'wasm',
    fetchModel: async (spec) => new Uint8Array(await readFile(path.join(DEFAULT_MODELS_DIR, spec.file))),
  });

/**
 * An engine whose runs go one at a time (as onnxruntime-web's do), each counted as it starts and
 * held there until the test releases it, then run on the real engine.
 */
function heldEngine(inner: Engine) {
  const gates: (() => void)[] = [];
  const state = { runs: 0, release: () => gates.shift()?.(), waiting: () => gates.length };
  let queue: Promise<unknown> = Promise.resolve();
  const engine: Engine = {
    name: inner.name,
    async loadModel(spec) {
      const session = await inner.loadModel(spec);
      const held: InferenceSession = {
        run: (feeds) => {
          const next = queue.then(async () => {
            state.runs++;
            await new Promise<void>((go) => gates.push(go));
            return session.run(feeds);
          });
          queue = next.catch(() => undefined);
          return next;
        },
        release: () => session.release(),
      };
      return held;
    },
  };
  return { engine, state };
}

/** Lets `state`'s held runs go, one after the other, until `work` settles. */
async function finish<T>(work: Promise<T>, state: { release(): void }): Promise<T> {
  let settled = false;
  const mark = () => {
    settled = true;
  };
  work.then(mark, mark);
  while (!settled) {
    state.release();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return work;
}

const opened: { close(): void }[] = [];
afterEach(() => {
  for (const port of opened.splice(0)) port.close();
});

/**
 * A host and a client joined by a MessageChannel, as a dedicated worker and its page are; the
 * client's endpoint can be made to fire `error` as a Worker whose script failed does.
 */
function workerPair(parts: WorkerHostParts, uncloneableAnswers = 0) {
  const { port1, port2 } = new MessageChannel();
  opened.push(port1, port2);
  let refusals = uncloneableAnswers;
  let progressMessages = 0;
  const scope: WorkerHostScope = {
    postMessage: (message, transfer) => {
      if (message.type === 'progress') progressMessages++;
      // As structured cloning refuses an answer it cannot copy.
      if (message.type === 'done' && refusals-- > 0) throw new DOMException('uncloneable', 'DataCloneError');
      port1.postMessage(message, transfer);
    },
    addEventListener: (type, listener) => port1.addEventListener(type, listener as (event: Event) => void),
  };
  serveWebNestor(scope, parts);
  port1.start();
  const errors = new EventTarget();
  let terminated = 0;
  const endpoint: WorkerEndpoint = {
    postMessage: (message, transfer) => port2.postMessage(message, transfer),
    addEventListener: (type: string, listener: (event: never) => void) => {
      if (type === 'message') port2.addEventListener('message', listener as (event: Event) => void);
      else errors.addEventListener(type, listener as (event: Event) => void);
    },
    terminate: () => {
      terminated++;
      port2.close();
    },
  };
  port2.start();
  return {
    endpoint,
    crash: () => errors.dispatchEvent(new Event('error')),
    terminated: () => terminated,
    progressMessages: () => progressMessages,
  };
}

const startParts = (engine: Engine): WorkerHostParts => ({
  start: async (options) => ({ engine, config: webNestorConfig(options.config), threads: 1 }),
  codec: () => createSharpCodec(),
});

const ASSETS = 'http://nestor.test/';

/** The pipeline itself on `engine`, outside any worker: what the worker's answers must equal. */
const directNestor = (engine: Engine) =>
  new Nestor({ engine, codec: createSharpCodec(), models: MODELS, config: defaultConfig(), concurrency: 1 });

describe('WorkerNestor and serveWebNestor (the on-device pipeline in a Web Worker)', () => {
  it.skipIf(!HAS_DEV)(
    'answers detect and anonymize exactly as the pipeline itself does, Blob or bytes',
    async () => {
      const bytes = new Uint8Array(await readFile(path.join(DEV, 'face-0003.jpg')));
      const engine = realEngine();
      const direct = directNestor(engine);
      const { endpoint } = workerPair(startParts(engine));
      const nestor = await WorkerNestor.start(endpoint, { assetsBaseUrl: ASSETS });
      expect(nestor.info).toEqual({ engine: 'onnxruntime-web/wasm', threads: 1, crossOriginIsolated: false });

      const [want, fromBytes, fromBlob] = [
        await direct.detect(bytes),
        await nestor.detect(bytes),
        await nestor.detect(new Blob([bytes])),
      ];
      expect(want.detections.length).toBeGreaterThan(0);
      for (const got of [fromBytes, fromBlob]) {
        expect(compareDetections(want, got, { tolerancePx: 0 }).agree).toBe(true);
        expect(got.counts).toEqual(want.counts);
      }
      // The caller keeps its bytes: they were copied, not moved.
      expect(bytes.length).toBeGreaterThan(0);

      const [a, b] = [
        await direct.anonymize(bytes, { format: 'png' }),
        await nestor.anonymize(bytes, { format: 'png' }),
      ];
      expect(b.bytes).toBeInstanceOf(Uint8Array);
      expect(b.mimeType).toBe('image/png');
      expect(Buffer.compare(Buffer.from(a.bytes), Buffer.from(b.bytes))).toBe(0);
      expect(b.result.counts).toEqual(a.result.counts);
      await direct.dispose();
      await nestor.dispose();
    },
  );

  it("passes a call's progress to its listener, before its answer, and none to a call without one", async () => {
    const engine = realEngine();
    const direct = directNestor(engine);
    const { endpoint, progressMessages } = workerPair(startParts(engine));
    const nestor = await WorkerNestor.start(endpoint, { assetsBaseUrl: ASSETS });
    const bytes = await noisyPng(320, 240, 11);
    const want: Progress[] = [];
    await direct.anonymize(bytes, {}, { onProgress: (p) => want.push(p) });
    const got: Progress[] = [];
    const answered = nestor.anonymize(bytes, {}, { onProgress: (p) => got.push(p) }).then(() => got.length);
    expect(await answered).toBe(got.length);
    expect(got.length).toBe(want.length);
    expect([...new Set(got.map((p) => p.stage))]).toEqual(['decode', 'detect', 'redact', 'encode']);
    expect(got.at(-1)).toEqual(want.at(-1));
    const sent = progressMessages();
    await nestor.detect(bytes);
    expect(progressMessages()).toBe(sent);
    await direct.dispose();
    await nestor.dispose();
  });

  it('passes errors back as NestorErrors with their code and details', async () => {
    const { endpoint } = workerPair(startParts(realEngine()));
    const nestor = await WorkerNestor.start(endpoint, { assetsBaseUrl: ASSETS });
    const notImage = await nestor.detect(new Uint8Array([1, 2, 3])).catch((e: unknown) => e);
    expect(notImage).toBeInstanceOf(NestorError);
    expect((notImage as NestorError).code).toBe('E_UNSUPPORTED_MEDIA');
    const keep = await nestor
      .anonymize(await noisyPng(40, 30, 5), { keepMetadata: true })
      .catch((e: unknown) => e);
    expect((keep as NestorError).code).toBe('E_INVALID_OPTION');
    expect((keep as NestorError).details).toMatchObject({ option: 'keepMetadata' });
    // A refused call leaves the worker serving.
    expect((await nestor.detect(await noisyPng(40, 30, 5))).detections).toEqual([]);
    await nestor.dispose();
  });

  it('settles a call whose answer cannot be sent with E_INTERNAL, and serves the next one', async () => {
    const { endpoint } = workerPair(startParts(realEngine()), 1);
    const nestor = await WorkerNestor.start(endpoint, { assetsBaseUrl: ASSETS });
    const png = await noisyPng(40, 30, 5);
    const lost = await nestor.detect(png).catch((e: unknown) => e);
    expect((lost as NestorError).code).toBe('E_INTERNAL');
    expect((await nestor.detect(png)).detections).toEqual([]);
    await nestor.dispose();
  });

  it("refuses to start on a config the browser cannot honour, with the worker's own error, and ends the worker", async () => {
    const pair = workerPair(startParts(realEngine()));
    const config = parseConfig({});
    const error = await WorkerNestor.start(pair.endpoint, {
      assetsBaseUrl: ASSETS,
      config: { classes: { face: { ...config.classes.face, models: ['no-such-model'] } } },
    }).catch((e: unknown) => e);
    expect((error as NestorError).code).toBe('E_INVALID_CONFIG');
    expect((error as NestorError).details).toEqual({ unknownModels: ['no-such-model'] });
    expect(pair.terminated()).toBe(1);
  });

  it('stops an aborted call between two inference runs, and serves the next call on the same models', async () => {
    const { engine, state } = heldEngine(realEngine());
    const { endpoint } = workerPair(startParts(engine));
    const nestor = await WorkerNestor.start(endpoint, { assetsBaseUrl: ASSETS });
    const png = await noisyPng(64, 48, 5);
    expect((await finish(nestor.detect(png), state)).detections).toEqual([]);
    const whole = state.runs;

    const controller = new AbortController();
    const stopped = nestor.detect(png, {}, { signal: controller.signal }).catch((e: unknown) => e);
    await expect.poll(() => state.waiting()).toBe(1);
    controller.abort();
    // The abort crosses to the worker while the run in flight is held (it cannot be interrupted).
    await new Promise((resolve) => setTimeout(resolve, 50));
    const error = await finish(stopped, state);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
    expect(state.runs - whole).toBe(1);

    const runsBefore = state.runs;
    expect((await finish(nestor.detect(png), state)).detections).toEqual([]);
    expect(state.runs - runsBefore).toBe(whole);
    await nestor.dispose();
  });

  it('never begins a call aborted while it waited behind another', async () => {
    const { engine, state } = heldEngine(realEngine());
    const { endpoint } = workerPair(startParts(engine));
    const nestor = await WorkerNestor.start(endpoint, { assetsBaseUrl: ASSETS });
    const png = await noisyPng(64, 48, 5);
    const first = nestor.detect(png);
    await expect.poll(() => state.waiting()).toBe(1);
    const controller = new AbortController();
    const second = nestor.detect(png, {}, { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    await finish(first, state);
    const runs = state.runs;
    expect(((await second) as DOMException).name).toBe('AbortError');
    expect(state.runs).toBe(runs);
    // Already aborted: refused without a message to the worker.
    const late = await nestor.detect(png, {}, { signal: controller.signal }).catch((e: unknown) => e);
    expect((late as DOMException).name).toBe('AbortError');
    expect(state.runs).toBe(runs);
    await nestor.dispose();
  });

  it('fails the calls waiting on a worker that crashed, and every later call, with E_INTERNAL', async () => {
    const { engine, state } = heldEngine(realEngine());
    const pair = workerPair(startParts(engine));
    const nestor = await WorkerNestor.start(pair.endpoint, { assetsBaseUrl: ASSETS });
    const waiting = nestor.detect(await noisyPng(64, 48, 5)).catch((e: unknown) => e);
    await expect.poll(() => state.waiting()).toBe(1);
    expect(nestor.usable).toBe(true);
    pair.crash();
    expect(((await waiting) as NestorError).code).toBe('E_INTERNAL');
    expect(nestor.usable).toBe(false);
    const later = await nestor.detect(new Uint8Array([1])).catch((e: unknown) => e);
    expect((later as NestorError).code).toBe('E_INTERNAL');
    state.release();
  });
});
