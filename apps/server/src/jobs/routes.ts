import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Config, NestorError, type OptionFacts, sniffImageFormat } from '@nestor/core';
import { VIDEO_MIME_TYPES } from '@nestor/video';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MAX_MULTIPART_FIELDS, multipartError, publicError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import { fieldValue, JOB_OPTION_NAMES, optionsFromFields } from '../options.ts';
import { errorSchema, jobDetectionsSchema, jobOptionsProperties, jobOptionsQuerySchema } from '../schemas.ts';
import { DETECTIONS_FILE } from './process.ts';
import { HEAD_BYTES, sniffVideo } from './sniff.ts';
import { JobStorage } from './storage.ts';
import type { JobKind, JobQueue, JobStatus } from './types.ts';

export interface JobRoutesOptions {
  readonly config: Config;
  readonly queue: JobQueue;
  readonly storage: JobStorage;
  readonly metrics?: Metrics;
  /** The identity of a request (its account), recorded as the job's owner; only the owner sees a job. */
  readonly ownerOf?: (request: FastifyRequest) => Promise<string | undefined>;
}

/** Every job route needs a signed-in user (or local mode); API keys need the anonymize scope. */
const USER_ROUTE = { role: 'user', scope: 'anonymize' } as const;
const errorResponses = { '4xx': errorSchema, '5xx': errorSchema } as const;
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

/** What GET /v1/jobs/:id/result can answer: the detections, a ZIP of images, or a video. */
export const RESULT_MIME_TYPES = ['application/json', 'application/zip', ...Object.values(VIDEO_MIME_TYPES)];

export const jobStatusSchema = {
  type: 'object',
  required: ['id', 'kind', 'state', 'progress', 'attempts'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['video', 'images'] },
    state: { type: 'string', enum: ['queued', 'active', 'completed', 'failed'] },
    progress: { type: 'number', minimum: 0, maximum: 1 },
    etaSeconds: { type: 'number' },
    attempts: { type: 'integer', description: 'Runs so far (a retried job counts each)' },
    error: errorSchema.properties.error,
    output: {
      type: 'object',
      description: 'A completed job only: the file GET /v1/jobs/{id}/result sends.',
      required: ['fileName', 'mimeType', 'bytes'],
      properties: { fileName: { type: 'string' }, mimeType: { type: 'string' }, bytes: { type: 'integer' } },
    },
  },
} as const;

async function readHead(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const head = new Uint8Array(HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Jobs for long work: `POST /v1/jobs` (multipart: one video, or several images, plus the options
 * of /v1/anonymize) answers 202 with an id; `GET /v1/jobs/:id` tells state, progress and ETA;
 * `GET /v1/jobs/:id/result` streams the anonymized video (or a ZIP of the images) and then deletes
 * everything of the job; `?part=detections` gives the detections JSON (fetch it first).
 */
export async function jobRoutes(app: FastifyInstance, options: JobRoutesOptions): Promise<void> {
  const { config, queue, storage, metrics } = options;
  if (metrics) {
    metrics.watchJobs(() => queue.counts());
    queue.onFinished((kind, state, seconds) => metrics.jobFinished(kind, state, seconds));
  }
  app.addHook('onClose', async () => {
    await queue.close();
  });

  const visible = async (request: FastifyRequest, id: string): Promise<JobStatus> => {
    // attachValidation: a malformed id names no job (404 below, as an unknown one); ?part is all else checked.
    const invalid = request.validationError;
    if (invalid && invalid.validationContext !== 'params') {
      throw new NestorError('E_INVALID_OPTION', 'Expected "file" or "detections" for part', {
        cause: invalid,
        details: { option: 'part', reason: 'choice', allowed: ['file', 'detections'] } satisfies OptionFacts,
      });
    }
    const status = JobStorage.isId(id) ? await queue.get(id) : undefined;
    const owner = await options.ownerOf?.(request);
    if (!status || (status.owner !== undefined && status.owner !== owner)) {
      throw new NestorError('E_NOT_FOUND', 'No such job (finished jobs are deleted once delivered)');
    }
    return status;
  };
  const noStore = async (_request: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
  };

  app.post(
    '/v1/jobs',
    {
      config: USER_ROUTE,
      onRequest: noStore,
      // Multipart has its own limits (below); this one bounds a body sent without it.
      bodyLimit: config.jobs.maxUploadBytes,
      // Options are validated by parseProcessOptions (one message format); the schema documents them.
      validatorCompiler: () => () => true,
      schema: {
        summary:
          'Start a job: one video, or a batch of images (multipart field "file", repeated); options as form fields or in the query',
        tags: ['jobs'],
        querystring: jobOptionsQuerySchema,
        body: {
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                required: ['file'],
                properties: {
                  file: { type: 'array', items: { type: 'string', format: 'binary' } },
                  ...jobOptionsProperties,
                },
              },
            },
          },
        },
        response: {
          202: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        throw new NestorError('E_BAD_REQUEST', 'Send the files as multipart/form-data, field "file"');
      }
      const id = JobStorage.newId();
      await storage.create(id);
      try {
        const fields: Record<string, unknown> = { ...(request.query as Record<string, unknown>) };
        const inputs: string[] = [];
        const kinds = new Set<JobKind>();
        let total = 0;
        const parts = request.parts({
          limits: {
            fileSize: config.jobs.maxUploadBytes,
            files: config.jobs.maxImages,
            fields: MAX_MULTIPART_FIELDS,
            parts: config.jobs.maxImages + MAX_MULTIPART_FIELDS,
          },
        });
        try {
          for await (const part of parts) {
            if (part.type === 'field') {
              fields[part.fieldname] = fieldValue(part);
              continue;
            }
            if (part.fieldname !== 'file') {
              throw new NestorError(
                'E_BAD_REQUEST',
                `Files go in the multipart field "file", not "${part.fieldname}"`,
              );
            }
            // Stored under a neutral name: what the client called the file never reaches the disk.
            const name = `${String(inputs.length).padStart(5, '0')}${path
              .extname(part.filename ?? '')
              .toLowerCase()
              .replace(/[^.a-z0-9]/g, '')}`;
            const file = path.join(storage.inputDir(id), name);
            await pipeline(part.file, createWriteStream(file, { mode: 0o600 }));
            if (part.file.truncated) {
              throw new NestorError(
                'E_INPUT_TOO_LARGE',
                `A file is larger than the limit of ${config.jobs.maxUploadBytes} bytes`,
              );
            }
            total += part.file.bytesRead;
            if (total > config.jobs.maxUploadBytes) {
              throw new NestorError(
                'E_INPUT_TOO_LARGE',
                `The upload is larger than the limit of ${config.jobs.maxUploadBytes} bytes`,
              );
            }
            const head = await readHead(file);
            if (head.length === 0) throw new NestorError('E_EMPTY_INPUT', 'A file is empty');
            if (sniffImageFormat(head)) kinds.add('images');
            else if (sniffVideo(head)) kinds.add('video');
            else
              throw new NestorError(
                'E_UNSUPPORTED_MEDIA',
                'A file is neither an image nor a video Nestor reads',
              );
            inputs.push(name);
          }
        } catch (error) {
          throw multipartError(error, `At most ${config.jobs.maxImages} images per job`, 'job');
        }
        if (inputs.length === 0) throw new NestorError('E_EMPTY_INPUT', 'The request has no field "file"');
        if (kinds.size > 1 || (kinds.has('video') && inputs.length > 1)) {
          throw new NestorError('E_BAD_REQUEST', 'A job is one video, or images only');
        }
        const kind: JobKind = kinds.has('video') ? 'video' : 'images';
        const owner = await options.ownerOf?.(request);
        await queue.add({
          id,
          kind,
          inputs,
          options: optionsFromFields(fields, JOB_OPTION_NAMES),
          ...(owner ? { owner } : {}),
        });
        return reply.status(202).header('location', `/v1/jobs/${id}`).send({ id });
      } catch (error) {
        await storage.remove(id);
        throw error;
      }
    },
  );

  app.get(
    '/v1/jobs/:id',
    {
      config: USER_ROUTE,
      onRequest: noStore,
      attachValidation: true,
      schema: {
        summary: 'State, progress (0-1), ETA and error of a job',
        tags: ['jobs'],
        params: idParams,
        response: { 200: jobStatusSchema, ...errorResponses },
      },
    },
    async (request) => {
      const {
        owner: _owner,
        error,
        ...status
      } = await visible(request, (request.params as { id: string }).id);
      if (!error) return status;
      // A server-side failure's message may name files or hosts: the client gets its code's text.
      const shown = publicError(error);
      if (shown.message !== error.message) request.log.warn({ job: status.id, error }, 'job failed');
      return { ...status, error: shown };
    },
  );

  app.get(
    '/v1/jobs/:id/result',
    {
      config: USER_ROUTE,
      onRequest: noStore,
      attachValidation: true,
      schema: {
        summary:
          'The result: the anonymized video or a ZIP of the images (then the job is deleted); ?part=detections for the detections JSON',
        tags: ['jobs'],
        params: idParams,
        querystring: {
          type: 'object',
          properties: { part: { type: 'string', enum: ['file', 'detections'], default: 'file' } },
        },
        response: {
          200: {
            description:
              'The file (a video in its own container, or a ZIP of the images) or, with ?part=detections, the detections JSON',
            content: Object.fromEntries(
              RESULT_MIME_TYPES.map((type) => [
                type,
                {
                  schema:
                    type === 'application/json' ? jobDetectionsSchema : { type: 'string', format: 'binary' },
                },
              ]),
            ),
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const status = await visible(request, id);
      if (status.state !== 'completed' || !status.output) {
        throw new NestorError('E_JOB_NOT_READY', `The job is ${status.state}`);
      }
      const detections = (request.query as { part?: string }).part === 'detections';
      const fileName = detections ? DETECTIONS_FILE : status.output.fileName;
      const file = path.join(storage.outputDir(id), fileName);
      const stream = createReadStream(file);
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', () =>
          reject(new NestorError('E_JOB_NOT_READY', 'The result was already delivered or has expired')),
        );
      });
      reply
        .type(detections ? 'application/json' : status.output.mimeType)
        .header('content-disposition', `attachment; filename="${fileName}"`);
      if (request.method === 'HEAD') {
        // HEAD describes the result without delivering it: the job stays for the GET.
        stream.destroy();
        return reply.send();
      }
      if (!detections || fileName === status.output.fileName) {
        // Delivered: nothing of the job is kept (retention.resultsSeconds covers results never fetched).
        reply.raw.once('finish', () => {
          void queue
            .remove(id)
            .catch((error: unknown) =>
              request.log.error({ err: error, job: id }, 'delivered job not deleted'),
            );
        });
      }
      return reply.send(stream);
    },
  );

  app.delete(
    '/v1/jobs/:id',
    {
      config: USER_ROUTE,
      attachValidation: true,
      schema: {
        summary: 'Cancel a job and delete its files',
        tags: ['jobs'],
        params: idParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const id = (request.params as { id: string }).id;
      await visible(request, id);
      await queue.remove(id);
      return reply.status(204).send();
    },
  );
}

/** What went wrong reading an upload, in words that name the job limits it ran into. */
