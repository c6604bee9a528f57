import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  DEFAULT_RETRY,
  type Failure,
  isRetryable,
  parseRetryAfter,
  retryPolicy,
} from './retry.ts';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

describe('parseRetryAfter', () => {
  it.each([
    { header: null, ms: undefined },
    { header: '', ms: undefined },
    { header: '2', ms: 2000 },
    { header: ' 0 ', ms: 0 },
    { header: '120', ms: 120_000 },
    { header: 'Wed, 01 Jan 2025 12:00:30 GMT', ms: 30_000 },
    { header: 'Wed, 01 Jan 2025 11:59:00 GMT', ms: 0 },
    { header: '-1', ms: undefined },
    { header: '1.5', ms: undefined },
    { header: 'soon', ms: undefined },
  ])('$header → $ms', ({ header, ms }) => {
    expect(parseRetryAfter(header, NOW)).toBe(ms);
  });
});

describe('backoffMs', () => {
  const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
  it.each([
    { retry: 1, random: 0.5, ms: 50 },
    { retry: 2, random: 0.5, ms: 100 },
    { retry: 3, random: 0.999, ms: 400 },
    { retry: 5, random: 0.5, ms: 500 },
    { retry: 9, random: 1, ms: 1000 },
    { retry: 1, random: 0, ms: 0 },
  ])('retry $retry with jitter $random waits $ms ms', ({ retry, random, ms }) => {
    expect(backoffMs(policy, retry, random)).toBe(ms);
  });
});

describe('isRetryable', () => {
  const status = (code: number, nestorBody: boolean, retryAfterMs?: number): Failure => ({
    kind: 'status',
    status: code,
    nestorBody,
    retryAfterMs,
  });
  it.each([
    {
      why: 'a network failure of a GET',
      failure: { kind: 'network' } as const,
      idempotent: true,
      retry: true,
    },
    {
      why: 'a network failure of a POST',
      failure: { kind: 'network' } as const,
      idempotent: false,
      retry: false,
    },
    { why: '429 with Retry-After, POST', failure: status(429, true, 1000), idempotent: false, retry: true },
    {
      why: '503 E_BUSY with Retry-After, POST',
      failure: status(503, true, 2000),
      idempotent: false,
      retry: true,
    },
    { why: "a proxy's 503, POST", failure: status(503, false), idempotent: false, retry: true },
    {
      why: 'a Nestor 503 without Retry-After (no models)',
      failure: status(503, true),
      idempotent: true,
      retry: false,
    },
    { why: '502 of a GET', failure: status(502, false), idempotent: true, retry: true },
    { why: '504 of a GET', failure: status(504, false), idempotent: true, retry: true },
    { why: '502 of a POST', failure: status(502, false), idempotent: false, retry: false },
    { why: '500 of a GET', failure: status(500, true), idempotent: true, retry: false },
    { why: '500 of a POST', failure: status(500, true), idempotent: false, retry: false },
    { why: '400 of a GET', failure: status(400, true), idempotent: true, retry: false },
    { why: '404 of a DELETE', failure: status(404, true), idempotent: true, retry: false },
  ])('$why: $retry', ({ failure, idempotent, retry }) => {
    expect(isRetryable(failure, idempotent)).toBe(retry);
  });
});

describe('retryPolicy', () => {
  it('takes the defaults, overrides them, and never retries for false', () => {
    expect(retryPolicy(DEFAULT_RETRY, undefined)).toBe(DEFAULT_RETRY);
    expect(retryPolicy(DEFAULT_RETRY, { maxAttempts: 5 })).toEqual({ ...DEFAULT_RETRY, maxAttempts: 5 });
    expect(retryPolicy(DEFAULT_RETRY, false).maxAttempts).toBe(1);
  });

  it.each([
    {
      options: { maxAttempts: 0 },
      message: 'Expected an integer from 1 to 10 for retry.maxAttempts but received 0 of type number',
    },
    {
      options: { maxAttempts: 1.5 },
      message: 'Expected an integer from 1 to 10 for retry.maxAttempts but received 1.5 of type number',
    },
    {
      options: { baseDelayMs: -1 },
      message: 'Expected a number of ms ≥ 0 for retry.baseDelayMs but received -1 of type number',
    },
    {
      options: { maxDelayMs: Number.NaN },
      message: 'Expected a number of ms ≥ 0 for retry.maxDelayMs but received NaN of type number',
    },
    {
      options: { maxTotalWaitMs: Number.POSITIVE_INFINITY },
      message: 'Expected a number of ms ≥ 0 for retry.maxTotalWaitMs but received Infinity of type number',
    },
  ])('refuses $options', ({ options, message }) => {
    const option = `retry.${Object.keys(options)[0]}`;
    expect(() => retryPolicy(DEFAULT_RETRY, options)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', message, details: { option, reason: 'invalid' } }),
    );
  });
});
