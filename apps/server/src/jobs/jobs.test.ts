import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '@nestor/core';
import { HAS_FFMPEG, movingBoxClip, probeStreams } from '@nestor/video/test-clips';
import type { FastifyInstance } from 'fastify';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noiseJpeg, startApp, submit, waitFor } from './test-support.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-jobs-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

  it.skipIf(!HAS_FFMPEG)('cancelling a running video job answers 204 and leaves no files', async () => {
    const clip = path.join(dir, 'long.mp4');
    movingBoxClip(clip, { frames: 90 });
    const bytes = readFileSync(clip);
    for (let attempt = 0; attempt < 4; attempt++) {
      const res = await submit(server.url, [{ name: 'long.mp4', bytes }], { method: 'pixelate' });
      const { id } = (await res.json()) as { id: string };
      await waitFor(server.url, id, (s) => s.progress > 0 || s.state === 'completed');
      const deleted = await fetch(`${server.url}/v1/jobs/${id}`, { method: 'DELETE' });
      expect(deleted.status).toBe(204);
      expect((await fetch(`${server.url}/v1/jobs/${id}`)).status).toBe(404);
    }
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
