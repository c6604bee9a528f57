import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '@nestor/core';
import type { Database } from '@nestor/db';
import { openTestDatabase } from '@nestor/db/testing';
import { createNodeNestor } from '@nestor/engine-node';
import { DEFAULT_MODELS_DIR } from '@nestor/models';
import { HAS_FFMPEG, magentaPipeline, movingBoxClip } from '@nestor/video/test-clips';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { enrolled, type Harness, harness, type Session, sessionFrom } from './auth/test-support.ts';
import { fakePipeline } from './fake-pipeline.ts';
import { createInProcessQueue } from './jobs/in-process.ts';
import { type JobPipeline, runJob } from './jobs/process.ts';
import { JobStorage } from './jobs/storage.ts';
import { noiseJpeg, recordingLog, submit, waitFor } from './jobs/test-support.ts';

interface Schema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly enum?: readonly unknown[];
  readonly anyOf?: readonly Schema[];
  readonly oneOf?: readonly Schema[];
}

/**
 * Optional keys the responses below carry, per operation, each sent only sometimes (the reason above
 * it). Any other optional key a response carries fails the test: one the server always sends is
 * `required`, so that generated clients do not type it optional.
 */
const SOMETIMES: Readonly<Record<string, readonly string[]>> = {
  // Only models our exporter converted name what they were converted from.
  'GET /v1/models': ['models[].source.exportedFrom'],
  // Only the classes a request targets have a model.
  // (An NDJSON answer's result line carries the same.)
  'POST /v1/detect': ['models.face', 'models.plate', 'result.models.face', 'result.models.plate'],
  'POST /v1/anonymize': ['models.face', 'models.plate', 'result.models.face', 'result.models.plate'],
  // Local mode's user has no credentials to expire.
  'GET /v1/auth/session': ['user.credentialsExpireAt'],
  // Known once the job has run a while; a result once completed, an error once failed.
  'GET /v1/jobs/{id}': ['etaSeconds', 'output', 'error'],
  // Only the classes a job targets have a model; a region a person added to a video has no track.
  'GET /v1/jobs/{id}/result': [
    'results[].models.face',
    'results[].models.plate',
    'models.face',
    'models.plate',
    'frames[].detections[].track',
  ],
  // Any error body: details for a refused option only, with what its reason needs.
  errors: ['error.details', 'error.details.allowed', 'error.details.minimum', 'error.details.maximum'],
};

/** Whether `value` has the JSON type `type`. */
function hasType(type: string, value: unknown): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    default:
      return typeof value === type;
  }
}

/**
 * Checks `value` against `schema`: what is missing or of the wrong type or value goes to
 * `problems`, each optional key `value` carries to `optional` (paths like `image.frames`).
 */
function check(
  schema: Schema,
  value: unknown,
  path: string,
  problems: string[],
  optional: Set<string>,
): void {
  const at = path || '(the body)';
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    const matching = branches.flatMap((branch) => {
      const branchProblems: string[] = [];
      const branchOptional = new Set<string>();
      check(branch, value, path, branchProblems, branchOptional);
      return branchProblems.length === 0 ? [branchOptional] : [];
    });
    const of = schema.anyOf ? 'anyOf' : 'oneOf';
    if (matching.length === 0) problems.push(`${at}: matches no schema of ${of}`);
    else if (of === 'oneOf' && matching.length > 1) problems.push(`${at}: matches several schemas of oneOf`);
    for (const key of matching[0] ?? []) optional.add(key);
    return;
  }
  const types = schema.type === undefined ? [] : ([] as string[]).concat(schema.type);
  if (types.length > 0 && !types.some((type) => hasType(type, value))) {
    problems.push(`${at}: expected ${types.join(' or ')}, got ${JSON.stringify(value)}`);
    return;
  }
  if (schema.enum && !schema.enum.includes(value))
    problems.push(`${at}: ${JSON.stringify(value)} is not listed`);
  if (Array.isArray(value) && schema.items) {
    for (const item of value) check(schema.items, item, `${path}[]`, problems, optional);
  }
  if (!hasType('object', value)) return;
  const object = value as Record<string, unknown>;
  const child = (key: string) => (path ? `${path}.${key}` : key);
  for (const key of schema.required ?? []) if (!(key in object)) problems.push(`${child(key)}: missing`);
  for (const [key, item] of Object.entries(object)) {
    const sub = schema.properties?.[key];
    if (sub) {
      if (!schema.required?.includes(key)) optional.add(child(key));
      check(sub, item, child(key), problems, optional);
    } else if (typeof schema.additionalProperties === 'object') {
      check(schema.additionalProperties, item, child(key), problems, optional);
    } else if (schema.properties) {
      problems.push(`${child(key)}: not in the document`);
    }
  }
}

interface Document {
  readonly paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>
  >;
}

/** Checks a response (its status and JSON body) against what the app's OpenAPI document says of it. */
function expectDocumented(
  app: FastifyInstance,
  operation: string,
  res: LightMyRequestResponse | { readonly statusCode: number; readonly body: unknown },
  contentType = 'application/json',
): void {
  const [method, route] = operation.split(' ') as [string, string];
  const doc: Document = JSON.parse(JSON.stringify(app.swagger()));
  const responses = doc.paths[route]?.[method.toLowerCase()]?.responses ?? {};
  // Errors are documented per class of status (4xx, 5xx).
  const response = responses[String(res.statusCode)] ?? responses[`${String(res.statusCode)[0]}XX`];
  const schema = response?.content?.[contentType]?.schema;
  const body = typeof res.body === 'string' ? JSON.parse(res.body) : res.body;
  expect(
    schema,
    `${operation} documents no ${contentType} for ${res.statusCode}: ${JSON.stringify(body)}`,
  ).toBeDefined();
  const problems: string[] = [];
  const optional = new Set<string>();
  check(schema!, body, '', problems, optional);
  expect(problems, operation).toEqual([]);
  const sometimes = SOMETIMES[res.statusCode >= 400 ? 'errors' : operation] ?? [];
  const unexpected = [...optional].filter((key) => !sometimes.includes(key));
  expect(unexpected, `${operation}: always sent, yet optional in the document?`).toEqual([]);
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

describe('responses are what the OpenAPI document says (local mode)', () => {
  let app: FastifyInstance;
  const storage = JobStorage.fromConfig(parseConfig({}));
  beforeAll(async () => {
    const config = parseConfig({ features: { dashboard: true } });
    const queue = createInProcessQueue({
      config,
      storage,
      run: async (spec) => {
        if (spec.options.method === 'solid') throw new Error('a job that fails');
        return { fileName: 'anonymized.zip', mimeType: 'application/zip', bytes: 9 };
      },
      closeRunner: async () => {},
      log: recordingLog().log,
    });
    app = buildApp({ nestor: fakePipeline(), config, jobs: { queue, storage } });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });
  const get = (url: string) => app.inject({ method: 'GET', url });

  it('health, models, session and statistics', async () => {
    expectDocumented(app, 'GET /healthz', await get('/healthz'));
    await expect.poll(async () => (await get('/readyz')).statusCode).toBe(200);
    expectDocumented(app, 'GET /readyz', await get('/readyz'));
    expectDocumented(app, 'GET /v1/models', await get('/v1/models'));
    expectDocumented(app, 'GET /v1/auth/session', await get('/v1/auth/session'));
    expectDocumented(app, 'GET /v1/stats', await get('/v1/stats'));
  });

  it('detect and anonymize (JSON), and an error', async () => {
    const post = (url: string, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url, payload: PNG, headers: { 'content-type': 'image/png', ...headers } });
    expectDocumented(app, 'POST /v1/detect', await post('/v1/detect'));
    expectDocumented(app, 'POST /v1/anonymize', await post('/v1/anonymize', { accept: 'application/json' }));
    // Each line of an answer streamed with its progress is one of the documented lines.
    const ndjson = 'application/x-ndjson';
    for (const operation of ['POST /v1/detect', 'POST /v1/anonymize']) {
      const res = await post(operation.split(' ')[1]!, { accept: ndjson });
      expect(res.headers['content-type']).toBe(ndjson);
      const lines = res.body.split('\n').filter((line) => line !== '');
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines) expectDocumented(app, operation, { statusCode: 200, body: line }, ndjson);
    }
    const refused = await post('/v1/detect?method=smudge');
    expect(refused.statusCode).toBe(400);
    expectDocumented(app, 'POST /v1/detect', refused);
  });

  it('a job as it is accepted, completes and fails', async () => {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    for (const [method, state] of [
      ['gaussian', 'completed'],
      ['solid', 'failed'],
    ] as const) {
      const res = await submit(url, [{ name: 'a.png', bytes: PNG }], { method });
      const accepted = { statusCode: res.status, body: await res.json() };
      expectDocumented(app, 'POST /v1/jobs', accepted);
      const { id } = accepted.body as { id: string };
      await expect
        .poll(async () => (await get(`/v1/jobs/${id}`)).json<{ state: string }>().state)
        .toBe(state);
      expectDocumented(app, 'GET /v1/jobs/{id}', await get(`/v1/jobs/${id}`));
    }
  });
});

describe("a job's detections JSON is what the OpenAPI document says", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-response-schemas-'));
  const config = parseConfig({ targets: ['face'], jobs: { storageDir: path.join(dir, 'jobs') } });
  const storage = JobStorage.fromConfig(config);
  // Images go through the real pipeline; video frames through a stand-in that finds the clip's box.
  const nestor = createNodeNestor(config, DEFAULT_MODELS_DIR);
  const pipeline: JobPipeline = {
    ...magentaPipeline(config),
    detect: (bytes, options) => nestor.detect(bytes, options),
    anonymize: (bytes, options) => nestor.anonymize(bytes, options),
  };
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    const queue = createInProcessQueue({
      config,
      storage,
      run: (spec, onProgress, signal) => runJob(pipeline, storage, spec, onProgress, signal),
      closeRunner: async () => {},
      log: recordingLog().log,
    });
    app = buildApp({ nestor: fakePipeline(), config, jobs: { queue, storage } });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    await nestor.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Submits `files`, waits for the job to complete and checks its detections JSON; returns it. */
  const detectionsOf = async (files: { name: string; bytes: Uint8Array }[]) => {
    const { id } = (await (await submit(url, files)).json()) as { id: string };
    const status = await waitFor(url, id, (s) => s.state !== 'queued' && s.state !== 'active');
    expect(status).toMatchObject({ state: 'completed' });
    const res = await app.inject({ method: 'GET', url: `/v1/jobs/${id}/result?part=detections` });
    expect(res.statusCode).toBe(200);
    expectDocumented(app, 'GET /v1/jobs/{id}/result', res);
    return res.json<Record<string, unknown>>();
  };

  it('a batch of images: one done, one that failed', async () => {
    const json = await detectionsOf([
      { name: 'good.jpg', bytes: await noiseJpeg() },
      { name: 'broken.png', bytes: PNG },
    ]);
    expect(json).toMatchObject({
      results: [
        { file: '00000.jpg', image: { format: 'jpeg' } },
        { file: '00001.png', error: { code: 'E_DECODE' } },
      ],
    });
  });

  it.skipIf(!HAS_FFMPEG)('a video, with a tracked region', async () => {
    const clip = path.join(dir, 'clip.mp4');
    movingBoxClip(clip, { frames: 12 });
    const json = await detectionsOf([{ name: 'clip.mp4', bytes: readFileSync(clip) }]);
    expect(json).toMatchObject({ video: { frames: 12 }, tracks: [{ label: 'plate' }] });
    expect(json.frames).toHaveLength(12);
  });
});

describe('responses are what the OpenAPI document says (accounts)', () => {
  let db: Database;
  let h: Harness;
  beforeAll(async () => {
    db = await openTestDatabase('pglite');
    h = await harness(db, { auth: { selfService: true } });
  });
  afterAll(async () => {
    await h?.close();
    await db?.close();
  });
  const call = async (
    operation: string,
    url: string,
    options: { method?: 'GET' | 'POST' | 'PATCH'; json?: unknown; session?: Session } = {},
  ) => {
    const res = await h.request({ method: options.method ?? 'GET', url, ...options });
    expectDocumented(h.app, operation, res);
    return res;
  };

  it('sign-in, session, users, keys, credentials and the audit log', async () => {
    const login = await (await enrolled(h, 'root', 'admin'))();
    expectDocumented(h.app, 'POST /v1/auth/login', login);
    const admin = sessionFrom(login);
    await call('GET /v1/auth/session', '/v1/auth/session', { session: admin });
    const created = await call('POST /v1/users', '/v1/users', {
      method: 'POST',
      json: { username: 'ann' },
      session: admin,
    });
    const { user, link } = created.json<{ user: { id: string }; link: { token: string } }>();
    await call('POST /v1/auth/credentials', '/v1/auth/credentials', {
      method: 'POST',
      json: { token: link.token },
    });
    await call('POST /v1/auth/register', '/v1/auth/register', { method: 'POST', json: { username: 'self' } });
    await call('GET /v1/users', '/v1/users', { session: admin });
    await call('PATCH /v1/users/{id}', `/v1/users/${user.id}`, {
      method: 'PATCH',
      json: { role: 'admin' },
      session: admin,
    });
    await call('POST /v1/users/{id}/credentials', `/v1/users/${user.id}/credentials`, {
      method: 'POST',
      session: admin,
    });
    await call('POST /v1/keys', '/v1/keys', {
      method: 'POST',
      json: { name: 'ci', scopes: ['detect'] },
      session: admin,
    });
    await call('GET /v1/keys', '/v1/keys', { session: admin });
    await call('GET /v1/users/{id}/keys', `/v1/users/${user.id}/keys`, { session: admin });
    await call('GET /v1/audit', '/v1/audit', { session: admin });
  });
});
