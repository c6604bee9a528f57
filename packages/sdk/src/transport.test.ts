import { afterEach, describe, expect, it } from 'vitest';
import { type ClientOptions, createClient, isAbortError, NestorError } from './index.ts';
import {
  answer,
  fakeTiming,
  type Handler,
  hangUp,
  nestorAnswer,
  type Seen,
  testServer,
} from './test-support.ts';

const IMAGE = new Uint8Array(2048).fill(7);
const HEALTHY = { status: 'ok' };

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** A client of a test server answering with `handler`; sleeps are recorded, not waited. */
async function setUp(handler: Handler, options: Partial<ClientOptions> = {}) {
  const server = await testServer(handler);
  close = server.close;
  const timing = fakeTiming();
  const client = createClient({ baseUrl: server.url, timing, ...options });
  return { client, seen: server.seen, sleeps: timing.sleeps, url: server.url };
}

/** Answers with each handler in turn (the last one for any further request). */
const inTurn =
  (...handlers: Handler[]): Handler =>
  (request, response, n) =>
    handlers[Math.min(n, handlers.length - 1)]!(request, response, n);

const ok: Handler = (_, response) => answer(response, 200, HEALTHY);
const detected: Handler = (_, response) => answer(response, 200, { detections: [] });
const busy: Handler = (_, response) => nestorAnswer(response, 503, 'E_BUSY', { 'retry-after': '2' });
const proxyPage =
  (status: number): Handler =>
  (_, response) => {
    response.writeHead(status, { 'content-type': 'text/html' });
    response.end('<h1>upstream</h1>');
  };
const broken: Handler = (request) => hangUp(request);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('the call resolved'),
    (error: unknown) => error,
  );
}

const methods = (seen: readonly Seen[]) => seen.map((s) => `${s.method} ${s.path}`);

describe('retries', () => {
  it('a GET refused with 503 and Retry-After: 2 is sent again after 2 s', async () => {
    const { client, seen, sleeps } = await setUp(inTurn(busy, ok));
    expect(await client.health()).toEqual(HEALTHY);
    expect(methods(seen)).toEqual(['GET /healthz', 'GET /healthz']);
    expect(sleeps).toEqual([2000]);
  });

  it('Retry-After as an HTTP date waits until then', async () => {
    const at = new Date(Date.UTC(2025, 0, 1) + 7000).toUTCString();
    const { client, sleeps } = await setUp(
      inTurn((_, response) => nestorAnswer(response, 429, 'E_RATE_LIMITED', { 'retry-after': at }), ok),
    );
    await client.health();
    expect(sleeps).toEqual([7000]);
  });

  it('a POST refused with 429 is sent again with the whole upload', async () => {
    const limited: Handler = (_, response) =>
      nestorAnswer(response, 429, 'E_RATE_LIMITED', { 'retry-after': '1' });
    const { client, seen, sleeps } = await setUp(inTurn(limited, detected));
    await client.detect(new Blob([IMAGE]));
    expect(methods(seen)).toEqual(['POST /v1/detect', 'POST /v1/detect']);
    expect(seen[1]!.bytes).toBe(seen[0]!.bytes);
    expect(seen[0]!.bytes).toBeGreaterThan(IMAGE.length);
    expect(sleeps).toEqual([1000]);
  });

  it("a proxy's 503 page is retried with jittered exponential backoff, then reported", async () => {
    const { client, seen, sleeps } = await setUp(proxyPage(503), {
      retry: { maxAttempts: 4, baseDelayMs: 100 },
    });
    const error = await rejection(client.createJob(IMAGE));
    expect(error).toMatchObject({ code: 'E_BUSY', details: { status: 503 } });
    expect(seen).toHaveLength(4);
    // random() is 0.5: half of 100, 200, 400.
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it('after the last attempt the error is the last answer, with its Retry-After', async () => {
    const { client, seen } = await setUp(busy);
    const error = await rejection(client.health());
    expect(error).toBeInstanceOf(NestorError);
    expect(error).toMatchObject({
      code: 'E_BUSY',
      details: { status: 503, code: 'E_BUSY', retryAfterMs: 2000 },
    });
    expect(seen).toHaveLength(3);
  });

  it('a Retry-After longer than the total wait allowed ends the call at once', async () => {
    const locked: Handler = (_, response) =>
      nestorAnswer(response, 429, 'E_RATE_LIMITED', { 'retry-after': '900' });
    const { client, seen, sleeps } = await setUp(locked);
    const error = await rejection(client.health());
    expect(error).toMatchObject({ code: 'E_RATE_LIMITED', details: { retryAfterMs: 900_000 } });
    expect(seen).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('waits add up against maxTotalWaitMs', async () => {
    const { client, seen, sleeps } = await setUp(busy, { retry: { maxAttempts: 10, maxTotalWaitMs: 5000 } });
    await rejection(client.health());
    expect(sleeps).toEqual([2000, 2000]);
    expect(seen).toHaveLength(3);
  });

  it('a GET whose connection breaks is sent again; a POST is not (it may have been processed)', async () => {
    const get = await setUp(inTurn(broken, ok));
    expect(await get.client.health()).toEqual(HEALTHY);
    expect(get.seen).toHaveLength(2);
    await close?.();

    const post = await setUp(inTurn(broken, detected));
    const error = await rejection(post.client.detect(IMAGE));
    expect(error).toMatchObject({ code: 'E_NETWORK' });
    expect(post.seen).toHaveLength(1);
  });

  it.each([
    {
      what: 'a 500 of a POST',
      handler: ((_, r) => nestorAnswer(r, 500, 'E_INTERNAL')) as Handler,
      code: 'E_INTERNAL',
    },
    { what: "a gateway's 502 of a POST", handler: proxyPage(502), code: 'E_NETWORK' },
    { what: "a gateway's 504 of a POST", handler: proxyPage(504), code: 'E_TIMEOUT' },
    {
      what: 'a Nestor 503 without Retry-After',
      handler: ((_, r) => nestorAnswer(r, 503, 'E_VIDEO_UNAVAILABLE')) as Handler,
      code: 'E_VIDEO_UNAVAILABLE',
    },
    {
      what: 'a 400',
      handler: ((_, r) => nestorAnswer(r, 400, 'E_INVALID_OPTION')) as Handler,
      code: 'E_INVALID_OPTION',
    },
  ])('$what is not retried', async ({ handler, code }) => {
    const { client, seen } = await setUp(handler);
    expect(await rejection(client.createJob(IMAGE))).toMatchObject({ code });
    expect(seen).toHaveLength(1);
  });

  it('an answer whose body breaks off is E_NETWORK, not retried for a POST', async () => {
    const { client, seen } = await setUp((request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      response.write('{"detections":', () => request.socket.destroy());
    });
    const error = await rejection(client.detect(IMAGE));
    expect(error).toBeInstanceOf(NestorError);
    expect(error).toMatchObject({ code: 'E_NETWORK' });
    expect((error as NestorError).message).toMatch(/^The answer of http:.*\/v1\/detect broke off: /);
    expect(seen).toHaveLength(1);
  });

  it("a gateway's 502 and 504 of a GET are retried", async () => {
    const { client, seen } = await setUp(inTurn(proxyPage(502), proxyPage(504), ok));
    expect(await client.health()).toEqual(HEALTHY);
    expect(seen).toHaveLength(3);
  });

  it('the download of a job result, which deletes the job, is not retried after a broken connection', async () => {
    const { client, seen } = await setUp(broken);
    expect(await rejection(client.jobResult('a'))).toMatchObject({ code: 'E_NETWORK' });
    expect(seen).toHaveLength(1);
  });

  it('a DELETE that broke off after deleting reads the next 404 as done', async () => {
    const { client, seen } = await setUp(inTurn(broken, (_, r) => nestorAnswer(r, 404, 'E_NOT_FOUND')));
    await client.deleteJob('a');
    expect(methods(seen)).toEqual(['DELETE /v1/jobs/a', 'DELETE /v1/jobs/a']);
  });

  it('retry: false on the client or on one call sends once', async () => {
    const off = await setUp(busy, { retry: false });
    await rejection(off.client.health());
    expect(off.seen).toHaveLength(1);
    await close?.();

    const once = await setUp(busy);
    await rejection(once.client.health({ retry: false }));
    expect(once.seen).toHaveLength(1);
  });

  it('a readiness 503 is an answer, not retried', async () => {
    const { client, seen } = await setUp((_, r) =>
      answer(r, 503, { status: 'starting' }, { 'retry-after': '1' }),
    );
    expect(await client.ready()).toEqual({ status: 'starting' });
    expect(seen).toHaveLength(1);
  });
});

describe('timeouts and aborts', () => {
  const silent: Handler = () => undefined;

  it('no answer within timeoutMs is E_TIMEOUT, not retried', async () => {
    const { client, seen, url } = await setUp(silent, { timeoutMs: 50 });
    const error = await rejection(client.health());
    expect(error).toBeInstanceOf(NestorError);
    expect(error).toMatchObject({
      code: 'E_TIMEOUT',
      message: `GET ${url}/healthz got no complete answer within 50 ms`,
      details: { timeoutMs: 50 },
    });
    expect(seen).toHaveLength(1);
  });

  it("one call's timeoutMs replaces the client's", async () => {
    const { client } = await setUp(silent, { timeoutMs: 0 });
    expect(await rejection(client.detect(IMAGE, {}, { timeoutMs: 20 }))).toMatchObject({ code: 'E_TIMEOUT' });
  });

  it('a body that stops half-way is E_TIMEOUT too', async () => {
    const { client } = await setUp(
      (_, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"status":');
      },
      { timeoutMs: 50 },
    );
    expect(await rejection(client.health())).toMatchObject({ code: 'E_TIMEOUT' });
  });

  it("the caller's abort rejects with the signal's reason, never a NestorError", async () => {
    const controller = new AbortController();
    const { client } = await setUp(() => controller.abort());
    const error = await rejection(client.detect(IMAGE, {}, { signal: controller.signal }));
    expect(error).not.toBeInstanceOf(NestorError);
    expect(isAbortError(error)).toBe(true);
    expect(error).toBe(controller.signal.reason);
  });

  it("a reason of the caller's own comes back as it is", async () => {
    const controller = new AbortController();
    const reason = new Error('the user left');
    const { client } = await setUp(() => controller.abort(reason));
    expect(await rejection(client.health({ signal: controller.signal }))).toBe(reason);
  });

  it("the client's signal aborts every call, and an aborted signal sends nothing", async () => {
    const controller = new AbortController();
    const { client, seen } = await setUp(() => controller.abort(), { signal: controller.signal });
    expect(isAbortError(await rejection(client.health()))).toBe(true);
    expect(isAbortError(await rejection(client.models()))).toBe(true);
    expect(seen).toHaveLength(1);
  });

  it('an abort during a backoff wait ends the wait and the call', async () => {
    const controller = new AbortController();
    const server = await testServer(busy);
    close = server.close;
    const timing = fakeTiming();
    const client = createClient({
      baseUrl: server.url,
      timing: {
        ...timing,
        sleep: (ms, signal) => {
          controller.abort();
          return timing.sleep(ms, signal);
        },
      },
    });
    expect(isAbortError(await rejection(client.health({ signal: controller.signal })))).toBe(true);
    expect(server.seen).toHaveLength(1);
  });

  it.each([
    { options: { timeoutMs: -1 }, name: 'timeoutMs' },
    { options: { timeoutMs: 2 ** 31 }, name: 'timeoutMs' },
    { options: { retry: { maxAttempts: 11 } }, name: 'retry.maxAttempts' },
  ])('a bad $name is E_INVALID_OPTION at once', ({ options, name }) => {
    expect(() => createClient({ baseUrl: 'http://nestor.test', ...options })).toThrow(
      expect.objectContaining({
        code: 'E_INVALID_OPTION',
        message: expect.stringContaining(` for ${name} `),
      }),
    );
  });
});

describe("the server's error details", () => {
  const facts = { option: 'format', reason: 'choice', allowed: ['same', 'tiff'] };
  it.each([
    {
      what: "a refused option's facts are kept, with the status and code",
      details: facts,
      want: { ...facts, status: 400, code: 'E_INVALID_OPTION' },
    },
    {
      what: "the SDK's own status and code win",
      details: { ...facts, status: 200, code: 'E_OTHER' },
      want: { ...facts, status: 400, code: 'E_INVALID_OPTION' },
    },
    { what: 'a list is no details', details: ['format'], want: { status: 400, code: 'E_INVALID_OPTION' } },
    { what: 'a string is no details', details: 'format', want: { status: 400, code: 'E_INVALID_OPTION' } },
  ])('$what', async ({ details, want }) => {
    const { client } = await setUp((_, response) =>
      answer(response, 400, { error: { code: 'E_INVALID_OPTION', message: 'refused', details } }),
    );
    const error = (await rejection(client.detect(IMAGE))) as NestorError;
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details).toEqual(want);
  });
});
