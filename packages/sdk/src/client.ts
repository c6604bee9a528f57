import {
  type Detection,
  type DetectionResult,
  ERROR_CODES,
  type ErrorCode,
  type ImageFormat,
  LABELS,
  type Label,
  type Locale,
  type ModelSpec,
  NestorError,
  type Preset,
  type ProcessOptions,
  type RedactionMethod,
  type Timings,
} from '@nestor/core';

/** An image to send: a `File` or `Blob` (browsers) or its bytes. */
export type ImageInput = Blob | Uint8Array;

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** Per-request options: `ProcessOptions` without `task`, which each method decides. */
export type RequestOptions = Omit<ProcessOptions, 'task'>;

export interface ClientOptions {
  /** Where the API is, e.g. `http://127.0.0.1:5050`; a path prefix is kept. */
  readonly baseUrl: string | URL;
  /** Used instead of the global `fetch` (tests, retries, authentication). */
  readonly fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Sent with every request; a function is called per request (e.g. a CSRF token read from a cookie). */
  readonly headers?:
    | Readonly<Record<string, string>>
    | ((request: { method: HttpMethod; path: string }) => Readonly<Record<string, string>>);
  /** Whether cookies go with requests (`fetch`'s `credentials`); browsers default to `same-origin`. */
  readonly credentials?: RequestCredentials;
}

/** `GET /v1/app-config`: what a front end needs to know of this deployment (public). */
export interface AppConfig {
  /** UI languages offered, the first being the fallback. */
  readonly locales: readonly Locale[];
  /** Deployment switches (`features` of the config). */
  readonly features: Readonly<Record<string, boolean>>;
  /** The option defaults of the server's config, for forms. */
  readonly defaults: {
    readonly task: 'anonymize' | 'detect';
    readonly preset: Preset;
    readonly targets: readonly Label[];
    readonly method: RedactionMethod;
    readonly strength: number;
    readonly feather: number;
    readonly minScore: Readonly<Record<Label, number>>;
    readonly format: 'same' | ImageFormat;
    readonly quality: number;
    readonly keepMetadata: boolean;
  };
  readonly limits: { readonly maxBytes: number; readonly maxPixels: number; readonly minSide: number };
  /** `local`: no login; `accounts`: a session cookie and the CSRF header on unsafe requests. */
  readonly auth: { readonly mode: 'local' | 'accounts' };
}

/** `POST /v1/anonymize`: the image, with counts and timings read from its headers. */
export interface AnonymizedImage {
  readonly bytes: Uint8Array;
  readonly mimeType: string;
  readonly counts: Record<Label, number>;
  readonly timings: Timings;
}

/** `POST /v1/anonymize` with `Accept: application/json`: the detections and the image in base64. */
export interface AnonymizeJsonResult extends DetectionResult {
  output: { format: ImageFormat; mimeType: string; base64: string };
}

/** One entry of `GET /v1/models`. */
export interface ModelInfo extends Pick<ModelSpec, 'id' | 'label' | 'description' | 'sha256' | 'source'> {
  /** Run by the server's configuration in at least one preset. */
  readonly active: boolean;
}

/** `GET /readyz`: `starting` and `failed` are answers (503), not errors. */
export type ReadyStatus =
  | { readonly status: 'ready' }
  | { readonly status: 'starting' }
  | { readonly status: 'failed'; readonly error: NestorError };

/** `POST /v1/jobs` options: those of an image, plus `task` (`detect` writes only the detections JSON). */
export type JobOptions = RequestOptions & { readonly task?: 'anonymize' | 'detect' };

/** `GET /v1/jobs/:id`: where a job stands. */
export interface JobStatus {
  readonly id: string;
  readonly kind: 'video' | 'images';
  readonly state: 'queued' | 'active' | 'completed' | 'failed';
  /** 0–1. */
  readonly progress: number;
  readonly etaSeconds?: number;
  /** Runs so far (a retried job counts each). */
  readonly attempts: number;
  /** Why a failed job failed (`code` is the server's, as in error answers). */
  readonly error?: { readonly code: string; readonly message: string };
  /** The result file, once completed. */
  readonly output?: { readonly fileName: string; readonly mimeType: string; readonly bytes: number };
}

/** A region on one video frame: the detections schema, with the track it belongs to. */
export interface FrameDetection extends Omit<Detection, 'source'> {
  readonly source: 'model' | 'tracker' | 'manual';
  readonly track?: number;
}

/** The detections JSON of a video job (product.md §4). */
export interface VideoDetections {
  readonly video: {
    readonly width: number;
    readonly height: number;
    readonly container: 'mp4' | 'mov' | 'mkv' | 'webm';
    readonly frameRate: string;
    readonly variableFrameRate: boolean;
    /** `exact`: each frame keeps its input time; `average-rate`: a variable rate was evened out. */
    readonly timestamps: 'constant-rate' | 'exact' | 'average-rate';
    readonly rotation: number;
    readonly frames: number;
    readonly durationMs: number;
    readonly audioStreams: number;
  };
  /** Frames with at least one region. */
  readonly frames: readonly {
    readonly index: number;
    readonly timeMs: number;
    readonly detections: readonly FrameDetection[];
  }[];
  readonly tracks: readonly {
    readonly id: number;
    readonly label: Label;
    readonly firstFrame: number;
    readonly lastFrame: number;
    readonly sightings: number;
    readonly misses: number;
    readonly maxScore: number;
  }[];
  /** Tracks per class. */
  readonly counts: Readonly<Record<Label, number>>;
  readonly stats: Readonly<Record<string, number>>;
  readonly timings: { readonly totalMs: number; readonly fps: number };
  readonly models: Readonly<Partial<Record<Label, string>>>;
}

/** The detections JSON of a batch of images: one entry per file, a result or its error. */
export interface BatchDetections {
  readonly results: readonly ({ readonly file: string } & (
    | DetectionResult
    | { readonly error: { readonly code: string; readonly message: string } }
  ))[];
}

/** `GET /v1/jobs/:id/result`: the anonymized video, or a ZIP of the images. */
export interface JobResult {
  readonly blob: Blob;
  readonly mimeType: string;
  readonly fileName: string;
}

export interface NestorClient {
  detect(image: ImageInput, options?: RequestOptions): Promise<DetectionResult>;
  anonymize(image: ImageInput, options?: RequestOptions): Promise<AnonymizedImage>;
  anonymizeJson(image: ImageInput, options?: RequestOptions): Promise<AnonymizeJsonResult>;
  models(): Promise<ModelInfo[]>;
  health(): Promise<{ status: 'ok' }>;
  ready(): Promise<ReadyStatus>;
  appConfig(): Promise<AppConfig>;
  /** `POST /v1/jobs`: one video, or several images → the job's id (the work runs on the server). */
  createJob(files: ImageInput | readonly ImageInput[], options?: JobOptions): Promise<{ id: string }>;
  /** `GET /v1/jobs/:id`: state, progress, ETA, error. */
  job(id: string): Promise<JobStatus>;
  /** `GET /v1/jobs/:id/result?part=detections`: fetch it before `jobResult` (which deletes the job). */
  jobDetections(id: string): Promise<VideoDetections | BatchDetections>;
  /** `GET /v1/jobs/:id/result`: the file; the server then deletes the job. */
  jobResult(id: string): Promise<JobResult>;
  /** `DELETE /v1/jobs/:id`: cancels the job and deletes its files. */
  deleteJob(id: string): Promise<void>;
}

type Field = readonly [name: string, value: string];
/** zod's optional properties admit `undefined` explicitly: strip it for the encoders. */
type OptionValues = { [K in keyof RequestOptions]-?: Exclude<RequestOptions[K], undefined> };
type Encoders = { readonly [K in keyof OptionValues]: (value: OptionValues[K]) => Field[] };

const text =
  (name: string) =>
  (value: string | number | boolean): Field[] => [[name, String(value)]];

/** Each option as the form fields the server reads (apps/server/src/options.ts); typed to miss none. */
const ENCODERS: Encoders = {
  preset: text('preset'),
  targets: (targets) => [['targets', targets.join(',')]],
  method: text('method'),
  strength: text('strength'),
  feather: text('feather'),
  minScore: (scores) =>
    LABELS.flatMap((l): Field[] => (scores[l] === undefined ? [] : [[`minScore.${l}`, String(scores[l])]])),
  iouThreshold: text('iouThreshold'),
  format: text('format'),
  quality: text('quality'),
  keepMetadata: text('keepMetadata'),
  addRegions: (regions) => [['addRegions', JSON.stringify(regions)]],
  suppress: (regions) => [['suppress', JSON.stringify(regions)]],
};

function encode<K extends keyof OptionValues>(name: K, value: OptionValues[K]): Field[] {
  const encoder: (value: OptionValues[K]) => Field[] = ENCODERS[name];
  return encoder(value);
}

const isOption = (name: string): name is keyof OptionValues => Object.hasOwn(ENCODERS, name);

/** The multipart body: option fields, then the image(s) in `file`. */
function formData(images: ImageInput | readonly ImageInput[], options: JobOptions): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(options) as [string, unknown][]) {
    if (value === undefined) continue;
    // Names the SDK does not know (untyped callers) go as they are, for the server to report.
    const fields = isOption(name)
      ? encode(name, value as OptionValues[typeof name])
      : [[name, String(value)] as const];
    for (const [field, content] of fields) form.append(field, content);
  }
  const list: readonly ImageInput[] = Array.isArray(images) ? images : [images as ImageInput];
  for (const image of list) {
    // Blob wants bytes on a plain ArrayBuffer; the copy also keeps later edits by the caller out.
    const blob = image instanceof Blob ? image : new Blob([new Uint8Array(image)]);
    form.append('file', blob, `upload${extensionOf(image)}`);
  }
  return form;
}

/** Only the extension of a file's name is sent (the server keeps that much of it); the name stays here. */
function extensionOf(image: ImageInput): string {
  const name = typeof File !== 'undefined' && image instanceof File ? image.name : '';
  return /\.[a-z0-9]{1,5}$/i.exec(name)?.[0].toLowerCase() ?? '';
}

const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);

const isRecord = (value: unknown): value is Record<string, unknown> =>
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

/** The server's `{"error":{"code","message"}}` as a NestorError; unknown codes become E_INTERNAL. */
function toError(body: unknown, status: number, url: string): NestorError {
  const error = isRecord(body) ? body.error : undefined;
  if (isRecord(error) && typeof error.code === 'string' && typeof error.message === 'string') {
    const code = isErrorCode(error.code) ? error.code : 'E_INTERNAL';
    return new NestorError(code, error.message, { details: { status, code: error.code } });
  }
  return new NestorError(
    PROXY_STATUS[status] ?? 'E_INTERNAL',
    `${url} answered ${status} without a Nestor error body`,
    {
      details: { status },
    },
  );
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, a DNS error) is its cause.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

const SERVER_TIMING: Readonly<Record<string, keyof Timings>> = {
  decode: 'decodeMs',
  detect: 'detectMs',
  redact: 'redactMs',
  encode: 'encodeMs',
  total: 'totalMs',
};

function missingHeader(name: string): NestorError {
  return new NestorError(
    'E_INTERNAL',
    `The answer has no usable ${name} header (a cross-origin server must list it in Access-Control-Expose-Headers)`,
  );
}

/** `decode;dur=12.5, detect;dur=80, …` → Timings. */
function parseServerTiming(header: string | null): Timings {
  const timings: Partial<Timings> = {};
  for (const metric of (header ?? '').split(',')) {
    const [name = '', ...params] = metric.split(';').map((s) => s.trim());
    const key = SERVER_TIMING[name];
    const dur = params.find((p) => p.startsWith('dur='));
    if (key && dur) timings[key] = Number(dur.slice(4));
  }
  const all = Object.values(SERVER_TIMING).map((key) => timings[key]);
  if (all.some((ms) => ms === undefined || !Number.isFinite(ms))) throw missingHeader('Server-Timing');
  return timings as Timings;
}

/** `face=2, plate=0` → counts. */
function parseCounts(header: string | null): Record<Label, number> {
  const found = new Map(
    (header ?? '').split(',').map((pair) => {
      const [label = '', count = ''] = pair.split('=').map((s) => s.trim());
      return [label, Number(count)] as const;
    }),
  );
  const counts = { face: 0, plate: 0 } satisfies Record<Label, number>;
  for (const label of LABELS) {
    const count = found.get(label);
    if (count === undefined || !Number.isInteger(count)) throw missingHeader('X-Nestor-Counts');
    counts[label] = count;
  }
  return counts;
}

/** A typed client of the Nestor REST API; every failure is a thrown `NestorError`. */
export function createClient(options: ClientOptions): NestorClient {
  const base = String(options.baseUrl).replace(/\/+$/, '');
  // Looked up per call, and never called as a method: browsers refuse `fetch` with another `this`.
  const doFetch = options.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));

  async function send(
    path: string,
    accept: string,
    body?: FormData,
    method: HttpMethod = body ? 'POST' : 'GET',
  ): Promise<Response> {
    const url = `${base}${path}`;
    const extra = typeof options.headers === 'function' ? options.headers({ method, path }) : options.headers;
    const headers = new Headers(extra);
    headers.set('accept', accept);
    const init: RequestInit = { method, headers, ...(body ? { body } : {}) };
    if (options.credentials) init.credentials = options.credentials;
    try {
      return await doFetch(url, init);
    } catch (error) {
      throw new NestorError('E_NETWORK', `Could not reach ${url}: ${describeFailure(error)}`, {
        cause: error,
      });
    }
  }

  async function readJson(response: Response, url: string): Promise<unknown> {
    const body = await response.text();
    try {
      return JSON.parse(body) as unknown;
    } catch (error) {
      // An error answer that is not JSON (a proxy's page) is reported by its status instead.
      if (!response.ok) return undefined;
      throw new NestorError('E_INTERNAL', `${url} answered ${response.status} with invalid JSON`, {
        cause: error,
      });
    }
  }

  /** JSON of a 2xx answer (or of one of `accepted`), else the server's error thrown. */
  async function json<T>(path: string, body?: FormData, accepted: readonly number[] = []): Promise<T> {
    const response = await send(path, 'application/json', body);
    const parsed = await readJson(response, base + path);
    if (parsed === undefined || (!response.ok && !accepted.includes(response.status))) {
      throw toError(parsed, response.status, base + path);
    }
    return parsed as T;
  }

  return {
    detect: (image, opts = {}) => json<DetectionResult>('/v1/detect', formData(image, opts)),

    async anonymize(image, opts = {}) {
      const path = '/v1/anonymize';
      const response = await send(path, 'image/*', formData(image, opts));
      if (!response.ok) throw toError(await readJson(response, base + path), response.status, base + path);
      const bytes = new Uint8Array(await response.arrayBuffer());
      return {
        bytes,
        mimeType: (response.headers.get('content-type') ?? 'application/octet-stream').split(';')[0]!.trim(),
        counts: parseCounts(response.headers.get('x-nestor-counts')),
        timings: parseServerTiming(response.headers.get('server-timing')),
      };
    },

    anonymizeJson: (image, opts = {}) => json<AnonymizeJsonResult>('/v1/anonymize', formData(image, opts)),

    models: async () => (await json<{ models: ModelInfo[] }>('/v1/models')).models,

    health: () => json<{ status: 'ok' }>('/healthz'),

    appConfig: () => json<AppConfig>('/v1/app-config'),

    createJob: (files, opts = {}) => json<{ id: string }>('/v1/jobs', formData(files, opts)),

    job: (id) => json<JobStatus>(`/v1/jobs/${encodeURIComponent(id)}`),

    jobDetections: (id) =>
      json<VideoDetections | BatchDetections>(`/v1/jobs/${encodeURIComponent(id)}/result?part=detections`),

    async jobResult(id) {
      const path = `/v1/jobs/${encodeURIComponent(id)}/result`;
      const response = await send(path, '*/*');
      if (!response.ok) throw toError(await readJson(response, base + path), response.status, base + path);
      const mimeType = (response.headers.get('content-type') ?? 'application/octet-stream')
        .split(';')[0]!
        .trim();
      const disposition = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '');
      return { blob: await response.blob(), mimeType, fileName: disposition?.[1] ?? 'result' };
    },

    async deleteJob(id) {
      const path = `/v1/jobs/${encodeURIComponent(id)}`;
      const response = await send(path, 'application/json', undefined, 'DELETE');
      if (!response.ok) throw toError(await readJson(response, base + path), response.status, base + path);
    },

    async ready() {
      const answer = await json<{ status: string; error?: unknown }>('/readyz', undefined, [503]);
      if (answer.status === 'ready' || answer.status === 'starting') return { status: answer.status };
      return { status: 'failed', error: toError(answer, 503, `${base}/readyz`) };
    },
  };
}
