import { createClient, NestorError } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { ABORTED, errorCode } from './api.ts';

describe('errorCode', () => {
  it.each([
    { what: "fetch's abort", error: new DOMException('This operation was aborted', 'AbortError') },
    {
      what: 'a cancelled upload (jobs.ts)',
      error: new DOMException('The upload was cancelled', 'AbortError'),
    },
    { what: 'AbortSignal.timeout', error: new DOMException('The operation timed out', 'TimeoutError') },
    { what: 'an Error named AbortError', error: Object.assign(new Error('aborted'), { name: 'AbortError' }) },
  ])('$what is a cancelled request, not a failure', ({ error }) => {
    expect(errorCode(error)).toBe(ABORTED);
  });

  it('a call of the API client aborted through its signal is a cancelled request', async () => {
    const controller = new AbortController();
    // A server that never answers: only the abort ends the call, as fetch does.
    const client = createClient({
      baseUrl: 'http://nestor.test',
      fetch: (_url, init) =>
        new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason))),
    });
    const call = client.health({ signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    expect(errorCode(await call)).toBe(ABORTED);
  });

  it.each([
    { what: 'a Nestor error', error: new NestorError('E_BUSY'), code: 'E_BUSY' },
    {
      what: 'a server code the SDK does not know (in details)',
      error: new NestorError('E_INTERNAL', 'x', { details: { code: 'E_FROM_THE_FUTURE' } }),
      code: 'E_FROM_THE_FUTURE',
    },
    { what: 'anything else', error: new Error('aborted'), code: 'E_INTERNAL' },
    {
      what: 'a DOMException of another kind',
      error: new DOMException('x', 'NetworkError'),
      code: 'E_INTERNAL',
    },
  ])('$what → $code', ({ error, code }) => {
    expect(errorCode(error)).toBe(code);
  });
});
