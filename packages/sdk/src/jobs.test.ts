import { afterEach, describe, expect, it } from 'vitest';
import { createClient, isAbortError, type JobStatus, NestorError } from './index.ts';
import { answer, fakeTiming, type Handler, nestorAnswer, testServer } from './test-support.ts';

const ID = 'job-1';
const STATUS: JobStatus = { id: ID, kind: 'video', state: 'queued', progress: 0, attempts: 0 };
const DONE: JobStatus = {
  ...STATUS,
  state: 'completed',
  progress: 1,
  attempts: 1,
  output: { fileName: 'clip.mp4', mimeType: 'video/mp4', bytes: 3 },
};

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/**
 * A job server: GET /v1/jobs/job-1 answers the statuses in turn (the last one from then on), DELETE
 * answers `deleted`, the result routes answer a detections JSON and a 3-byte video.
 */
async function jobServer(statuses: readonly JobStatus[], deleted: Handler = (_, r) => answer(r, 204)) {
  let polls = 0;
  const server = await testServer((request, response, n) => {
    const url = request.url ?? '';
    if (request.method === 'DELETE') return deleted(request, response, n);
    if (url.endsWith('/result?part=detections')) return answer(response, 200, { results: [] });
    if (url.endsWith('/result')) {
      response.writeHead(200, {
        'content-type': 'video/mp4',
        'content-disposition': 'attachment; filename="clip.mp4"',
      });
      return response.end(new Uint8Array([1, 2, 3]));
    }
    answer(response, 200, statuses[Math.min(polls++, statuses.length - 1)]);
  });
  close = server.close;
  const timing = fakeTiming();
  const client = createClient({ baseUrl: server.url, timing });
  return { client, seen: server.seen, sleeps: timing.sleeps };
}

describe('waitForJob', () => {
  it('polls with a growing interval, reports each status and resolves with the completed one', async () => {
    const active = (progress: number): JobStatus => ({ ...STATUS, state: 'active', progress });
    const { client, sleeps } = await jobServer([STATUS, active(0.2), active(0.6), active(0.9), DONE]);
    const progress: number[] = [];
    const status = await client.waitForJob(ID, {
      pollIntervalMs: 100,
      maxPollIntervalMs: 300,
      onProgress: (s) => progress.push(s.progress),
    });
    expect(status).toEqual(DONE);
    expect(progress).toEqual([0, 0.2, 0.6, 0.9, 1]);
    expect(sleeps).toEqual([100, 150, 225, 300]);
  });

  it('rejects with the error of a failed job, its code kept', async () => {
    const failed: JobStatus = {
      ...STATUS,
      state: 'failed',
      error: { code: 'E_DECODE', message: 'The video could not be decoded' },
    };
    const { client } = await jobServer([failed]);
    const error = await client.waitForJob(ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NestorError);
    expect(error).toMatchObject({
      code: 'E_DECODE',
      message: 'The video could not be decoded',
      details: { jobId: ID, code: 'E_DECODE' },
    });
  });

  it('a job error code this SDK does not know is E_INTERNAL with the code in details', async () => {
    const failed: JobStatus = { ...STATUS, state: 'failed', error: { code: 'E_NEWER', message: 'new' } };
    const { client } = await jobServer([failed]);
    await expect(client.waitForJob(ID)).rejects.toMatchObject({
      code: 'E_INTERNAL',
      details: { code: 'E_NEWER' },
    });
  });

  it('an abort rejects with its reason and cancels the job when cancelOnAbort is set', async () => {
    const controller = new AbortController();
    const { client, seen } = await jobServer([STATUS]);
    const waiting = client.waitForJob(ID, {
      signal: controller.signal,
      cancelOnAbort: true,
      onProgress: () => controller.abort(),
    });
    await expect(waiting).rejects.toSatisfy(isAbortError);
    expect(seen.map((s) => s.method)).toEqual(['GET', 'DELETE']);
  });

  it('without cancelOnAbort the job is left running', async () => {
    const controller = new AbortController();
    const { client, seen } = await jobServer([STATUS]);
    await expect(
      client.waitForJob(ID, { signal: controller.signal, onProgress: () => controller.abort() }),
    ).rejects.toSatisfy(isAbortError);
    expect(seen.map((s) => s.method)).toEqual(['GET']);
  });

  it('a job already gone counts as cancelled; a cancel that fails says the job was not cancelled', async () => {
    const gone = await jobServer([STATUS], (_, r) => nestorAnswer(r, 404, 'E_NOT_FOUND'));
    const aborted = new AbortController();
    await expect(
      gone.client.waitForJob(ID, {
        signal: aborted.signal,
        cancelOnAbort: true,
        onProgress: () => aborted.abort(),
      }),
    ).rejects.toSatisfy(isAbortError);
    await close?.();

    const refusing = await jobServer([STATUS], (_, r) => nestorAnswer(r, 403, 'E_FORBIDDEN'));
    const again = new AbortController();
    const error = await refusing.client
      .waitForJob(ID, { signal: again.signal, cancelOnAbort: true, onProgress: () => again.abort() })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'E_FORBIDDEN',
      message: `The wait for job ${ID} was aborted, but the job was not cancelled: E_FORBIDDEN from the test`,
      details: { jobId: ID },
    });
  });

  it('an error thrown by onProgress ends the wait with that error', async () => {
    const { client } = await jobServer([STATUS]);
    const mistake = new Error('bad listener');
    await expect(
      client.waitForJob(ID, {
        onProgress: () => {
          throw mistake;
        },
      }),
    ).rejects.toBe(mistake);
  });

  it.each([
    { options: { pollIntervalMs: -1 }, name: 'pollIntervalMs' },
    { options: { maxPollIntervalMs: Number.NaN }, name: 'maxPollIntervalMs' },
  ])('a bad $name is E_INVALID_OPTION', async ({ options, name }) => {
    const { client } = await jobServer([STATUS]);
    await expect(client.waitForJob(ID, options)).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
      message: expect.stringContaining(` for ${name} `),
    });
  });
});

describe('downloadJob', () => {
  it('waits, then fetches the detections before the file (whose delivery deletes the job)', async () => {
    const { client, seen } = await jobServer([STATUS, DONE]);
    const { status, detections, file } = await client.downloadJob(ID);
    expect(status).toEqual(DONE);
    expect(detections).toEqual({ results: [] });
    expect(file).toMatchObject({ mimeType: 'video/mp4', fileName: 'clip.mp4' });
    expect(file?.blob.size).toBe(3);
    expect(seen.map((s) => s.path)).toEqual([
      `/v1/jobs/${ID}`,
      `/v1/jobs/${ID}`,
      `/v1/jobs/${ID}/result?part=detections`,
      `/v1/jobs/${ID}/result`,
    ]);
  });
});
