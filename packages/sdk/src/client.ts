import {
  type DetectionConfig,
  type DetectionResult,
  type ImageFormat,
  LABELS,
  type Label,
  type Locale,
  type ModelSpec,
  NestorError,
  type Preset,
  type ProcessOptions,
  type Progress,
  type RedactionMethod,
  type Timings,
} from '@nestor/core';
import {
  type BatchDetections,
  type JobOutput,
  type JobResult,
  type JobStatus,
  type VideoDetections,
  type WaitForJobOptions,
  waitForJob,
} from './jobs.ts';
import { DEFAULT_RETRY, type RetryOptions, retryPolicy } from './retry.ts';
import { SYSTEM_TIMING, type Timing } from './timing.ts';
import {
  type ApiRequest,
  type CallOptions,
  callSignal,
  checkTimeout,
  createTransport,
  type HttpMethod,
  isRecord,
  NDJSON,
  readJson,
  readStreamed,
  toError,
} from './transport.ts';

/** An image to send: a `File` or `Blob` (browsers) or its bytes. */
export type ImageInput = Blob | Uint8Array;

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
  /** Aborts every call of this client (e.g. a page's or a process's lifetime); a call then rejects with its reason. */
  readonly signal?: AbortSignal;
  /** Each call's timeout in ms, retries and body read included (E_TIMEOUT); 0 = none. Default 120 000. */
  readonly timeoutMs?: number;
  /** When failed requests are sent again (see README); `false` sends each once. Default 3 attempts. */
  readonly retry?: RetryOptions | false;
  /** Sleep, clock and jitter, for tests. */
  readonly timing?: Timing;
}

/** Longer than the server's own processing timeout (60 s by default), whose 503 then comes first. */
const DEFAULT_TIMEOUT_MS = 120_000;

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
  readonly limits: {
    readonly maxBytes: number;
    readonly maxPixels: number;
    /** Frames of an animated image or pages of a TIFF. */
    readonly maxFrames: number;
    readonly minSide: number;
  };
  /** `local`: no login; `accounts`: a session cookie and the CSRF header on unsafe requests. */
  readonly auth: { readonly mode: 'local' | 'accounts' };
  /** The server's detection settings, for an on-device engine to find what the server finds. */
  readonly detection: DetectionConfig;
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

/**
 * A detect or anonymizeJson call: with `onProgress`, the server streams where the work stands
 * (NDJSON, `Accept: application/x-ndjson`) and the listener hears each report before the call
 * resolves. A server that does not stream answers plain JSON, and the listener hears nothing.
 */
export interface ProcessCallOptions extends CallOptions {
  readonly onProgress?: (progress: Progress) => void;
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

/** Every method takes `call` last: `{ signal, timeoutMs, retry }` for that call alone. */
export interface NestorClient {
  detect(image: ImageInput, options?: RequestOptions, call?: ProcessCallOptions): Promise<DetectionResult>;
  anonymize(image: ImageInput, options?: RequestOptions, call?: CallOptions): Promise<AnonymizedImage>;
  anonymizeJson(
    image: ImageInput,
    options?: RequestOptions,
    call?: ProcessCallOptions,
  ): Promise<AnonymizeJsonResult>;
  models(call?: CallOptions): Promise<ModelInfo[]>;
  health(call?: CallOptions): Promise<{ status: 'ok' }>;
  ready(call?: CallOptions): Promise<ReadyStatus>;
  appConfig(call?: CallOptions): Promise<AppConfig>;
  /** `POST /v1/jobs`: one video, or several images → the job's id (the work runs on the server). */
  createJob(
    files: ImageInput | readonly ImageInput[],
    options?: JobOptions,
    call?: CallOptions,
  ): Promise<{ id: string }>;
  /** `GET /v1/jobs/:id`: state, progress, ETA, error. */
  job(id: string, call?: CallOptions): Promise<JobStatus>;
  /** `GET /v1/jobs/:id/result?part=detections`: fetch it before `jobResult` (which deletes the job). */
  jobDetections(id: string, call?: CallOptions): Promise<VideoDetections | BatchDetections>;
  /** `GET /v1/jobs/:id/result`: the file; the server then deletes the job. */
  jobResult(id: string, call?: CallOptions): Promise<JobResult>;
  /** `DELETE /v1/jobs/:id`: cancels the job and deletes its files. */
  deleteJob(id: string, call?: CallOptions): Promise<void>;
  /** Polls `GET /v1/jobs/:id` until the job completes (its status) or fails (its error, thrown). */
  waitForJob(id: string, options?: WaitForJobOptions): Promise<JobStatus>;
  /** `waitForJob`, then the detections and the file (the server then deletes the job). */
  downloadJob(id: string, options?: WaitForJobOptions): Promise<JobOutput>;
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

/** The MIME type of an answer, without its parameters. */
const mimeTypeOf = (response: Response): string =>
  (response.headers.get('content-type') ?? 'application/octet-stream').split(';')[0]!.trim();

/** A `detect` job's file is its detections JSON (apps/server/src/jobs/process.ts `DETECTIONS_FILE`). */
const DETECTIONS_FILE = 'detections.json';

/**
 * A typed client of the Nestor REST API; every failure is a thrown `NestorError`, but for an abort
 * through a `signal`, which rejects with the signal's reason (as `fetch` does).
 */
export function createClient(options: ClientOptions): NestorClient {
  const base = String(options.baseUrl).replace(/\/+$/, '');
  const timing = options.timing ?? SYSTEM_TIMING;
  const send = createTransport({
    base,
    // Looked up per call, and never called as a method: browsers refuse `fetch` with another `this`.
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    timeoutMs: checkTimeout('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    retry: retryPolicy(DEFAULT_RETRY, options.retry),
    timing,
  });
  const clientSignals: readonly AbortSignal[] = options.signal ? [options.signal] : [];
  const signalsOf = (call: CallOptions) => (call.signal ? [...clientSignals, call.signal] : clientSignals);
  const request = <T>(spec: ApiRequest<T>, call: CallOptions = {}) => send(spec, call, signalsOf(call));

  /** The JSON answer of a GET, or of a POST of `body`. */
  const json = <T>(path: string, call?: CallOptions, body?: () => FormData): Promise<T> =>
    request(
      {
        method: body ? 'POST' : 'GET',
        path,
        accept: 'application/json',
        ...(body ? { body } : {}),
        read: async (response, url) => (await readJson(response, url)) as T,
      },
      call,
    );

  /** A processing POST: plain JSON, or streamed with its progress when the call listens for it. */
  const processed = <T>(path: string, body: () => FormData, call: ProcessCallOptions): Promise<T> => {
    const { onProgress, ...rest } = call;
    if (!onProgress) return json<T>(path, rest, body);
    return request(
      {
        method: 'POST',
        path,
        // A server that does not stream answers JSON.
        accept: `${NDJSON}, application/json`,
        body,
        read: async (response, url) =>
          (response.headers.get('content-type') ?? '').startsWith(NDJSON)
            ? ((await readStreamed(response, url, onProgress)) as T)
            : ((await readJson(response, url)) as T),
      },
      rest,
    );
  };

  const jobPath = (id: string) => `/v1/jobs/${encodeURIComponent(id)}`;

  const deletion = (id: string): ApiRequest<void> => ({
    method: 'DELETE',
    path: jobPath(id),
    accept: 'application/json',
    // A 404 after a retry: the attempt that broke off had deleted it.
    answers: (status, attempt) => status === 404 && attempt > 1,
    read: async (response) => {
      await response.body?.cancel();
    },
  });

  const job = (id: string, call?: CallOptions) => json<JobStatus>(jobPath(id), call);

  const jobDetections = (id: string, call?: CallOptions) =>
    json<VideoDetections | BatchDetections>(`${jobPath(id)}/result?part=detections`, call);

  const jobResult = (id: string, call?: CallOptions) =>
    request<JobResult>(
      {
        method: 'GET',
        path: `${jobPath(id)}/result`,
        accept: '*/*',
        // Delivering the file deletes the job: a second GET would find nothing.
        idempotent: false,
        read: async (response) => {
          const disposition = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '');
          return {
            blob: await response.blob(),
            mimeType: mimeTypeOf(response),
            fileName: disposition?.[1] ?? 'result',
          };
        },
      },
      call,
    );

  async function waitFor(id: string, wait: WaitForJobOptions = {}): Promise<JobStatus> {
    const { signal, dispose } = callSignal(wait.signal ? [...clientSignals, wait.signal] : clientSignals);
    const poller = {
      status: (jobId: string, polling: AbortSignal) => job(jobId, { signal: polling }),
      // The cancel must go out although the wait's signals have aborted.
      cancel: (jobId: string) => send(deletion(jobId), {}, []),
      sleep: timing.sleep,
    };
    try {
      return await waitForJob(poller, id, signal, wait);
    } finally {
      dispose();
    }
  }

  return {
    detect: (image, opts = {}, call = {}) =>
      processed<DetectionResult>('/v1/detect', () => formData(image, opts), call),

    anonymize: (image, opts = {}, call = {}) =>
      request(
        {
          method: 'POST',
          path: '/v1/anonymize',
          accept: 'image/*',
          body: () => formData(image, opts),
          read: async (response) => ({
            bytes: new Uint8Array(await response.arrayBuffer()),
            mimeType: mimeTypeOf(response),
            counts: parseCounts(response.headers.get('x-nestor-counts')),
            timings: parseServerTiming(response.headers.get('server-timing')),
          }),
        },
        call,
      ),

    anonymizeJson: (image, opts = {}, call = {}) =>
      processed<AnonymizeJsonResult>('/v1/anonymize', () => formData(image, opts), call),

    models: async (call) => (await json<{ models: ModelInfo[] }>('/v1/models', call)).models,

    health: (call) => json<{ status: 'ok' }>('/healthz', call),

    appConfig: (call) => json<AppConfig>('/v1/app-config', call),

    createJob: (files, opts = {}, call = {}) =>
      json<{ id: string }>('/v1/jobs', call, () => formData(files, opts)),

    job,

    jobDetections,

    jobResult,

    deleteJob: (id, call) => request(deletion(id), call),

    waitForJob: waitFor,

    async downloadJob(id, wait = {}) {
      const status = await waitFor(id, wait);
      const call = wait.signal ? { signal: wait.signal } : {};
      const detections = await jobDetections(id, call);
      if (status.output?.fileName === DETECTIONS_FILE) return { status, detections };
      return { status, detections, file: await jobResult(id, call) };
    },

    ready: (call) =>
      request<ReadyStatus>(
        {
          method: 'GET',
          path: '/readyz',
          accept: 'application/json',
          answers: (status) => status === 503,
          read: async (response, url) => {
            const answer = await readJson(response, url);
            if (!isRecord(answer)) throw toError(answer, response.status, url);
            if (answer.status === 'ready' || answer.status === 'starting') return { status: answer.status };
            return { status: 'failed', error: toError(answer, response.status, url) };
          },
        },
        call,
      ),
  };
}
