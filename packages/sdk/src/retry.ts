import { invalidOption } from '@nestor/core';

/** When a failed request is sent again. */
export interface RetryOptions {
  /** Attempts in all, the first included; `1` never retries. Integer 1–10, default 3. */
  readonly maxAttempts?: number;
  /** The first backoff wait in ms, doubled per retry, with full jitter. Default 500. */
  readonly baseDelayMs?: number;
  /** The longest backoff wait in ms (a `Retry-After` is not shortened: see `maxTotalWaitMs`). Default 8000. */
  readonly maxDelayMs?: number;
  /** The most one call waits between attempts in all, ms; a longer `Retry-After` ends the call at once. Default 30 000. */
  readonly maxTotalWaitMs?: number;
}

export type RetryPolicy = Required<RetryOptions>;

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxTotalWaitMs: 30_000,
};

/** Never retries (`retry: false`). */
const NO_RETRY: RetryPolicy = { ...DEFAULT_RETRY, maxAttempts: 1 };

/** Checks a duration option: a finite number of ms ≥ 0, or absent. */
export function checkMs<T extends number | undefined>(name: string, value: T): T {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
    throw invalidOption(name, 'a number of ms ≥ 0', value);
  }
  return value;
}

/** `base` with `options` on top, each value checked; `false` never retries. */
export function retryPolicy(
  base: RetryPolicy,
  options: RetryOptions | false | undefined,
  name = 'retry',
): RetryPolicy {
  if (options === false) return NO_RETRY;
  if (options === undefined) return base;
  const { maxAttempts } = options;
  if (
    maxAttempts !== undefined &&
    !(Number.isInteger(maxAttempts) && maxAttempts >= 1 && maxAttempts <= 10)
  ) {
    throw invalidOption(`${name}.maxAttempts`, 'an integer from 1 to 10', maxAttempts);
  }
  checkMs(`${name}.baseDelayMs`, options.baseDelayMs);
  checkMs(`${name}.maxDelayMs`, options.maxDelayMs);
  checkMs(`${name}.maxTotalWaitMs`, options.maxTotalWaitMs);
  return {
    maxAttempts: maxAttempts ?? base.maxAttempts,
    baseDelayMs: options.baseDelayMs ?? base.baseDelayMs,
    maxDelayMs: options.maxDelayMs ?? base.maxDelayMs,
    maxTotalWaitMs: options.maxTotalWaitMs ?? base.maxTotalWaitMs,
  };
}

/**
 * The wait before retry number `retry` (1 = the first): exponential, capped, "full jitter" (a random
 * share of it) so that clients refused together do not come back together.
 * @param random a number in [0, 1)
 */
export function backoffMs(policy: RetryPolicy, retry: number, random: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(ceiling * random);
}

/**
 * A `Retry-After` header in ms from `nowMs`: delta-seconds or an HTTP date (RFC 9110 §10.2.3);
 * `undefined` when absent or unreadable, 0 for a date already past.
 */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its day and month; Date.parse alone would take "1.5" or "-1" for dates.
  const date = /[a-z]{3}/i.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** What the SDK knows of a failed attempt when it decides whether to send it again. */
export type Failure =
  | { readonly kind: 'network' }
  | {
      readonly kind: 'status';
      readonly status: number;
      /** The answer held a Nestor error body (the server itself answered, not a proxy). */
      readonly nestorBody: boolean;
      readonly retryAfterMs: number | undefined;
    };

/**
 * Whether the request may be sent again. 429 and 503 are refusals before any work, so any request
 * may retry them when the server says when (`Retry-After`) or when a proxy answered; a Nestor 503
 * without `Retry-After` (models missing, no ffmpeg) will not change. Only an idempotent request
 * retries what may have reached the server: a network failure, 502, 504.
 */
export function isRetryable(failure: Failure, idempotent: boolean): boolean {
  if (failure.kind === 'network') return idempotent;
  const { status } = failure;
  if (status === 429 || status === 503) return failure.retryAfterMs !== undefined || !failure.nestorBody;
  return idempotent && (status === 502 || status === 504);
}
