import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  type AnonymizeResult,
  type Config,
  type DetectionResult,
  LABELS,
  modelsOfClass,
  NestorError,
  type ProcessOptions,
  type Progress,
  toNestorError,
} from '@nestor/core';
import { DEFAULT_MODELS_DIR, MODELS } from '@nestor/models';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { assetRoutes } from './assets.ts';
import { enforceAccess, recordCounts } from './auth/access.ts';
import type { Accounts } from './auth/accounts.ts';
import { privateLogger } from './auth/logging.ts';
import { secureCookies } from './auth/mode.ts';
import { accountRoutes } from './auth/routes.ts';
import { MAX_MULTIPART_FIELDS, multipartError, toHttpError } from './errors.ts';
import { enforceFeatures } from './features.ts';
import { createJobs, type Jobs, jobRoutes } from './jobs/index.ts';
import { createLimiter, processingSlots, withDeadline } from './limiter.ts';
import { createMetrics } from './metrics.ts';
import { FIELD_BYTES, fieldValue, optionsFromFields } from './options.ts';
import type { CancellablePipeline, PipelineCall } from './pool.ts';
import { NDJSON, streamProgress, wantsProgress } from './progress-stream.ts';
import {
  anonymizeJsonSchema,
  detectionResultSchema,
  errorSchema,
  imageBodySchema,
  modelsSchema,
  optionsQuerySchema,
  statusSchema,
  streamedLineSchema,
} from './schemas.ts';
import { onClose, onSettled } from './settled.ts';
import { memoryStatsStore, recordResult, type StatsStore, statsPlugin } from './stats.ts';
import { webApp } from './web.ts';

export interface AppOptions {
  readonly nestor: CancellablePipeline;
  readonly config: Config;
  /** fastify's logger settings; silent when absent. */
  readonly logger?: FastifyServerOptions['logger'];
  /** Job queue and storage; default: the queue the config asks for, logging to the app's logger. */
  readonly jobs?: Jobs;
  /** Where the in-process job thread loads its models; default: the models package's folder. */
  readonly modelsDir?: string;
  /** Accounts over the database: required when `auth.mode` is `accounts`. */
  readonly accounts?: Accounts;
  /** Where the dashboard's statistics are kept (the database's statsRepository); default: memory. */
  readonly stats?: StatsStore;
}

/** Prometheus text of an app; in accounts mode only this serves it (on the internal listener). */
const metricsRenderers = new WeakMap<FastifyInstance, () => Promise<{ contentType: string; body: string }>>();
export function renderMetrics(app: FastifyInstance): Promise<{ contentType: string; body: string }> {
  const render = metricsRenderers.get(app);
  if (!render) throw new Error('Not an app made by buildApp');
  return render();
}

type Readiness =
  | { readonly state: 'starting' }
  | { readonly state: 'ready' }
  | { readonly state: 'failed'; readonly error: NestorError };

const errorResponses = { '4xx': errorSchema, '5xx': errorSchema } as const;

/** Options are validated by `parseProcessOptions` (one message format); route schemas only document them. */
const documentOnly = () => () => true;

/**
 * The body limit of routes that take no image, the account API's JSON included (its parser has no
 * limit of its own: fastify applies the route's). Routes that take images declare theirs, so
 * `request.routeOptions.bodyLimit` is the limit a 413 names.
 */
const SMALL_BODY_LIMIT = 16 * 1024;
/** A multipart field holds up to 1 MiB: room for the JSON of the 1000 regions addRegions/suppress allow. */

/** The REST API as a fastify instance that is not listening (tests use `inject`). */
export function buildApp({
  nestor,
  config,
  logger,
  accounts,
  jobs,
  modelsDir = DEFAULT_MODELS_DIR,
  stats,
}: AppOptions): FastifyInstance {
  const maxBytes = config.limits.maxBytes;
  const app = Fastify({
    logger: privateLogger(logger),
    bodyLimit: SMALL_BODY_LIMIT,
    trustProxy: config.server.trustProxy,
  });

  const metrics = createMetrics();
  const limiter = createLimiter({
    concurrency: processingSlots(config.server.concurrency),
    queue: config.server.queue,
  });
  /**
   * Heavy work goes through the limiter under the deadline, which stops it (and then frees its
   * slot); so does its client leaving, since nobody would receive the answer.
   */
  const limited = <T>(reply: FastifyReply, work: (signal: AbortSignal) => Promise<T>): Promise<T> =>
    withDeadline(
      config.server.timeoutMs,
      (signal) => limiter.run(() => work(signal), signal),
      clientGone(reply),
    );
  const started = new WeakMap<FastifyRequest, number>();
  /** The status of a streamed answer's failure line: the request counts with it, not with the 200 it began with. */
  const streamedStatus = new WeakMap<FastifyRequest, number>();
  app.addHook('onRequest', async (request, reply) => {
    started.set(request, performance.now());
    metrics.inFlight.inc();
    // 'close' also comes when the client leaves before the answer, where onResponse never runs.
    onClose(reply, () => metrics.inFlight.dec());
  });
  // Requests whose client left mid-body are counted too, with the status of their abort.
  onSettled(app, (request, reply) => {
    metrics.request(
      request.routeOptions.url ?? 'unmatched',
      request.method,
      streamedStatus.get(request) ?? reply.statusCode,
      (performance.now() - (started.get(request) ?? performance.now())) / 1000,
    );
  });
  // After the metrics hooks, so a refused request is still counted (and in-flight stays balanced).
  enforceFeatures(app, config.features);
  if (config.auth.mode === 'accounts' && !accounts) {
    throw new NestorError('E_INVALID_CONFIG', 'auth.mode "accounts" needs the accounts database');
  }
  // Every route declares its role (registration fails otherwise); each request is checked against it.
  const access = enforceAccess(
    app,
    config.auth.mode === 'accounts' && accounts
      ? {
          mode: 'accounts',
          accounts,
          apiKeys: config.features.technicalApi,
          processingPerMinute: config.auth.processingPerMinute,
        }
      : { mode: 'local' },
  );

  let readiness: Readiness = { state: 'starting' };
  app.addHook('onReady', async () => {
    // Not awaited: the server answers (readyz 503) while the models load.
    void nestor.warmUp().then(
      () => {
        readiness = { state: 'ready' };
        metrics.modelsLoaded({ ok: true });
        app.log.info('models loaded');
      },
      (error: unknown) => {
        readiness = { state: 'failed', error: toNestorError(error) };
        metrics.modelsLoaded({ ok: false, code: readiness.error.code });
        app.log.error({ err: error }, 'model warm-up failed');
      },
    );
  });

  // Only images and multipart are accepted: no JSON or text parser is left to reach a route.
  app.removeAllContentTypeParsers();
  // No limit of their own: the route's applies (maxBytes where images are taken).
  for (const type of ['application/octet-stream', /^image\//]) {
    app.addContentTypeParser(type, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  }
  app.register(multipart, {
    limits: {
      fileSize: maxBytes,
      files: 1,
      fields: MAX_MULTIPART_FIELDS,
      fieldSize: FIELD_BYTES,
      parts: MAX_MULTIPART_FIELDS + 2,
    },
  });

  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Nestor API',
        version: '0.1.0',
        description: 'Finds faces and licence plates in images and anonymizes them.',
      },
    },
  });
  app.register(swaggerUi, { routePrefix: '/docs' });

  /** An error as it is answered (status and body), counted and logged: the error handler's, and a stream's after it began. */
  const failure = (thrown: unknown, request: FastifyRequest) => {
    const answer = toHttpError(thrown, request.routeOptions.bodyLimit);
    const { status, error } = answer;
    metrics.error(error.code);
    if (status >= 500) request.log.error({ err: error }, error.code);
    else request.log.info({ code: error.code }, 'request refused');
    return answer;
  };
  /** A failure after a streamed answer began: its line's status and body, and the status it counts with. */
  const streamFailure = (thrown: unknown, request: FastifyRequest) => {
    const answer = failure(thrown, request);
    streamedStatus.set(request, answer.status);
    return answer;
  };
  app.setErrorHandler((thrown, request, reply) => {
    const { status, body, error } = failure(thrown, request);
    // A retry is worth it once some of the queue has drained; not after E_TIMEOUT, which it would meet again.
    if (error.code === 'E_BUSY') reply.header('retry-after', '2');
    const retryAfter = error.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    return reply.status(status).type('application/json').send(body);
  });
  app.setNotFoundHandler(async () => {
    throw new NestorError('E_NOT_FOUND');
  });

  app.register(async (routes) => {
    routes.get(
      '/healthz',
      {
        config: { role: 'public' },
        schema: { summary: 'Liveness', tags: ['health'], response: { 200: statusSchema } },
      },
      async () => ({ status: 'ok' }),
    );

    const metricsText = async () => {
      metrics.queued.set(limiter.waiting);
      metrics.queueAge.set(limiter.oldestWaitMs / 1000);
      return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
    };
    metricsRenderers.set(app, metricsText);
    // With accounts, metrics leave the public port for the internal listener (main.ts).
    if (config.auth.mode === 'local')
      routes.get(
        '/metrics',
        {
          config: { role: 'public' },
          schema: {
            summary:
              'Prometheus metrics (requests, latency per route and stage, detections, errors, event loop)',
            tags: ['health'],
            produces: ['text/plain'],
          },
        },
        async (_request, reply) => {
          const { contentType, body } = await metricsText();
          return reply.type(contentType).send(body);
        },
      );

    routes.get(
      '/readyz',
      {
        config: { role: 'public' },
        schema: {
          summary: 'Readiness: 200 once the models are loaded',
          tags: ['health'],
          response: { 200: statusSchema, 503: statusSchema },
        },
      },
      async (_request, reply) => {
        const now = readiness;
        if (now.state === 'ready') return { status: 'ready' };
        reply.status(503);
        if (now.state === 'starting') return { status: 'starting' };
        return { status: 'failed', error: toHttpError(now.error, maxBytes).body.error };
      },
    );

    routes.get(
      '/v1/models',
      {
        config: { role: 'public' },
        schema: { summary: 'The model manifest', tags: ['models'], response: { 200: modelsSchema } },
      },
      async () => {
        const active = new Set(config.targets.flatMap((l) => modelsOfClass(config.classes[l])));
        return {
          models: MODELS.map((m) => ({
            id: m.id,
            label: m.label,
            description: m.description,
            sha256: m.sha256,
            source: m.source,
            active: active.has(m.id),
          })),
        };
      },
    );

    const processing = {
      bodyLimit: maxBytes,
      validatorCompiler: documentOnly,
      onRequest: async (_request: FastifyRequest, reply: FastifyReply) => {
        // Results describe people's images: no cache may keep them.
        reply.header('cache-control', 'no-store');
      },
    };

    const detect = {
      ...processing,
      config: { role: 'user', scope: 'detect' } as const,
      schema: {
        summary: 'Find faces and plates; returns the detections JSON',
        tags: ['images'],
        querystring: optionsQuerySchema,
        body: imageBodySchema,
        response: {
          200: {
            description:
              'The detections JSON; with Accept: application/x-ndjson, progress lines and then the result (see streamedLineSchema)',
            content: {
              'application/json': { schema: detectionResultSchema },
              [NDJSON]: { schema: streamedLineSchema(detectionResultSchema) },
            },
          },
          ...errorResponses,
        },
      },
    };
    /** A request's pipeline call: its deadline's signal, and the stream's listener when it streams. */
    const pipelineCall = (signal: AbortSignal, onProgress?: (progress: Progress) => void): PipelineCall =>
      onProgress ? { signal, onProgress } : { signal };
    /** A result's counts go to the metrics, the account's counters and the statistics. */
    const recorded = <T extends DetectionResult>(request: FastifyRequest, result: T): T => {
      metrics.result(result);
      recordCounts(request, result);
      recordResult(request, result);
      return result;
    };
    const detectHandler = async (request: FastifyRequest, reply: FastifyReply) => {
      const { bytes, options } = await readRequest(request);
      const run = (onProgress?: (progress: Progress) => void) =>
        limited(reply, (signal) => nestor.detect(bytes, options, pipelineCall(signal, onProgress)));
      if (wantsProgress(request)) {
        return streamProgress(
          reply,
          run,
          (result) => recorded(request, result),
          (thrown) => streamFailure(thrown, request),
        );
      }
      return recorded(request, await run());
    };
    routes.post('/v1/detect', detect, detectHandler);
    routes.post(
      '/detect',
      { ...detect, schema: { ...detect.schema, summary: 'Alias of /v1/detect', deprecated: true } },
      detectHandler,
    );

    const anonymize = {
      ...processing,
      config: { role: 'user', scope: 'anonymize' } as const,
      schema: {
        summary:
          'Redact faces and plates; returns the image, JSON with Accept: application/json, or its progress then JSON with Accept: application/x-ndjson',
        tags: ['images'],
        querystring: optionsQuerySchema,
        body: imageBodySchema,
        response: {
          200: {
            description:
              'The anonymized image (headers Server-Timing and X-Nestor-Counts), the detections JSON with the image in base64, or progress lines then that JSON',
            content: {
              'application/json': { schema: anonymizeJsonSchema },
              [NDJSON]: { schema: streamedLineSchema(anonymizeJsonSchema) },
              'image/*': { schema: { type: 'string', format: 'binary' } },
            },
          },
          ...errorResponses,
        },
      },
    };
    /** The JSON answer of an anonymization: the detections, and the image in base64. */
    const anonymizeJson = (out: AnonymizeResult) => ({
      ...out.result,
      image: { ...out.result.image },
      output: {
        format: out.format,
        mimeType: out.mimeType,
        base64: Buffer.from(out.bytes).toString('base64'),
      },
    });
    const anonymizeHandler = async (request: FastifyRequest, reply: FastifyReply) => {
      const { bytes, options } = await readRequest(request);
      const run = (onProgress?: (progress: Progress) => void) =>
        limited(reply, (signal) => nestor.anonymize(bytes, options, pipelineCall(signal, onProgress)));
      if (wantsProgress(request)) {
        return streamProgress(
          reply,
          run,
          (out) => {
            recorded(request, out.result);
            return anonymizeJson(out);
          },
          (thrown) => streamFailure(thrown, request),
        );
      }
      const out = await run();
      const result = recorded(request, out.result);
      reply.header('server-timing', serverTiming(result)).header('x-nestor-counts', countsHeader(result));
      if (wantsJson(request)) return anonymizeJson(out);
      return reply
        .type(out.mimeType)
        .send(Buffer.from(out.bytes.buffer, out.bytes.byteOffset, out.bytes.length));
    };
    routes.post('/v1/anonymize', anonymize, anonymizeHandler);
    routes.post(
      '/predict',
      { ...anonymize, schema: { ...anonymize.schema, summary: 'Alias of /v1/anonymize', deprecated: true } },
      anonymizeHandler,
    );
  });

  // Sign-in, one-time credentials, API keys, users and the audit log (JSON bodies only here).
  app.register(accountRoutes, {
    config,
    accounts,
    principalOf: access.principalOf,
    secureCookies: secureCookies(config),
  });
  // Models and the onnxruntime-web runtime for the on-device engine.
  app.register(assetRoutes);
  // The web app (apps/web/out) and GET /v1/app-config on the same port.
  app.register(webApp, { config });

  // Long work (videos, batches): POST/GET/DELETE /v1/jobs.
  app.register(jobRoutes, {
    config,
    metrics,
    ...(jobs ?? createJobs(config, modelsDir, app.log)),
    // A job belongs to the account that started it (local mode: nobody, so everyone on loopback).
    ownerOf: async (request) => {
      const principal = await access.principalOf(request);
      return principal && principal.kind !== 'local' ? principal.user.id : undefined;
    },
  });
  // Counts processed requests for the dashboard and serves GET /v1/stats (admins, features.dashboard).
  statsPlugin(app, { store: stats ?? memoryStatsStore(), config });
  return app;
}

/** The image and the options of a request: multipart (`file` + option fields) or a raw image body. */
async function readRequest(request: FastifyRequest): Promise<{ bytes: Uint8Array; options: ProcessOptions }> {
  const query = request.query as Record<string, unknown>;
  if (!request.isMultipart()) {
    const body = request.body;
    if (!(body instanceof Uint8Array) || body.length === 0) {
      throw new NestorError(
        'E_EMPTY_INPUT',
        'The request has no image: send its bytes or a multipart field "file"',
      );
    }
    return { bytes: body, options: optionsFromFields(query) };
  }
  const fields: [string, unknown][] = Object.entries(query);
  let bytes: Uint8Array | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        fields.push([part.fieldname, fieldValue(part)]);
      } else if (part.fieldname === 'file') {
        bytes = await part.toBuffer();
      } else {
        throw new NestorError(
          'E_BAD_REQUEST',
          `The image goes in the multipart field "file", not "${part.fieldname}"`,
        );
      }
    }
  } catch (error) {
    throw multipartError(error, 'Send one image per request (POST /v1/jobs takes several)', 'request');
  }
  if (!bytes || bytes.length === 0) {
    throw new NestorError('E_EMPTY_INPUT', 'The multipart body has no (or an empty) field "file"');
  }
  return { bytes, options: optionsFromFields(Object.fromEntries(fields)) };
}

function wantsJson(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '')
    .split(',')
    .some((type) => type.split(';')[0]!.trim().toLowerCase() === 'application/json');
}

function serverTiming({ timings: t }: DetectionResult): string {
  return `decode;dur=${t.decodeMs}, detect;dur=${t.detectMs}, redact;dur=${t.redactMs}, encode;dur=${t.encodeMs}, total;dur=${t.totalMs}`;
}

function countsHeader({ counts }: DetectionResult): string {
  return LABELS.map((l) => `${l}=${counts[l]}`).join(', ');
}

/** A signal that aborts when the client closes the connection before its answer is written. */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  onClose(reply, () => {
    if (!reply.raw.writableFinished) {
      controller.abort(
        new NestorError('E_BAD_REQUEST', 'The client closed the connection before the answer'),
      );
    }
  });
  return controller.signal;
}
