/** Stable error codes. Apps map them to exit codes or HTTP statuses in exactly one place each. */
export const ERROR_CODES = {
  E_INVALID_OPTION: 'An option has an invalid value.',
  E_INVALID_CONFIG: 'The configuration file is invalid.',
  E_EMPTY_INPUT: 'The input is empty (zero bytes).',
  E_INPUT_TOO_LARGE: 'The input has more bytes than the configured limit.',
  E_UNSUPPORTED_MEDIA: 'The input is not an image in a supported format.',
  E_DECODE: 'The image could not be decoded (corrupt or truncated).',
  E_IMAGE_TOO_SMALL: 'The image is too small to process.',
  E_TOO_MANY_PIXELS: 'The image has more pixels than the configured limit.',
  E_INPUT_NOT_FOUND: 'The input path does not exist.',
  E_INPUT_UNREADABLE: 'The input could not be read.',
  E_OUTPUT_EXISTS: 'The output would overwrite an existing file or an input.',
  E_OUTPUT_WRITE: 'The output could not be written.',
  E_MODEL_MISSING: 'A model file is missing; run `npm run models`.',
  E_MODEL_INTEGRITY: 'A model file does not match its recorded sha256.',
  E_MODEL_LOAD: 'A model could not be loaded by the inference engine.',
  E_INFERENCE: 'Inference failed.',
  E_ENCODE: 'The output image could not be encoded.',
  E_BAD_REQUEST: 'The request is malformed.',
  E_NOT_FOUND: 'No such route.',
  E_NETWORK: 'The server could not be reached.',
  E_BUSY: 'The server is busy; retry shortly.',
  E_TIMEOUT: 'Processing took too long.',
  E_UNAUTHENTICATED: 'Sign in first: this needs a session or an API key.',
  E_FORBIDDEN: 'Your account or key may not do this.',
  E_CREDENTIALS_EXPIRED: 'Your password and 2FA code have expired: renew them.',
  E_LOCKED: 'Too many failed sign-ins: the account is locked for a while.',
  E_RATE_LIMITED: 'Too many requests: slow down and retry shortly.',
  E_CONFLICT: 'That already exists.',
  E_VIDEO_UNAVAILABLE: 'Videos cannot be processed here: ffmpeg and ffprobe are not installed.',
  E_JOB_NOT_READY: 'The job has no result to deliver (still running, failed, or already delivered).',
  E_INTERNAL: 'Internal error.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A NestorError as plain data (`toJSON`): what job threads and queues carry. */
export interface NestorErrorJson {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: OptionFacts;
}

/** The one error type Nestor throws on purpose: a stable `code`, a human message, an optional cause. */
export class NestorError extends Error {
  override readonly name = 'NestorError';
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message ?? ERROR_CODES[code], options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }

  /** Plain data that crosses threads and queues; a refused option keeps its facts, nothing else its details. */
  toJSON(): NestorErrorJson {
    const facts = this.code === 'E_INVALID_OPTION' ? optionFacts(this.details) : undefined;
    return { code: this.code, message: this.message, ...(facts ? { details: facts } : {}) };
  }

  /** The error `toJSON` wrote, back as a NestorError. */
  static fromJSON(json: NestorErrorJson): NestorError {
    return new NestorError(
      json.code,
      json.message,
      json.details ? { details: { ...json.details } } : undefined,
    );
  }
}

export const isNestorError = (error: unknown): error is NestorError => error instanceof NestorError;

/** Wraps anything thrown into a NestorError, keeping a NestorError as it is. */
export function toNestorError(error: unknown, fallback: ErrorCode = 'E_INTERNAL'): NestorError {
  if (isNestorError(error)) return error;
  return new NestorError(fallback, undefined, { cause: error });
}

/** Why an option was refused: no such option, not one of `allowed`, past a bound, the wrong type, or another rule. */
export const OPTION_REASONS = ['unknown', 'choice', 'range', 'type', 'invalid'] as const;

export type OptionReason = (typeof OPTION_REASONS)[number];

/**
 * What a client needs to word a refused option in its own language (`details` of E_INVALID_OPTION):
 * only names and bounds the API defines, never the value received.
 */
export type OptionFacts = {
  /** The option as the API spells it: `format`, `minScore.face`. */
  readonly option: string;
  readonly reason: OptionReason;
  /** The values accepted (reason `choice`). */
  readonly allowed?: readonly string[];
  /** The bound crossed (reason `range`). */
  readonly minimum?: number;
  readonly maximum?: number;
};

/**
 * The one message format for bad options: `Expected <what> for <name> but received <value> of type <type>`.
 * `details` holds `{ option: name, reason: 'invalid' }` overridden by `facts`.
 * @example invalidOption('quality', 'a value of at most 100', 500, { reason: 'range', maximum: 100 })
 */
export function invalidOption(
  name: string,
  expected: string,
  actual: unknown,
  facts: Partial<OptionFacts> = {},
): NestorError {
  const shown = typeof actual === 'string' ? JSON.stringify(actual) : String(actual);
  const details: OptionFacts = { option: name, reason: 'invalid', ...facts };
  return new NestorError(
    'E_INVALID_OPTION',
    `Expected ${expected} for ${name} but received ${shown} of type ${typeof actual}`,
    { details },
  );
}

const isReason = (value: unknown): value is OptionReason => OPTION_REASONS.some((r) => r === value);
const isBound = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * The option facts in an error's `details` (a NestorError's, or a server's JSON), keeping only the
 * known keys of the right types; undefined when they name no option.
 * @example optionFacts({ option: 'format', reason: 'choice', allowed: ['same', 'tiff'], status: 400 })
 * // { option: 'format', reason: 'choice', allowed: ['same', 'tiff'] }
 */
export function optionFacts(details: unknown): OptionFacts | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const { option, reason, allowed, minimum, maximum } = details as Record<string, unknown>;
  if (typeof option !== 'string' || option === '') return undefined;
  const strings = Array.isArray(allowed) && allowed.every((v) => typeof v === 'string');
  return {
    option,
    reason: isReason(reason) ? reason : 'invalid',
    ...(strings ? { allowed: allowed as string[] } : {}),
    ...(isBound(minimum) ? { minimum } : {}),
    ...(isBound(maximum) ? { maximum } : {}),
  };
}
