import { ERROR_CODES, type ErrorCode, invalidOption, NestorError, type Progress } from '@nestor/core';
import {
  backoffMs,
  type Failure,
  isRetryable,
  parseRetryAfter,
  type RetryOptions,
  type RetryPolicy,
  retryPolicy,
} from './retry.ts';
import { abortReason, type Timing } from './timing.ts';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** Options of one call, on top of the client's. */
export interface CallOptions {
  /** Aborts this call (as does the client's `signal`); the call then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** This call's timeout in ms instead of the client's; 0 = none. */
  readonly timeoutMs?: number;
  /** This call's retries instead of the client's; `false` sends it once. */
  readonly retry?: RetryOptions | false;
}

/** Longest timeout `setTimeout` keeps (a larger one fires at once). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Checks a timeout option; 0 means none. */
export function checkTimeout(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0 && value <= MAX_TIMEOUT_MS)) {
    throw invalidOption(name, `a number of ms from 0 to ${MAX_TIMEOUT_MS}`, value);
  }
  return value;
}

export interface TransportOptions {
  readonly base: string;
  readonly fetch: (input: string, init: RequestInit) => Promise<Response>;
  readonly headers?:
    | Readonly<Record<string, string>>
    | ((request: { method: HttpMethod; path: string }) => Readonly<Record<string, string>>);
  readonly credentials?: RequestCredentials;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly timing: Timing;
}

/** One API call as the transport sends it, attempt after attempt. */
export interface ApiRequest<T> {
  readonly method: HttpMethod;
  readonly path: string;
  readonly accept: string;
  /** Built afresh for each attempt; a FormData of Blobs can be sent again. */
  readonly body?: () => FormData;
  /** Sending it twice does no harm (default: every method but POST). */
  readonly idempotent?: boolean;
  /** A non-2xx status that is an answer rather than an error (a 503 from `/readyz`). */
  readonly answers?: (status: number, attempt: number) => boolean;
  /** Reads an answer: a 2xx, or a status of `answers`. */
  readonly read: (response: Response, url: string, attempt: number) => Promise<T>;
}

const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/** What a proxy's own error page (no Nestor body) means by its status; any other status is E_INTERNAL. */
const PROXY_STATUS: Readonly<Record<number, ErrorCode>> = {
  401: 'E_UNAUTHENTICATED',
  403: 'E_FORBIDDEN',
  413: 'E_INPUT_TOO_LARGE',
  429: 'E_RATE_LIMITED',
  502: 'E_NETWORK',
  503: 'E_BUSY',
  504: 'E_TIMEOUT',
};

/** A Nestor error body (an error answer, a failed job): `{ code, message }` and the server's `details`, if any. */
export interface ServerError {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

/** The `{ code, message, details? }` of a Nestor error body, if it is one. */
export function nestorError(value: unknown): ServerError | undefined {
  if (!isRecord(value) || typeof value.code !== 'string' || typeof value.message !== 'string')
    return undefined;
  const { code, message, details } = value;
  return isRecord(details) && !Array.isArray(details) ? { code, message, details } : { code, message };
}

/**
 * A server's error as a NestorError; a code this SDK does not know becomes E_INTERNAL. Its details
 * are the server's (a refused option's name and why) plus `details` (status, ...) and the code.
 */
export function fromServer(error: ServerError, details: Record<string, unknown>): NestorError {
  const code = isErrorCode(error.code) ? error.code : 'E_INTERNAL';
  return new NestorError(code, error.message, {
    details: { ...error.details, ...details, code: error.code },
  });
}

/** The server's `{"error":{"code","message"}}` as a NestorError, or what a proxy's page means by its status. */
export function toError(body: unknown, status: number, url: string, retryAfterMs?: number): NestorError {
  const details = { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  const error = nestorError(isRecord(body) ? body.error : undefined);
  if (error) return fromServer(error, details);
  return new NestorError(
    PROXY_STATUS[status] ?? 'E_INTERNAL',
    `${url} answered ${status} without a Nestor error body`,
    {
      details,
    },
  );
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, a DNS error) is its cause.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

/** The body as JSON; an error answer that is not JSON (a proxy's page) reads as `undefined`. */
export async function readJson(response: Response, url: string): Promise<unknown> {
  const body = await response.text();
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    if (!response.ok) return undefined;
    throw new NestorError('E_INTERNAL', `${url} answered ${response.status} with invalid JSON`, {
      cause: error,
    });
  }
}

/** The media type of a processing answer streamed with its progress. */
export const NDJSON = 'application/x-ndjson';

/**
 * A processing answer streamed as NDJSON: each `progress` line goes to `onProgress`, the `result`
 * line is the answer; a failure line (`status`, `error`) throws its error, as the same answer
 * unstreamed would have. An answer that ends without either broke off (E_NETWORK).
 */
export async function readStreamed(
  response: Response,
  url: string,
  onProgress: (progress: Progress) => void,
): Promise<unknown> {
  if (!response.body) throw new NestorError('E_NETWORK', `The answer of ${url} has no body`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { done, value } = await reader.read();
    buffered += decoder.decode(value, { stream: !done });
    const lines = buffered.split('\n');
    buffered = done ? '' : lines.pop()!;
    for (const text of lines) {
      if (text.trim() === '') continue;
      let line: unknown;
      try {
        line = JSON.parse(text);
      } catch (error) {
        throw new NestorError('E_INTERNAL', `${url} streamed a line that is not JSON`, { cause: error });
      }
      if (!isRecord(line)) continue;
      if ('result' in line) {
        await reader.cancel();
        return line.result;
      }
      if ('error' in line) {
        await reader.cancel();
        throw toError(line, typeof line.status === 'number' ? line.status : 500, url);
      }
      if (isRecord(line.progress)) onProgress(line.progress as unknown as Progress);
    }
    if (done) throw new NestorError('E_NETWORK', `The answer of ${url} ended before its result`);
  }
}

/**
 * One signal for a call: it aborts with the reason of the first of `signals` to abort, or with
 * `timeout.error()` after `timeout.ms` (0 = never). `dispose` detaches it all.
 */
export function callSignal(
  signals: readonly AbortSignal[],
  timeout?: { readonly ms: number; readonly error: () => NestorError },
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const cleanups: (() => void)[] = [];
  const dispose = () => {
    for (const cleanup of cleanups) cleanup();
  };
  for (const signal of signals) {
    if (signal.aborted) {
      controller.abort(abortReason(signal));
      dispose();
      return { signal: controller.signal, dispose };
    }
    const onAbort = () => controller.abort(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => signal.removeEventListener('abort', onAbort));
  }
  if (timeout && timeout.ms > 0) {
    const timer = setTimeout(() => controller.abort(timeout.error()), timeout.ms);
    cleanups.push(() => clearTimeout(timer));
  }
  return { signal: controller.signal, dispose };
}

/** Reads an answer's body: a connection that breaks off mid-body is E_NETWORK (an abort says why instead). */
async function reading<T>(url: string, signal: AbortSignal, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (cause) {
    if (signal.aborted) throw abortReason(signal);
    if (cause instanceof NestorError) throw cause;
    throw new NestorError('E_NETWORK', `The answer of ${url} broke off: ${describeFailure(cause)}`, {
      cause,
    });
  }
}

type Attempt<T> = { readonly answer: T } | { readonly error: NestorError; readonly failure: Failure };

/**
 * Sends requests with the client's headers, timeout and retries: `send(request, call, signals)`
 * rejects with a NestorError, or with the abort reason of one of `signals`.
 */
export function createTransport(options: TransportOptions) {
  const { base, timing } = options;

  function init(request: ApiRequest<unknown>, signal: AbortSignal): RequestInit {
    const { method, path } = request;
    const extra = typeof options.headers === 'function' ? options.headers({ method, path }) : options.headers;
    const headers = new Headers(extra);
    headers.set('accept', request.accept);
    const result: RequestInit = {
      method,
      headers,
      signal,
      ...(request.body ? { body: request.body() } : {}),
    };
    if (options.credentials) result.credentials = options.credentials;
    return result;
  }

  async function attempt<T>(
    request: ApiRequest<T>,
    url: string,
    n: number,
    signal: AbortSignal,
  ): Promise<Attempt<T>> {
    let response: Response;
    try {
      response = await options.fetch(url, init(request, signal));
    } catch (cause) {
      if (signal.aborted) throw abortReason(signal);
      const error = new NestorError('E_NETWORK', `Could not reach ${url}: ${describeFailure(cause)}`, {
        cause,
      });
      return { error, failure: { kind: 'network' } };
    }
    if (response.ok || request.answers?.(response.status, n)) {
      return { answer: await reading(url, signal, () => request.read(response, url, n)) };
    }
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), timing.now());
    const body = await reading(url, signal, () => readJson(response, url));
    const nestorBody = nestorError(isRecord(body) ? body.error : undefined) !== undefined;
    return {
      error: toError(body, response.status, url, retryAfterMs),
      failure: { kind: 'status', status: response.status, nestorBody, retryAfterMs },
    };
  }

  return async function send<T>(
    request: ApiRequest<T>,
    call: CallOptions,
    signals: readonly AbortSignal[],
  ): Promise<T> {
    const url = `${base}${request.path}`;
    const policy = retryPolicy(options.retry, call.retry);
    const timeoutMs =
      call.timeoutMs === undefined ? options.timeoutMs : checkTimeout('timeoutMs', call.timeoutMs);
    const idempotent = request.idempotent ?? request.method !== 'POST';
    const deadline = timeoutMs > 0 ? timing.now() + timeoutMs : Number.POSITIVE_INFINITY;
    const { signal, dispose } = callSignal(signals, {
      ms: timeoutMs,
      error: () =>
        new NestorError(
          'E_TIMEOUT',
          `${request.method} ${url} got no complete answer within ${timeoutMs} ms`,
          {
            details: { timeoutMs },
          },
        ),
    });
    try {
      let waited = 0;
      for (let n = 1; ; n++) {
        const outcome = await attempt(request, url, n, signal);
        if ('answer' in outcome) return outcome.answer;
        const { error, failure } = outcome;
        const wait =
          failure.kind === 'status' && failure.retryAfterMs !== undefined
            ? failure.retryAfterMs
            : backoffMs(policy, n, timing.random());
        // A wait the budget or the timeout cannot afford ends the call with the answer in hand.
        const affordable = waited + wait <= policy.maxTotalWaitMs && timing.now() + wait < deadline;
        if (n >= policy.maxAttempts || !isRetryable(failure, idempotent) || !affordable) throw error;
        await timing.sleep(wait, signal);
        waited += wait;
      }
    } catch (error) {
      // However fetch, a body read or a wait reports an abort, the call says why: the caller's reason or E_TIMEOUT.
      if (signal.aborted) throw abortReason(signal);
      throw error;
    } finally {
      dispose();
    }
  };
}

export type Send = ReturnType<typeof createTransport>;
