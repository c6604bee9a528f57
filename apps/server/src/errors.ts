import {
  ERROR_CODES,
  type ErrorCode,
  isNestorError,
  NestorError,
  type OptionFacts,
  optionFacts,
} from '@nestor/core';

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

/** Option fields a multipart request may carry besides its files (the options are fewer: room for repeats). */
export const MAX_MULTIPART_FIELDS = 32;

/**
 * What went wrong reading a multipart body, in words that name the limit it ran into: `filesLimit`
 * says how many files the route takes, `per` what one request is ("request", "job").
 */
export function multipartError(error: unknown, filesLimit: string, per: string): unknown {
  if (error instanceof NestorError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'FST_FILES_LIMIT':
      return new NestorError('E_BAD_REQUEST', filesLimit, { cause: error });
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return new NestorError('E_BAD_REQUEST', `At most ${MAX_MULTIPART_FIELDS} option fields per ${per}`, {
        cause: error,
      });
    case undefined:
      // busboy reports a broken body with plain errors: that is the client's fault, not ours.
      return new NestorError('E_BAD_REQUEST', 'The multipart body is malformed', { cause: error });
    default:
      return error;
  }
}

/** The client closed the connection mid-body: the answer reaches nobody, but this is not our fault. */
const CUT_SHORT = 'The request ended before its body was complete';

/** fastify's and @fastify/multipart's own errors that have a Nestor meaning, in words a client can act on. */
const FASTIFY_CODES: Readonly<Record<string, { readonly code: ErrorCode; readonly message?: string }>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'E_UNSUPPORTED_MEDIA' },
  FST_ERR_CTP_EMPTY_TYPE: { code: 'E_UNSUPPORTED_MEDIA' },
  FST_FILES_LIMIT: {
    code: 'E_BAD_REQUEST',
    message: 'The multipart body has more files than this route takes',
  },
  FST_FIELDS_LIMIT: {
    code: 'E_BAD_REQUEST',
    message: 'The multipart body has more fields than this route takes',
  },
  FST_PARTS_LIMIT: {
    code: 'E_BAD_REQUEST',
    message: 'The multipart body has more parts than this route takes',
  },
  FST_MP_PREMATURE_CLOSE: { code: 'E_BAD_REQUEST', message: CUT_SHORT },
};

/** fastify's errors for a body or an uploaded file over the limit. */
const TOO_LARGE = new Set(['FST_ERR_CTP_BODY_TOO_LARGE', 'FST_REQ_FILE_TOO_LARGE']);

export interface ErrorBody {
  error: PublicError;
}

/** An error as a client may see it. */
export interface PublicError {
  code: ErrorCode;
  message: string;
  /** E_INVALID_OPTION only: which option and why, for a client that words the error in its language. */
  details?: OptionFacts;
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
 * `bodyLimit` is the limit of the request's route, named when the body was too large.
 */
export function toHttpError(thrown: unknown, bodyLimit: number): HttpError {
  const error = classify(thrown, bodyLimit);
  return { status: HTTP_STATUS[error.code], body: { error: publicError(error) }, error };
}

/**
 * What a client may see of an error, also one stored for later (a failed job's): 5xx and unknown
 * codes get the generic text of their code, since their messages may name files or hosts. Of
 * `details`, only a refused option's facts are shown: the rest may hold secrets (a renewal grant).
 */
export function publicError(error: {
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}): PublicError {
  if (!Object.hasOwn(HTTP_STATUS, error.code)) return { code: 'E_INTERNAL', message: ERROR_CODES.E_INTERNAL };
  const code = error.code as ErrorCode;
  const facts = code === 'E_INVALID_OPTION' ? optionFacts(error.details) : undefined;
  return {
    code,
    message: HTTP_STATUS[code] >= 500 ? ERROR_CODES[code] : error.message,
    ...(facts ? { details: facts } : {}),
  };
}

function classify(thrown: unknown, bodyLimit: number): NestorError {
  if (isNestorError(thrown)) return thrown;
  const { code, statusCode, message } = (thrown ?? {}) as {
    code?: unknown;
    statusCode?: unknown;
    message?: unknown;
  };
  // Node's error on a request whose client went away; ECONNRESET alone may be an outbound socket's.
  if (code === 'ECONNRESET' && message === 'aborted') {
    return new NestorError('E_BAD_REQUEST', CUT_SHORT, { cause: thrown });
  }
  if (typeof code === 'string' && code.startsWith('FST_')) {
    if (TOO_LARGE.has(code)) {
      const text = `The input is larger than the limit of ${bodyLimit} bytes`;
      return new NestorError('E_INPUT_TOO_LARGE', text, { cause: thrown });
    }
    const mapped = FASTIFY_CODES[code];
    if (mapped) return new NestorError(mapped.code, mapped.message, { cause: thrown });
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return new NestorError('E_BAD_REQUEST', undefined, { cause: thrown });
    }
  }
  return new NestorError('E_INTERNAL', undefined, { cause: thrown });
}
