import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '@nestor/core';
import { HAS_FFMPEG, movingBoxClip, probeStreams } from '@nestor/video/test-clips';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, submit, waitFor } from './test-support.ts';

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

describe.skipIf(!HAS_REDIS || !HAS_FFMPEG)('jobs with Redis (BullMQ) and nestor worker processes', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-bullmq-test-'));
  const configFile = path.join(dir, 'nestor-ai-config.json');
  let redis: ChildProcess | undefined;
  let server: { app: FastifyInstance; url: string } | undefined;
  const workers: ChildProcess[] = [];
  let workerLog = '';

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
    const port = await freePort();
    redis = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
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
    const raw = {
      modelsDir: path.join(ROOT, 'models'),
      targets: ['face'],
      // Every frame through the detector: a job long enough to kill its worker in the middle.
      video: { detectEvery: 1 },
      redis: { url, prefix: 'nestor-test' },
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
});

it.skipIf(HAS_REDIS && HAS_FFMPEG)(
  'skipped: redis-server or ffmpeg is not installed (scripts/system-deps.sh installs them)',
  () => {},
);
