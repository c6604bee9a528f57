import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Config,
  ERROR_CODES,
  invalidOption,
  NestorError,
  parseConfig,
  parseProcessOptions,
} from '@nestor/core';
import { HAS_FFMPEG, movingBoxClip, probeStreams } from '@nestor/video/test-clips';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../app.ts';
import { fakePipeline } from '../fake-pipeline.ts';
import { createBullQueue, startBullWorker } from './bullmq.ts';
import { createInProcessQueue } from './in-process.ts';
import type { RunJob } from './job-thread.ts';
import { JobStorage } from './storage.ts';
import { recordingLog, startApp, submit, waitFor } from './test-support.ts';
import type { JobQueue, JobSpec } from './types.ts';

const HAS_REDIS = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const CLI = path.join(ROOT, 'apps/cli/bin/nestor.js');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** A throwaway redis-server on a loopback port (a free one by default), once it answers. */
async function startRedis(port?: number): Promise<{ child: ChildProcess; url: string }> {
  port ??= await freePort();
  const child = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  await until(
    async () => {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      // Refused connections while redis-server starts are expected: the loop retries.
      client.on('error', () => {});
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } finally {
        client.disconnect();
      }
    },
    10_000,
    'redis-server',
  );
  return { child, url };
}

describe.skipIf(!HAS_REDIS || !HAS_FFMPEG)('jobs with Redis (BullMQ) and nestor worker processes', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-bullmq-test-'));
  const configFile = path.join(dir, 'nestor-ai-config.json');
  let redis: ChildProcess | undefined;
  let server: { app: FastifyInstance; url: string } | undefined;
  const workers: ChildProcess[] = [];
  let workerLog = '';
  let redisUrl = '';

  const startWorker = () => {
    const worker = spawn(process.execPath, [CLI, 'worker', '--config', configFile], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    worker.stderr!.on('data', (chunk: Buffer) => {
      workerLog = (workerLog + chunk.toString()).slice(-4000);
    });
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    const started = await startRedis();
    redis = started.child;
    redisUrl = started.url;
    const raw = {
      modelsDir: path.join(ROOT, 'models'),
      targets: ['face'],
      // Every frame through the detector: a job long enough to kill its worker in the middle.
      video: { detectEvery: 1 },
      redis: { url: redisUrl, prefix: 'nestor-test' },
      jobs: { storageDir: path.join(dir, 'jobs'), stalledIntervalMs: 1000, attempts: 3 },
    };
    writeFileSync(configFile, JSON.stringify(raw));
    server = await startApp(parseConfig(raw));
  });

  afterAll(async () => {
    for (const w of workers) await stop(w, 'SIGKILL');
    await server?.app.close();
    await stop(redis);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a worker killed mid-job (SIGKILL): the job goes back to the queue and another worker completes it', async () => {
    const clip = path.join(dir, 'long.mp4');
    movingBoxClip(clip, { frames: 150 });
    const first = startWorker();
    const res = await submit(server!.url, [{ name: 'long.mp4', bytes: readFileSync(clip) }]);
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };

    const running = await waitFor(server!.url, id, (s) => s.state === 'active' && s.progress > 0.05, 90_000);
    expect(running.progress).toBeLessThan(1);
    await stop(first, 'SIGKILL');

    startWorker();
    const done = await waitFor(
      server!.url,
      id,
      (s) => s.state === 'completed' || s.state === 'failed',
      90_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\nworker log:\n${workerLog}`);
    });
    expect(done.state, workerLog).toBe('completed');
    const detections = (await (
      await fetch(`${server!.url}/v1/jobs/${id}/result?part=detections`)
    ).json()) as {
      video: { frames: number };
    };
    expect(detections.video.frames).toBe(150);
    const out = path.join(dir, 'out.mp4');
    writeFileSync(
      out,
      new Uint8Array(await (await fetch(`${server!.url}/v1/jobs/${id}/result`)).arrayBuffer()),
    );
    const [video] = probeStreams(out);
    expect(video!.nb_read_frames).toBe('150');
  });

  it('cancelling an active job stops its worker at once: 404, never retried, and the worker lives on', async () => {
    const clip = path.join(dir, 'cancel.mp4');
    movingBoxClip(clip, { frames: 150 });
    const worker = workers.find((w) => w.exitCode === null && w.signalCode === null) ?? startWorker();
    const res = await submit(server!.url, [{ name: 'cancel.mp4', bytes: readFileSync(clip) }]);
    const { id } = (await res.json()) as { id: string };
    await waitFor(server!.url, id, (s) => s.state === 'active' && s.progress > 0.05, 90_000).catch(
      (error: unknown) => {
        throw new Error(`${String(error)}\nworker log:\n${workerLog}`);
      },
    );

    expect((await fetch(`${server!.url}/v1/jobs/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${server!.url}/v1/jobs/${id}`)).status).toBe(404);
    // The worker has let go of the job (DELETE waits for it) and Redis no longer holds it.
    const client = new Redis(redisUrl);
    try {
      expect(await client.llen('nestor-test:jobs:active')).toBe(0);
      expect(await client.exists(`nestor-test:jobs:${id}`)).toBe(0);
    } finally {
      client.disconnect();
    }
    // Longer than the retry backoff and the stalled check (1 s each): a retry would show by now.
    await new Promise((r) => setTimeout(r, 2500));
    expect((await fetch(`${server!.url}/v1/jobs/${id}`)).status).toBe(404);
    expect(existsSync(path.join(dir, 'jobs', id))).toBe(false);
    expect(worker.exitCode, workerLog).toBeNull();
    expect(workerLog).not.toMatch(/unhandled|ENOENT/i);
  });
});

/** Behaviours by input name: the queue's mechanics without decoding anything. */
function stubRunner(storage: () => JobStorage) {
  const runs: { id: string; signal: AbortSignal; stopped: boolean }[] = [];
  const run: RunJob = async (spec, _onProgress, signal) => {
    const record = { id: spec.id, signal, stopped: false };
    runs.push(record);
    try {
      switch (spec.inputs[0]) {
        case 'integrity.bin':
          throw new NestorError('E_MODEL_INTEGRITY', 'Checksum mismatch: /srv/nestor/models/face.onnx');
        case 'decode.bin':
          throw new NestorError('E_DECODE', 'Frame 3 of the video is corrupt');
        case 'option.bin':
          throw invalidOption('format', 'one of "same", "tiff"', 'jpeg', {
            reason: 'choice',
            allowed: ['same', 'tiff'],
          });
        case 'vanish.bin':
          // Retried, as the reviewer's cancelled job was: the last attempt fails for good on no folder.
          await storage().remove(spec.id);
          throw new Error(`ENOENT: ${spec.inputs[0]} is gone`);
        default:
          // Runs until cancelled; the timeout only keeps a queue that never cancels from hanging the test.
          return await new Promise((_resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('never cancelled')), 4000);
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(signal.reason);
            });
          });
      }
    } finally {
      record.stopped = true;
    }
  };
  return { run, runs: (id: string) => runs.filter((r) => r.id === id) };
}

async function addJob(queue: JobQueue, storage: JobStorage, input: string): Promise<JobSpec> {
  const spec: JobSpec = {
    id: JobStorage.newId(),
    kind: 'video',
    inputs: [input],
    options: parseProcessOptions({}),
  };
  await storage.create(spec.id);
  await writeFile(path.join(storage.inputDir(spec.id), input), '');
  await queue.add(spec);
  return spec;
}

/** What DELETE of a running job must do, whichever queue runs it. */
async function cancelActive(
  queue: JobQueue,
  storage: JobStorage,
  runner: ReturnType<typeof stubRunner>,
): Promise<void> {
  const spec = await addJob(queue, storage, 'wait.bin');
  await until(
    async () => (await queue.get(spec.id))?.state === 'active' && runner.runs(spec.id).length === 1,
    5000,
    'the job to start',
  );
  expect(await queue.remove(spec.id)).toBe(true);
  const [run] = runner.runs(spec.id);
  expect(run!.signal.aborted).toBe(true);
  expect(run!.stopped).toBe(true);
  expect(await queue.get(spec.id)).toBeUndefined();
  expect(existsSync(storage.dir(spec.id))).toBe(false);
  // Longer than the retry backoff (1 s): a retry would have started by now.
  await new Promise((r) => setTimeout(r, 1500));
  expect(runner.runs(spec.id)).toHaveLength(1);
  expect(await queue.get(spec.id)).toBeUndefined();
  expect(await queue.counts()).toMatchObject({ queued: 0, active: 0 });
}

describe.skipIf(!HAS_REDIS)('the BullMQ queue and worker, with a stand-in job runner', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-bullmq-stub-test-'));
  let redis: ChildProcess | undefined;
  let config: Config;
  let storage: JobStorage;
  let queue: JobQueue | undefined;
  let worker: { close(): Promise<void> } | undefined;
  const runner = stubRunner(() => storage);
  const logged: string[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    const started = await startRedis();
    redis = started.child;
    config = parseConfig({
      redis: { url: started.url, prefix: 'nestor-stub-test' },
      // Two attempts: a cancelled job that is retried shows it.
      jobs: { storageDir: path.join(dir, 'jobs'), stalledIntervalMs: 1000, attempts: 2 },
    });
    storage = JobStorage.fromConfig(config);
    queue = createBullQueue({ config, storage, log: recordingLog().log });
    worker = startBullWorker({ config, storage, run: runner.run, log: (line) => logged.push(line) });
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.close();
    await stop(redis);
    process.off('unhandledRejection', onUnhandled);
    rmSync(dir, { recursive: true, force: true });
  });

  it('in-process (the reference): cancelling an active job aborts its runner; the job is then unknown, never retried', async () => {
    const local = parseConfig({ jobs: { attempts: 2 } });
    const localStorage = JobStorage.fromConfig(local);
    const inProcess = createInProcessQueue({
      config: local,
      storage: localStorage,
      run: runner.run,
      closeRunner: async () => {},
      log: recordingLog().log,
    });
    try {
      await cancelActive(inProcess, localStorage, runner);
    } finally {
      await inProcess.close();
    }
  });

  it('BullMQ: cancelling an active job aborts its runner in the worker; the job is then unknown, never retried', async () => {
    await cancelActive(queue!, storage, runner);
    expect(unhandled).toEqual([]);
  });

  it('a failed job shows the message of a 4xx code (an option refused with its facts), and only the generic text of a 5xx one', async () => {
    const internal = await addJob(queue!, storage, 'integrity.bin');
    const input = await addJob(queue!, storage, 'decode.bin');
    const failed = async (id: string) => {
      await until(async () => (await queue!.get(id))?.state === 'failed', 10_000, `job ${id} to fail`);
      return (await queue!.get(id))?.error;
    };
    expect(await failed(internal.id)).toEqual({
      code: 'E_MODEL_INTEGRITY',
      message: ERROR_CODES.E_MODEL_INTEGRITY,
    });
    expect(await failed(input.id)).toEqual({ code: 'E_DECODE', message: 'Frame 3 of the video is corrupt' });
    // A refused option keeps its facts through Redis, for the client to name it in its own language.
    const option = await addJob(queue!, storage, 'option.bin');
    expect(await failed(option.id)).toMatchObject({
      code: 'E_INVALID_OPTION',
      details: { option: 'format', reason: 'choice', allowed: ['same', 'tiff'] },
    });
    // Failed for good, with or without retries: their files are swept after retention.
    await until(async () => existsSync(path.join(storage.dir(input.id), 'done')), 2000, 'the done mark');
    await until(async () => existsSync(path.join(storage.dir(internal.id), 'done')), 2000, 'the done mark');
  });

  it('a job whose folder is gone when it fails for good is logged, and the worker does not crash', async () => {
    const spec = await addJob(queue!, storage, 'vanish.bin');
    await until(async () => (await queue!.get(spec.id))?.state === 'failed', 5000, 'the job to fail');
    expect(await queue!.get(spec.id)).toMatchObject({ attempts: 2, error: { code: 'E_INTERNAL' } });
    const reported = () => logged.some((line) => line.includes(spec.id));
    await until(async () => reported() || unhandled.length > 0, 2000, 'the failure to be reported');
    expect(unhandled).toEqual([]);
    expect(reported()).toBe(true);
  });
});

describe.skipIf(!HAS_REDIS)('the server when Redis goes away', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-bullmq-restart-test-'));
  let redis: ChildProcess | undefined;
  let app: FastifyInstance | undefined;
  afterAll(async () => {
    await app?.close();
    await stop(redis);
    rmSync(dir, { recursive: true, force: true });
  });

  it("logs the queue's and the event stream's Redis errors, keeps answering, queues jobs again once Redis is back, and shuts down while BullMQ reconnects", {
    timeout: 60_000,
  }, async () => {
    const crashes: unknown[] = [];
    const onCrash = (error: unknown) => crashes.push(error);
    process.on('uncaughtException', onCrash);
    // Where BullMQ and ioredis print an 'error' event nobody listens to.
    const printed = vi.spyOn(console, 'error');
    try {
      const port = await freePort();
      const started = await startRedis(port);
      redis = started.child;
      const config = parseConfig({
        redis: { url: started.url, prefix: 'nestor-restart-test' },
        jobs: { storageDir: path.join(dir, 'jobs') },
      });
      const storage = JobStorage.fromConfig(config);
      const { log, entries } = recordingLog();
      const queue = createBullQueue({ config, storage, log });
      app = buildApp({ nestor: fakePipeline(), config, jobs: { queue, storage } });
      await app.ready();
      const before = await addJob(queue, storage, 'wait.bin');
      expect((await queue.get(before.id))?.state).toBe('queued');

      await stop(redis);
      const logged = (message: string) => entries.some((e) => e.message === message);
      await until(
        async () => logged('job queue: Redis error') && logged('job events: Redis error'),
        10_000,
        'the Redis errors to be logged',
      );
      expect(entries[0]!.fields).toMatchObject({ code: 'ECONNREFUSED' });
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

      redis = (await startRedis(port)).child;
      const after = await addJob(queue, storage, 'wait.bin');
      expect((await queue.get(after.id))?.state).toBe('queued');
      // Closed at once, while the event stream is still reconnecting: BullMQ alone would wait forever.
      await app.close();
      app = undefined;
      expect(crashes).toEqual([]);
      expect(printed).not.toHaveBeenCalled();
    } finally {
      printed.mockRestore();
      process.off('uncaughtException', onCrash);
    }
  });
});

it.skipIf(HAS_REDIS && HAS_FFMPEG)(
  'skipped: redis-server or ffmpeg is not installed (scripts/system-deps.sh installs them)',
  () => {},
);
