import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type ConfigInput, ERROR_CODES, invalidOption, NestorError, parseConfig } from '@nestor/core';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { fakePipeline } from '../fake-pipeline.ts';
import { createInProcessQueue } from './in-process.ts';
import { JobStorage } from './storage.ts';
import { ftyp, recordingLog } from './test-support.ts';
import type { JobQueue, JobSpec, JobStatus } from './types.ts';

/** The smallest PNG header sniffImageFormat recognises. */
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
const apps: FastifyInstance[] = [];
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

/** A queue that holds what the test gives it and records what the routes do. */
function fakeQueue(storage: JobStorage) {
  const statuses = new Map<string, JobStatus>();
  const added: JobSpec[] = [];
  const removed: string[] = [];
  const queue: JobQueue = {
    kind: 'fake',
    add: async (spec) => {
      added.push(spec);
    },
    get: async (id) => statuses.get(id),
    remove: async (id) => {
      removed.push(id);
      await storage.remove(id);
      return statuses.delete(id);
    },
    counts: async () => ({ queued: 0, active: 0, completed: 0, failed: 0 }),
    onFinished: () => {},
    close: () => storage.close(),
  };
  return { queue, statuses, added, removed };
}

async function appWith(queue: JobQueue, storage: JobStorage, input: ConfigInput = {}) {
  const app = buildApp({ nestor: fakePipeline(), config: parseConfig(input), jobs: { queue, storage } });
  apps.push(app);
  await app.ready();
  return app;
}

/** A finished job whose result is on disk. */
async function completed(storage: JobStorage, statuses: Map<string, JobStatus>): Promise<string> {
  const id = JobStorage.newId();
  await storage.create(id);
  await writeFile(path.join(storage.outputDir(id), 'anonymized.zip'), 'zip bytes');
  statuses.set(id, {
    id,
    kind: 'images',
    state: 'completed',
    progress: 1,
    attempts: 1,
    output: { fileName: 'anonymized.zip', mimeType: 'application/zip', bytes: 9 },
  });
  return id;
}

function upload(files: number, fields: Record<string, string> = {}, bytes: Uint8Array = PNG) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (let i = 0; i < files; i++) form.append('file', new Blob([new Uint8Array(bytes)]), `${i}.png`);
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return request.arrayBuffer().then((body) => ({
    payload: Buffer.from(body),
    headers: { 'content-type': request.headers.get('content-type')! },
  }));
}

function errorOf(res: LightMyRequestResponse, status: number) {
  expect(res.statusCode, res.body).toBe(status);
  return res.json<{ error: { code: string; message: string } }>().error;
}

describe('GET /v1/jobs/:id/result', () => {
  it('HEAD describes the result and keeps the job; the GET then delivers it once', async () => {
    const storage = JobStorage.fromConfig(parseConfig({}));
    const fake = fakeQueue(storage);
    const app = await appWith(fake.queue, storage);
    const id = await completed(storage, fake.statuses);

    const head = await app.inject({ method: 'HEAD', url: `/v1/jobs/${id}/result` });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toBe('application/zip');
    expect(head.body).toBe('');
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.removed).toEqual([]);

    const get = await app.inject({ method: 'GET', url: `/v1/jobs/${id}/result` });
    expect(get.statusCode).toBe(200);
    expect(get.body).toBe('zip bytes');
    // Deleted once the answer is written, a moment after the client has it: polled, not timed.
    for (let i = 0; i < 500 && fake.statuses.has(id); i++) await new Promise((r) => setTimeout(r, 10));
    expect(fake.removed).toEqual([id]);
    expect(errorOf(await app.inject({ method: 'GET', url: `/v1/jobs/${id}` }), 404).code).toBe('E_NOT_FOUND');
  });

  it('a malformed id is a job that does not exist (404), a bad part is an invalid option (400)', async () => {
    const storage = JobStorage.fromConfig(parseConfig({}));
    const fake = fakeQueue(storage);
    const app = await appWith(fake.queue, storage);
    for (const [method, url] of [
      ['GET', '/v1/jobs/not-a-uuid'],
      ['GET', '/v1/jobs/not-a-uuid/result'],
      ['DELETE', '/v1/jobs/not-a-uuid'],
    ] as const) {
      expect(errorOf(await app.inject({ method, url }), 404), url).toEqual({
        code: 'E_NOT_FOUND',
        message: 'No such job (finished jobs are deleted once delivered)',
      });
    }
    const id = await completed(storage, fake.statuses);
    const part = await app.inject({ method: 'GET', url: `/v1/jobs/${id}/result?part=everything` });
    expect(errorOf(part, 400)).toMatchObject({
      code: 'E_INVALID_OPTION',
      details: { option: 'part', reason: 'choice', allowed: ['file', 'detections'] },
    });
    expect(fake.removed).toEqual([]);
  });
});

describe('GET /v1/jobs/:id of a failed job', () => {
  const integrity = '/srv/nestor/models/retinaface.onnx does not match the sha256 of the manifest';

  it('gives the generic text of a server-side failure and keeps a client-side one', async () => {
    const storage = JobStorage.fromConfig(parseConfig({}));
    const fake = fakeQueue(storage);
    const app = await appWith(fake.queue, storage);
    const failed = (code: 'E_MODEL_INTEGRITY' | 'E_DECODE' | 'E_UNKNOWN', message: string) => {
      const id = JobStorage.newId();
      fake.statuses.set(id, {
        id,
        kind: 'video',
        state: 'failed',
        progress: 0,
        attempts: 1,
        error: { code: code as 'E_DECODE', message },
      });
      return app.inject({ method: 'GET', url: `/v1/jobs/${id}` });
    };
    expect((await failed('E_MODEL_INTEGRITY', integrity)).json().error).toEqual({
      code: 'E_MODEL_INTEGRITY',
      message: ERROR_CODES.E_MODEL_INTEGRITY,
    });
    expect((await failed('E_DECODE', 'The video is truncated')).json().error).toEqual({
      code: 'E_DECODE',
      message: 'The video is truncated',
    });
    expect((await failed('E_UNKNOWN', integrity)).json().error).toEqual({
      code: 'E_INTERNAL',
      message: ERROR_CODES.E_INTERNAL,
    });
  });

  it('the in-process queue: a job failing with file paths in its message does not show them', async () => {
    const storage = JobStorage.fromConfig(parseConfig({}));
    const queue = createInProcessQueue({
      config: parseConfig({}),
      storage,
      run: async () => {
        throw new NestorError('E_MODEL_INTEGRITY', integrity);
      },
      closeRunner: async () => {},
      log: recordingLog().log,
    });
    const app = await appWith(queue, storage);
    const res = await app.inject({ method: 'POST', url: '/v1/jobs', ...(await upload(1)) });
    expect(res.statusCode, res.body).toBe(202);
    const { id } = res.json<{ id: string }>();
    let status: JobStatus | undefined;
    for (let i = 0; i < 100 && status?.state !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      status = (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobStatus>();
    }
    expect(status).toMatchObject({
      state: 'failed',
      error: { code: 'E_MODEL_INTEGRITY', message: ERROR_CODES.E_MODEL_INTEGRITY },
    });
    expect(JSON.stringify(status)).not.toContain('/srv/');
  });

  it('the in-process queue: a job refusing an option keeps its facts (details.option)', async () => {
    const storage = JobStorage.fromConfig(parseConfig({}));
    const queue = createInProcessQueue({
      config: parseConfig({}),
      storage,
      run: async () => {
        throw invalidOption('format', 'one of "same", "tiff"', 'jpeg', {
          reason: 'choice',
          allowed: ['same', 'tiff'],
        });
      },
      closeRunner: async () => {},
      log: recordingLog().log,
    });
    const app = await appWith(queue, storage);
    const { id } = (await app.inject({ method: 'POST', url: '/v1/jobs', ...(await upload(1)) })).json<{
      id: string;
    }>();
    let status: JobStatus | undefined;
    for (let i = 0; i < 100 && status?.state !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      status = (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobStatus>();
    }
    expect(status?.error).toMatchObject({
      code: 'E_INVALID_OPTION',
      details: { option: 'format', reason: 'choice', allowed: ['same', 'tiff'] },
    });
  });
});

describe('POST /v1/jobs', () => {
  it('too many images or fields answer 400 E_BAD_REQUEST naming the job limits', async () => {
    const storage = JobStorage.fromConfig(parseConfig({}));
    const fake = fakeQueue(storage);
    const app = await appWith(fake.queue, storage, { jobs: { maxImages: 2 } });
    const three = await app.inject({ method: 'POST', url: '/v1/jobs', ...(await upload(3)) });
    expect(errorOf(three, 400)).toEqual({ code: 'E_BAD_REQUEST', message: 'At most 2 images per job' });
    const fields = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, 'x']));
    const many = await app.inject({ method: 'POST', url: '/v1/jobs', ...(await upload(1, fields)) });
    expect(errorOf(many, 400)).toEqual({
      code: 'E_BAD_REQUEST',
      message: 'At most 32 option fields per job',
    });
    expect(fake.added).toEqual([]);
  });

  it('a field cut short at the field size limit is refused, naming it, instead of misread', async () => {
    const storage = JobStorage.fromConfig(parseConfig({}));
    const fake = fakeQueue(storage);
    const app = await appWith(fake.queue, storage);
    const huge = { addRegions: `[${'{"x":0},'.repeat(140_000)}]` };
    const res = await app.inject({ method: 'POST', url: '/v1/jobs', ...(await upload(1, huge)) });
    expect(errorOf(res, 400)).toMatchObject({
      code: 'E_INVALID_OPTION',
      message: 'The field "addRegions" is longer than 1048576 bytes',
      details: { option: 'addRegions', reason: 'invalid' },
    });
    expect(fake.added).toEqual([]);
  });

  it('a file over jobs.maxUploadBytes answers 413 naming that limit', async () => {
    const storage = JobStorage.fromConfig(parseConfig({}));
    const fake = fakeQueue(storage);
    const app = await appWith(fake.queue, storage, { jobs: { maxUploadBytes: 100 } });
    const big = Buffer.concat([PNG, Buffer.alloc(200)]);
    const res = await app.inject({ method: 'POST', url: '/v1/jobs', ...(await upload(1, {}, big)) });
    expect(errorOf(res, 413)).toEqual({
      code: 'E_INPUT_TOO_LARGE',
      message: 'A file is larger than the limit of 100 bytes',
    });
  });

  it('HEIC and AVIF are images and MP4 a video, whatever the box; other files are refused', async () => {
    const storage = JobStorage.fromConfig(parseConfig({}));
    const fake = fakeQueue(storage);
    const app = await appWith(fake.queue, storage);
    const post = async (head: Uint8Array) =>
      app.inject({
        method: 'POST',
        url: '/v1/jobs',
        ...(await upload(1, {}, Buffer.concat([head, Buffer.alloc(64)]))),
      });
    for (const image of [ftyp('heic', 'mif1', 'heic'), ftyp('mif1', 'heic'), ftyp('avif', 'mif1', 'miaf')]) {
      expect((await post(image)).statusCode).toBe(202);
    }
    expect((await post(ftyp('isom', 'iso2', 'mp41'))).statusCode).toBe(202);
    expect(fake.added.map((spec) => spec.kind)).toEqual(['images', 'images', 'images', 'video']);
    expect(errorOf(await post(ftyp('mif1', 'miaf')), 415)).toEqual({
      code: 'E_UNSUPPORTED_MEDIA',
      message: 'A file is neither an image nor a video Nestor reads',
    });
  });

  it("takes a video's timed corrections, and refuses a span that runs backwards", async () => {
    const storage = JobStorage.fromConfig(parseConfig({}));
    const fake = fakeQueue(storage);
    const app = await appWith(fake.queue, storage);
    const addRegions = [{ x: 1, y: 2, width: 30, height: 40, label: 'face', fromMs: 500, toMs: 1500 }];
    const suppress = [{ x: 0, y: 0, width: 10, height: 10, toMs: 200 }];
    const fields = { addRegions: JSON.stringify(addRegions), suppress: JSON.stringify(suppress) };
    const res = await app.inject({ method: 'POST', url: '/v1/jobs', ...(await upload(1, fields)) });
    expect(res.statusCode, res.body).toBe(202);
    expect(fake.added[0]?.options).toEqual({ addRegions, suppress });
    const backwards = JSON.stringify([{ ...addRegions[0], fromMs: 1500, toMs: 500 }]);
    const refused = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      ...(await upload(1, { addRegions: backwards })),
    });
    expect(errorOf(refused, 400)).toMatchObject({
      code: 'E_INVALID_OPTION',
      message: 'Expected a time not before fromMs for addRegions.0.toMs but received 500 of type number',
      details: { option: 'addRegions', reason: 'invalid' },
    });
  });

  it('takes task and the options from the form or the query string', async () => {
    const storage = JobStorage.fromConfig(parseConfig({}));
    const fake = fakeQueue(storage);
    const app = await appWith(fake.queue, storage);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/jobs?task=detect&method=pixelate',
      ...(await upload(1, { quality: '70' })),
    });
    expect(res.statusCode, res.body).toBe(202);
    expect(fake.added[0]?.options).toEqual({ task: 'detect', method: 'pixelate', quality: 70 });
    const bogus = await app.inject({ method: 'POST', url: '/v1/jobs?bogus=1', ...(await upload(1)) });
    expect(errorOf(bogus, 400)).toMatchObject({
      code: 'E_INVALID_OPTION',
      details: { option: 'bogus', reason: 'unknown' },
    });
  });
});
