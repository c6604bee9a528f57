import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Config, parseConfig } from '@nestor/core';
import { createNodeNestor, createSharpCodec } from '@nestor/engine-node';
import { DEFAULT_MODELS_DIR } from '@nestor/models';
import { HAS_FFMPEG, movingBoxClip, probeStreams } from '@nestor/video/test-clips';
import type { FastifyInstance } from 'fastify';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { createJobs } from './index.ts';
import type { JobStatus } from './types.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-jobs-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A JPEG of noise (no faces, no text). */
async function noiseJpeg(): Promise<Uint8Array> {
  const image = { width: 96, height: 64, channels: 3 as const, data: new Uint8Array(96 * 64 * 3) };
  for (let i = 0; i < image.data.length; i++) image.data[i] = (i * 7919) % 251;
  return createSharpCodec().encode(
    image,
    { format: 'jpeg', quality: 80, keepMetadata: false },
    { image, format: 'jpeg', source: new Uint8Array() },
  );
}

export async function startApp(config: Config): Promise<{ app: FastifyInstance; url: string }> {
  const jobs = createJobs(config, DEFAULT_MODELS_DIR);
  const nestor = createNodeNestor(config, DEFAULT_MODELS_DIR);
  const app = buildApp({ nestor, config, jobs });
  app.addHook('onClose', () => nestor.dispose());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}

export async function submit(
  url: string,
  files: { name: string; bytes: Uint8Array }[],
  fields: Record<string, string> = {},
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files) form.append('file', new Blob([new Uint8Array(f.bytes)]), f.name);
  return fetch(`${url}/v1/jobs`, { method: 'POST', body: form });
}

export async function waitFor(url: string, id: string, done: (s: JobStatus) => boolean, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as JobStatus;
    if (done(status)) return status;
    if (Date.now() > until) throw new Error(`job ${id} still ${status.state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('jobs (in-process queue)', () => {
  let server: { app: FastifyInstance; url: string };
  beforeAll(async () => {
    server = await startApp(parseConfig({ targets: ['face'], video: { detectEvery: 5 } }));
  });
  afterAll(() => server.app.close());

  it.skipIf(!HAS_FFMPEG)(
    'anonymizes a video: 202 + id, progress, detections, the video once, then nothing',
    async () => {
      const clip = path.join(dir, 'clip.mp4');
      movingBoxClip(clip, { frames: 12 });
      const res = await submit(server.url, [{ name: 'clip.mp4', bytes: readFileSync(clip) }], {
        method: 'pixelate',
      });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      const status = await waitFor(server.url, id, (s) => s.state === 'completed' || s.state === 'failed');
      expect(status).toMatchObject({ state: 'completed', kind: 'video', progress: 1 });
      expect(status.output).toMatchObject({ mimeType: 'video/mp4', fileName: 'anonymized.mp4' });

      const detections = await fetch(`${server.url}/v1/jobs/${id}/result?part=detections`);
      expect(detections.headers.get('content-type')).toContain('application/json');
      const json = (await detections.json()) as { video: { frames: number }; tracks: unknown[] };
      expect(json.video.frames).toBe(12);

      const video = await fetch(`${server.url}/v1/jobs/${id}/result`);
      expect(video.status).toBe(200);
      expect(video.headers.get('content-type')).toBe('video/mp4');
      const out = path.join(dir, 'out.mp4');
      writeFileSync(out, new Uint8Array(await video.arrayBuffer()));
      expect(probeStreams(out).map((s) => s.codec_type)).toEqual(['video', 'audio']);
      // Delivered: the job and its files are gone.
      await new Promise((r) => setTimeout(r, 200));
      expect((await fetch(`${server.url}/v1/jobs/${id}`)).status).toBe(404);
    },
  );

  it('turns a batch of images into a ZIP with their detections', async () => {
    const jpeg = await noiseJpeg();
    const res = await submit(server.url, [
      { name: 'a.jpg', bytes: jpeg },
      { name: 'b.jpg', bytes: jpeg },
    ]);
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const status = await waitFor(server.url, id, (s) => s.state !== 'queued' && s.state !== 'active');
    expect(status).toMatchObject({
      state: 'completed',
      kind: 'images',
      output: { mimeType: 'application/zip' },
    });
    const json = (await (await fetch(`${server.url}/v1/jobs/${id}/result?part=detections`)).json()) as {
      results: { file: string }[];
    };
    expect(json.results).toHaveLength(2);
    const zip = unzipSync(
      new Uint8Array(await (await fetch(`${server.url}/v1/jobs/${id}/result`)).arrayBuffer()),
    );
    expect(Object.keys(zip).sort()).toEqual(['00000.jpg', '00001.jpg']);
  });

  it('cancels and deletes a job; unknown ids are 404; bad uploads are refused', async () => {
    const res = await submit(server.url, [{ name: 'a.jpg', bytes: await noiseJpeg() }]);
    const { id } = (await res.json()) as { id: string };
    expect((await fetch(`${server.url}/v1/jobs/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${server.url}/v1/jobs/${id}`)).status).toBe(404);
    expect((await fetch(`${server.url}/v1/jobs/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    const text = await submit(server.url, [
      { name: 'x.txt', bytes: new TextEncoder().encode('not a picture at all') },
    ]);
    expect(text.status).toBe(415);
    expect(((await text.json()) as { error: { code: string } }).error.code).toBe('E_UNSUPPORTED_MEDIA');
    const none = await submit(server.url, [], { method: 'solid' });
    expect(none.status).toBe(400);
    const badOption = await submit(server.url, [{ name: 'a.jpg', bytes: await noiseJpeg() }], {
      method: 'smudge',
    });
    expect(badOption.status).toBe(400);
  });

  it('answers 409 for the result of a job not done yet', async () => {
    const res = await submit(server.url, [{ name: 'a.jpg', bytes: await noiseJpeg() }]);
    const { id } = (await res.json()) as { id: string };
    const early = await fetch(`${server.url}/v1/jobs/${id}/result`);
    // Small jobs may already be done; either way the answer is well-formed.
    expect([200, 409]).toContain(early.status);
    await early.arrayBuffer();
  });
});
