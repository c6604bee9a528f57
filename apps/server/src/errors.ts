import { ERROR_CODES, type ErrorCode, isNestorError, NestorError } from '@nestor/core';

/** The one mapping from Nestor error codes to HTTP statuses. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  E_INVALID_OPTION: 400,
  E_INVALID_CONFIG: 500,
  E_EMPTY_INPUT: 400,
  E_INPUT_TOO_LARGE: 413,
  E_UNSUPPORTED_MEDIA: 415,
  E_DECODE: 422,
  E_IMAGE_TOO_SMALL: 422,
  E_TOO_MANY_PIXELS: 413,
  E_INPUT_NOT_FOUND: 400,
  E_INPUT_UNREADABLE: 400,
  E_OUTPUT_EXISTS: 500,
  E_OUTPUT_WRITE: 500,
  E_MODEL_MISSING: 503,
  E_MODEL_INTEGRITY: 503,
  E_MODEL_LOAD: 503,
  E_INFERENCE: 500,
  E_ENCODE: 500,
  E_BAD_REQUEST: 400,
  E_NOT_FOUND: 404,
  E_NETWORK: 502, // raised by the SDK, never by the server itself
  E_BUSY: 503,
  E_TIMEOUT: 503,
  E_UNAUTHENTICATED: 401,
  E_FORBIDDEN: 403,
  // 403, not 401: the identity is proven, but these credentials will not work again until renewed.
  E_CREDENTIALS_EXPIRED: 403,
  E_LOCKED: 429,
  E_RATE_LIMITED: 429,
  E_CONFLICT: 409,
  E_VIDEO_UNAVAILABLE: 503,
  E_JOB_NOT_READY: 409,
  E_INTERNAL: 500,
};

/** fastify's and @fastify/multipart's own errors that have a Nestor meaning. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'E_INPUT_TOO_LARGE',
  FST_REQ_FILE_TOO_LARGE: 'E_INPUT_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'E_UNSUPPORTED_MEDIA',
  FST_ERR_CTP_EMPTY_TYPE: 'E_UNSUPPORTED_MEDIA',
};

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export interface HttpError {
  readonly status: number;
  readonly body: ErrorBody;
  /** The error as understood, for the log (its message may hold internals). */
  readonly error: NestorError;
}

/**
 * Turns anything a request threw into a status and the one error body. Messages of 5xx errors and
 * of errors we do not know are replaced by the code's generic text, so internals never reach clients.
 */
export function toHttpError(thrown: unknown, maxBytes: number): HttpError {
  const error = classify(thrown, maxBytes);
  const status = HTTP_STATUS[error.code];
  const message = status >= 500 ? ERROR_CODES[error.code] : error.message;
  return { status, body: { error: { code: error.code, message } }, error };
}

function classify(thrown: unknown, maxBytes: number): NestorError {
  if (isNestorError(thrown)) return thrown;
  const { code, statusCode } = (thrown ?? {}) as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'string' && code.startsWith('FST_')) {
    const mapped = FASTIFY_CODES[code];
    if (mapped === 'E_INPUT_TOO_LARGE') {
      return new NestorError('E_INPUT_TOO_LARGE', `The input is larger than the limit of ${maxBytes} bytes`, {
        cause: thrown,
      });
    }
    if (mapped) return new NestorError(mapped, undefined, { cause: thrown });
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return new NestorError('E_BAD_REQUEST', undefined, { cause: thrown });
    }
  }
  return new NestorError('E_INTERNAL', undefined, { cause: thrown });
}
