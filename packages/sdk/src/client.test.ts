import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultConfig, type Nestor, type Progress } from '@nestor/core';
import { createNodeNestor } from '@nestor/engine-node';
import { DEFAULT_MODELS_DIR, MODELS } from '@nestor/models';
import { buildApp } from '@nestor/server';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BatchDetections,
  createClient,
  isAbortError,
  type JobStatus,
  type NestorClient,
  NestorError,
  type VideoDetections,
} from './index.ts';

const HAS_FFMPEG =
  spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0 &&
  spawnSync('ffprobe', ['-version'], { stdio: 'ignore' }).status === 0;
if (!HAS_FFMPEG) console.warn('sdk: video job test skipped: ffmpeg/ffprobe missing (apt-get install ffmpeg)');

let nestor: Nestor;
let app: ReturnType<typeof buildApp>;
let baseUrl: string;
let client: NestorClient;
let jpeg: Uint8Array;

const WIDTH = 160;
const HEIGHT = 120;
/** A region every test adds, so results hold one known face whatever the detector finds. */
const FACE = { label: 'face', x: 40, y: 30, width: 48, height: 48 } as const;

/** Resolves to the error the promise rejects with, or fails the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<NestorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NestorError);
  return error as NestorError;
}

/** A port nothing listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
  return port;
}

beforeAll(async () => {
  const config = defaultConfig();
  nestor = createNodeNestor(config, DEFAULT_MODELS_DIR);
  app = buildApp({ nestor, config });
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  client = createClient({ baseUrl });
  jpeg = new Uint8Array(
    await sharp({
      create: { width: WIDTH, height: HEIGHT, channels: 3, background: { r: 200, g: 180, b: 160 } },
    })
      .jpeg()
      .toBuffer(),
  );
});

afterAll(async () => {
  await app?.close();
  await nestor?.dispose();
});

/** Polls often: these jobs take a second or two. */
const POLL = { pollIntervalMs: 50, maxPollIntervalMs: 200 } as const;

describe('jobs against the real server', () => {
  it('a batch of images: status, detections JSON, the ZIP, then the job is gone', async () => {
    const { id } = await client.createJob([jpeg, jpeg], { addRegions: [FACE], method: 'solid' });
    const status = await client.waitForJob(id, POLL);
    expect(status).toMatchObject({ id, kind: 'images', state: 'completed', progress: 1 });
    const detections = (await client.jobDetections(id)) as BatchDetections;
    expect(detections.results).toHaveLength(2);
    const result = await client.jobResult(id);
    expect(result.mimeType).toBe('application/zip');
    expect(result.fileName).toBe(status.output?.fileName);
    expect(result.blob.size).toBe(status.output?.bytes);
    expect((await rejection(client.job(id))).code).toBe('E_NOT_FOUND');
  });

  it.skipIf(!HAS_FFMPEG)(
    'a video: progress to completed, detections per frame, the video, and a cancelled job',
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'nestor-sdk-'));
      try {
        const clip = path.join(dir, 'clip.mp4');
        execFileSync('ffmpeg', [
          ...['-hide_banner', '-loglevel', 'error', '-y'],
          ...['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=1'],
          ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip],
        ]);
        const video = new Blob([new Uint8Array(await readFile(clip))], { type: 'video/mp4' });
        // A second region holds only from 300 to 600 ms: frames 3 to 6 of this 10 fps clip.
        const timed = { ...FACE, x: 100, width: 40, fromMs: 300, toMs: 600 };
        const { id } = await client.createJob(video, { addRegions: [FACE, timed] });
        const seen: JobStatus[] = [];
        const { status, detections, file } = await client.downloadJob(id, {
          ...POLL,
          onProgress: (s) => seen.push(s),
        });
        expect(status).toMatchObject({ kind: 'video', state: 'completed', progress: 1 });
        expect(seen.at(-1)).toEqual(status);
        expect((detections as VideoDetections).video).toMatchObject({
          container: 'mp4',
          frames: 10,
          width: 160,
          height: 120,
        });
        const withRegions = (detections as VideoDetections).frames;
        expect(withRegions).toHaveLength(10);
        expect(withRegions.filter((f) => f.detections.length === 2).map((f) => f.timeMs)).toEqual([
          300, 400, 500, 600,
        ]);
        expect(file?.mimeType).toBe('video/mp4');
        const out = path.join(dir, 'out.mp4');
        await writeFile(out, new Uint8Array(await file!.blob.arrayBuffer()));
        const frames = execFileSync('ffprobe', [
          ...['-v', 'error', '-count_frames', '-select_streams', 'v:0'],
          ...['-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', out],
        ]);
        expect(Number(frames.toString().trim())).toBe(10);

        const cancelled = await client.createJob(video);
        await client.deleteJob(cancelled.id);
        expect((await rejection(client.job(cancelled.id))).code).toBe('E_NOT_FOUND');
        expect((await rejection(client.deleteJob(cancelled.id))).code).toBe('E_NOT_FOUND');

        const abandoned = await client.createJob(video);
        const controller = new AbortController();
        const waiting = client.waitForJob(abandoned.id, {
          ...POLL,
          signal: controller.signal,
          cancelOnAbort: true,
          onProgress: () => controller.abort(),
        });
        await expect(waiting).rejects.toSatisfy(isAbortError);
        expect((await rejection(client.job(abandoned.id))).code).toBe('E_NOT_FOUND');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it('a detect job: downloadJob gives its detections and no file, and the job is gone', async () => {
    const { id } = await client.createJob([jpeg], { task: 'detect', addRegions: [FACE] });
    const { status, detections, file } = await client.downloadJob(id, POLL);
    expect(status.output?.mimeType).toBe('application/json');
    expect((detections as BatchDetections).results).toHaveLength(1);
    expect(file).toBeUndefined();
    expect((await rejection(client.job(id))).code).toBe('E_NOT_FOUND');
  });

  it('sends only the extension of a file name, the task field, and the headers of DELETE', async () => {
    const seen: { method: string; path: string; csrf: string | null; names: string[]; task: unknown }[] = [];
    const spy = createClient({
      baseUrl: 'http://nestor.test',
      headers: ({ method }) => (method === 'GET' ? {} : { 'x-csrf-token': 'token' }),
      fetch: async (url, init) => {
        const form = init.body instanceof FormData ? init.body : undefined;
        seen.push({
          method: init.method ?? 'GET',
          path: new URL(url).pathname,
          csrf: new Headers(init.headers).get('x-csrf-token'),
          names: (form?.getAll('file') ?? []).map((f) => (f as File).name),
          task: form?.get('task') ?? null,
        });
        return init.method === 'DELETE'
          ? new Response(null, { status: 204 })
          : new Response(JSON.stringify({ id: 'a' }), { status: 202 });
      },
    });
    await spy.createJob(new File([new Uint8Array(jpeg)], 'Holiday Mum.MP4'), { task: 'detect' });
    await spy.deleteJob('a');
    expect(seen).toEqual([
      { method: 'POST', path: '/v1/jobs', csrf: 'token', names: ['upload.mp4'], task: 'detect' },
      { method: 'DELETE', path: '/v1/jobs/a', csrf: 'token', names: [], task: null },
    ]);
  });
});

describe('createClient against the real server', () => {
  it('health, ready and models', async () => {
    expect(await client.health()).toEqual({ status: 'ok' });
    let ready = await client.ready();
    for (let i = 0; i < 200 && ready.status === 'starting'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ready = await client.ready();
    }
    expect(ready).toEqual({ status: 'ready' });
    const models = await client.models();
    expect(models.map((m) => m.id)).toEqual(MODELS.map((m) => m.id));
    expect(models.find((m) => m.id === 'retinaface-mnet025')?.active).toBe(true);
    // thorough runs it: active means some preset of the config may run it.
    expect(models.find((m) => m.id === 'blazeface-full-range')?.active).toBe(true);
  });

  it('appConfig gives the deployment settings the web app starts from', async () => {
    const answer = await client.appConfig();
    expect(answer.locales).toEqual(['en', 'fr', 'de', 'it']);
    expect(answer.defaults).toMatchObject({ method: 'gaussian', targets: ['face', 'plate'], format: 'same' });
    expect(answer.auth.mode).toBe('local');
  });

  it('detect sends bytes and options as the server reads them', async () => {
    const result = await client.detect(jpeg, { targets: ['face'], addRegions: [FACE] });
    expect(result.image).toEqual({ width: WIDTH, height: HEIGHT, format: 'jpeg' });
    expect(result.detections).toContainEqual(
      expect.objectContaining({
        label: 'face',
        source: 'manual',
        region: { x: 40, y: 30, width: 48, height: 48 },
      }),
    );
    expect(result.counts.face).toBe(result.detections.length);
    expect(Object.keys(result.models)).toEqual(['face']);
  });

  it('detect takes a Blob (a browser File) too', async () => {
    const blob = new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' });
    const result = await client.detect(blob, { preset: 'fast' });
    expect(result.image.format).toBe('jpeg');
  });

  it('every option reaches the server under a name it accepts', async () => {
    const result = await client.detect(jpeg, {
      preset: 'fast',
      targets: ['face', 'plate'],
      method: 'pixelate',
      strength: 2,
      feather: 0.2,
      minScore: { face: 0.7, plate: 0.6 },
      iouThreshold: 0.4,
      format: 'png',
      quality: 80,
      keepMetadata: true,
      addRegions: [FACE],
      suppress: [{ x: 150, y: 110, width: 5, height: 5 }],
    });
    expect(result.counts.face).toBeGreaterThanOrEqual(1);
  });

  it('anonymize returns the image with counts and timings from the headers', async () => {
    const out = await client.anonymize(jpeg, { method: 'solid', format: 'png', addRegions: [FACE] });
    expect(out.mimeType).toBe('image/png');
    const { data, info } = await sharp(out.bytes).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([WIDTH, HEIGHT]);
    // The centre of the added face is under the solid (black) mask; a corner is not.
    const at = (x: number, y: number) => [...data.subarray((y * WIDTH + x) * info.channels).slice(0, 3)];
    expect(at(64, 54)).toEqual([0, 0, 0]);
    expect(at(2, 2)).not.toEqual([0, 0, 0]);
    expect(out.counts.face).toBeGreaterThanOrEqual(1);
    expect(out.counts.plate).toBeGreaterThanOrEqual(0);
    for (const ms of Object.values(out.timings)) expect(ms).toBeGreaterThanOrEqual(0);
    expect(out.timings.totalMs).toBeGreaterThanOrEqual(out.timings.detectMs);
  });

  it('anonymizeJson returns the detections and the image in base64', async () => {
    const out = await client.anonymizeJson(jpeg, { addRegions: [FACE] });
    expect(out.output).toMatchObject({ format: 'jpeg', mimeType: 'image/jpeg' });
    const meta = await sharp(Buffer.from(out.output.base64, 'base64')).metadata();
    expect([meta.width, meta.height]).toEqual([WIDTH, HEIGHT]);
    expect(out.counts.face).toBe(out.detections.filter((d) => d.label === 'face').length);
  });
});

describe('progress (onProgress: the server streams NDJSON)', () => {
  it('detect hears where the work stands, then resolves to the result a plain call gets', async () => {
    const heard: Progress[] = [];
    const result = await client.detect(jpeg, { addRegions: [FACE] }, { onProgress: (p) => heard.push(p) });
    expect(heard.length).toBeGreaterThan(0);
    expect(heard.at(-1)!.runs).toBe(heard.at(-1)!.plannedRuns);
    const plain = await client.detect(jpeg, { addRegions: [FACE] });
    expect(result.detections).toEqual(plain.detections);
  });

  it('anonymizeJson hears every stage after decoding, and gets the image', async () => {
    const heard: Progress[] = [];
    const out = await client.anonymizeJson(jpeg, { format: 'png' }, { onProgress: (p) => heard.push(p) });
    expect([...new Set(heard.map((p) => p.stage))]).toEqual(['detect', 'redact', 'encode']);
    expect((await sharp(Buffer.from(out.output.base64, 'base64')).metadata()).format).toBe('png');
  });

  it('an image the server cannot read is its usual error, with no report', async () => {
    const heard: Progress[] = [];
    const error = await rejection(
      client.detect(new TextEncoder().encode('no image'), {}, { onProgress: (p) => heard.push(p) }),
    );
    expect([error.code, error.details?.status]).toEqual(['E_UNSUPPORTED_MEDIA', 415]);
    expect(heard).toEqual([]);
  });

  const streaming = (body: string, type = 'application/x-ndjson') =>
    createClient({
      baseUrl: 'http://nestor.test',
      retry: false,
      fetch: async () => new Response(body, { status: 200, headers: { 'content-type': type } }),
    });
  const report = { stage: 'detect', runs: 1, plannedRuns: 3 };

  it('a failure line rejects with its error and status, after the reports before it', async () => {
    const heard: Progress[] = [];
    const body = [
      JSON.stringify({ progress: report }),
      JSON.stringify({ status: 503, error: { code: 'E_TIMEOUT', message: 'Processing took too long' } }),
      '',
    ].join('\n');
    const error = await rejection(streaming(body).detect(jpeg, {}, { onProgress: (p) => heard.push(p) }));
    expect([error.code, error.message, error.details?.status]).toEqual([
      'E_TIMEOUT',
      'Processing took too long',
      503,
    ]);
    expect(heard).toEqual([report]);
  });

  it('an answer that ends before its result is E_NETWORK', async () => {
    const error = await rejection(
      streaming(`${JSON.stringify({ progress: report })}\n`).detect(jpeg, {}, { onProgress: () => {} }),
    );
    expect(error.code).toBe('E_NETWORK');
  });

  it('a server that does not stream answers plain JSON: the result, and no report', async () => {
    const heard: Progress[] = [];
    const plain = await client.detect(jpeg, { addRegions: [FACE] });
    const result = await streaming(JSON.stringify(plain), 'application/json').detect(
      jpeg,
      {},
      { onProgress: (p) => heard.push(p) },
    );
    expect(result).toEqual(plain);
    expect(heard).toEqual([]);
  });
});

describe('errors', () => {
  it('empty bytes are E_EMPTY_INPUT, from the server', async () => {
    const error = await rejection(client.detect(new Uint8Array(0)));
    expect(error.code).toBe('E_EMPTY_INPUT');
    expect(error.details).toMatchObject({ status: 400 });
  });

  it('a bad option is E_INVALID_OPTION with the server message', async () => {
    const error = await rejection(client.anonymize(jpeg, { strength: 50 }));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.message).toMatch(/^Expected .* for strength but received 50 of type number$/);
    expect(error.details).toEqual({
      option: 'strength',
      reason: 'range',
      maximum: 10,
      status: 400,
      code: 'E_INVALID_OPTION',
    });
  });

  it('an option the SDK does not know goes as is, for the server to name', async () => {
    const error = await rejection(client.detect(jpeg, { blurr: 2 } as never));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.message).toContain('blurr');
    expect(error.details).toMatchObject({ option: 'blurr', reason: 'unknown' });
  });

  it('bytes that are no image are E_UNSUPPORTED_MEDIA', async () => {
    const error = await rejection(client.detect(new TextEncoder().encode('not an image')));
    expect(error.code).toBe('E_UNSUPPORTED_MEDIA');
  });

  it('a server that cannot be reached is E_NETWORK', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const error = await rejection(createClient({ baseUrl: url, retry: false }).health());
    expect(error.code).toBe('E_NETWORK');
    expect(error.message).toContain(url);
  });
});

describe('fetch injection', () => {
  it('uses the given fetch, with the given headers and a base URL ending in /', async () => {
    const seen: { url: string; accept: string | null; token: string | null }[] = [];
    const spy = createClient({
      baseUrl: `${baseUrl}/`,
      headers: { 'x-token': 'secret' },
      fetch: (url, init) => {
        const headers = new Headers(init.headers);
        seen.push({ url, accept: headers.get('accept'), token: headers.get('x-token') });
        return fetch(url, init);
      },
    });
    await spy.detect(jpeg, { preset: 'fast' });
    await spy.anonymize(jpeg, { preset: 'fast' });
    expect(seen).toEqual([
      { url: `${baseUrl}/v1/detect`, accept: 'application/json', token: 'secret' },
      { url: `${baseUrl}/v1/anonymize`, accept: 'image/*', token: 'secret' },
    ]);
  });

  it('calls a headers function per request (a CSRF token) and passes credentials on', async () => {
    const seen: { method: string; path: string; csrf: string | null; credentials: string | undefined }[] = [];
    let token = 'one';
    const spy = createClient({
      baseUrl,
      credentials: 'same-origin',
      headers: ({ method }) => (method === 'POST' ? { 'x-csrf-token': token } : {}),
      fetch: (url, init) => {
        const headers = new Headers(init.headers);
        seen.push({
          method: init.method ?? 'GET',
          path: new URL(url).pathname,
          csrf: headers.get('x-csrf-token'),
          credentials: init.credentials,
        });
        return fetch(url, init);
      },
    });
    await spy.health();
    await spy.detect(jpeg, { preset: 'fast' });
    token = 'two';
    await spy.detect(jpeg, { preset: 'fast' });
    expect(seen).toEqual([
      { method: 'GET', path: '/healthz', csrf: null, credentials: 'same-origin' },
      { method: 'POST', path: '/v1/detect', csrf: 'one', credentials: 'same-origin' },
      { method: 'POST', path: '/v1/detect', csrf: 'two', credentials: 'same-origin' },
    ]);
  });

  // One attempt: retries have their own tests (transport.test.ts).
  const answering = (response: () => Response) =>
    createClient({ baseUrl: 'http://nestor.test', fetch: async () => response(), retry: false });

  it('an unknown error code becomes E_INTERNAL and keeps the message', async () => {
    const body = JSON.stringify({ error: { code: 'E_FROM_THE_FUTURE', message: 'Something new' } });
    const error = await rejection(answering(() => new Response(body, { status: 418 })).models());
    expect(error.code).toBe('E_INTERNAL');
    expect(error.message).toBe('Something new');
    expect(error.details).toEqual({ status: 418, code: 'E_FROM_THE_FUTURE' });
  });

  it.each([
    { status: 413, page: '<h1>413 Request Entity Too Large</h1>', code: 'E_INPUT_TOO_LARGE' },
    { status: 429, page: 'Too Many Requests', code: 'E_RATE_LIMITED' },
    { status: 401, page: 'Authorization Required', code: 'E_UNAUTHENTICATED' },
    { status: 403, page: 'Forbidden', code: 'E_FORBIDDEN' },
    { status: 502, page: '<h1>Bad Gateway</h1>', code: 'E_NETWORK' },
    { status: 503, page: 'Service Unavailable', code: 'E_BUSY' },
    { status: 504, page: 'Gateway Time-out', code: 'E_TIMEOUT' },
    { status: 500, page: 'oops', code: 'E_INTERNAL' },
    { status: 418, page: "I'm a teapot", code: 'E_INTERNAL' },
  ])(
    'a proxy page (no Nestor body) answering $status is $code, naming the status',
    async ({ status, page, code }) => {
      const client = answering(() => new Response(page, { status }));
      const error = await rejection(client.createJob(jpeg));
      expect(error.code).toBe(code);
      expect(error.message).toBe(`http://nestor.test/v1/jobs answered ${status} without a Nestor error body`);
      expect(error.details).toEqual({ status });
    },
  );

  it('a readiness answer that is not a Nestor body is an error naming the status', async () => {
    const unready = await rejection(answering(() => new Response('busy', { status: 503 })).ready());
    expect(unready.message).toBe('http://nestor.test/readyz answered 503 without a Nestor error body');
  });

  it('a fetch that throws is E_NETWORK with the reason', async () => {
    const failing = createClient({
      baseUrl: 'http://nestor.test',
      fetch: () => Promise.reject(new TypeError('Failed to fetch')),
    });
    const error = await rejection(failing.detect(jpeg));
    expect(error.code).toBe('E_NETWORK');
    expect(error.message).toBe('Could not reach http://nestor.test/v1/detect: Failed to fetch');
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it('an image answer without the Nestor headers is an error, not made-up counts', async () => {
    const bare = answering(
      () => new Response(new Uint8Array([1, 2, 3]), { headers: { 'content-type': 'image/png' } }),
    );
    const error = await rejection(bare.anonymize(jpeg));
    expect(error.code).toBe('E_INTERNAL');
    expect(error.message).toContain('X-Nestor-Counts');
  });

  it('ready reports a failed server as an answer, its error a NestorError', async () => {
    const body = JSON.stringify({
      status: 'failed',
      error: { code: 'E_MODEL_MISSING', message: 'run npm run models' },
    });
    const ready = await answering(() => new Response(body, { status: 503 })).ready();
    expect(ready.status).toBe('failed');
    expect(ready.status === 'failed' && ready.error.code).toBe('E_MODEL_MISSING');
  });
});
