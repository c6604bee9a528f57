import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type ModelSpec, NestorError } from '@nestor/core';
import { ORT_RUNTIME_FILES } from '@nestor/engine-web';
import { DEFAULT_MODELS_DIR, MODELS, prepareModel, sha256 } from '@nestor/models';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface AssetOptions {
  /** The prepared models folder; a model missing there is placed from its npm package first. */
  readonly modelsDir?: string;
  /** onnxruntime-web's `dist/` folder. */
  readonly ortDir?: string;
}

/** onnxruntime-web's `dist/` folder, found through the package's own exports. */
export const DEFAULT_ORT_DIR = path.dirname(
  createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'),
);

/** Route config shared by these routes; a variable, so it is not checked against one declared shape. */
const PUBLIC = { role: 'public' } as const;

/** Model URLs carry the hash (`?v=`), so a file at one URL never changes. */
const MODEL_CACHE = 'public, max-age=31536000, immutable';
/** Runtime URLs carry no version: browsers keep them a day, then revalidate by ETag. */
const RUNTIME_CACHE = 'public, max-age=86400';

const RUNTIME_TYPES: Readonly<Record<string, string>> = {
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** Parameters are checked by the handlers (unknown file → 404); the schemas only document them. */
const documentOnly = () => () => true;

/**
 * What the on-device engine downloads: the model files of the manifest (`/models/<file>`) and the
 * onnxruntime-web runtime (`/ort/<file>`). Only GETs of public, fixed files: no image ever comes here.
 */
export async function assetRoutes(app: FastifyInstance, options: AssetOptions = {}): Promise<void> {
  const modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
  const ortDir = options.ortDir ?? DEFAULT_ORT_DIR;
  const models = new Map(MODELS.map((m) => [m.file, m]));
  const runtime = new Set<string>(ORT_RUNTIME_FILES);
  // Each file is hashed once per process: models against the manifest, runtime files for their ETag.
  const verifiedModels = new Map<string, Promise<string>>();
  const runtimeHashes = new Map<string, Promise<string>>();

  const verifiedModel = (spec: ModelSpec): Promise<string> => {
    let done = verifiedModels.get(spec.file);
    if (!done) {
      done = verifyModel(spec, modelsDir);
      verifiedModels.set(spec.file, done);
      done.catch(() => verifiedModels.delete(spec.file));
    }
    return done;
  };

  app.get(
    '/models/:file',
    {
      config: PUBLIC,
      validatorCompiler: documentOnly,
      schema: {
        summary: 'A model file of the manifest, for the on-device engine (sha256-checked by the browser)',
        tags: ['assets'],
        params: {
          type: 'object',
          required: ['file'],
          properties: { file: { type: 'string', enum: MODELS.map((m) => m.file) } },
        },
        querystring: {
          type: 'object',
          properties: { v: { type: 'string', description: 'The sha256 prefix; only makes the URL unique' } },
        },
        response: {
          200: {
            description: 'The ONNX file; ETag is its sha256',
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          },
          304: { description: 'Not modified', type: 'null' },
        },
      },
    },
    async (request, reply) => {
      const spec = models.get(fileParam(request));
      if (!spec) throw new NestorError('E_NOT_FOUND', 'No such model file');
      const file = await verifiedModel(spec);
      return sendFixed(request, reply, {
        file,
        etag: spec.sha256,
        type: 'application/octet-stream',
        cache: MODEL_CACHE,
        bytes: spec.bytes,
      });
    },
  );

  app.get(
    '/ort/:file',
    {
      config: PUBLIC,
      validatorCompiler: documentOnly,
      schema: {
        summary: 'A file of the onnxruntime-web runtime (JavaScript module or WebAssembly)',
        tags: ['assets'],
        params: {
          type: 'object',
          required: ['file'],
          properties: { file: { type: 'string', enum: [...ORT_RUNTIME_FILES] } },
        },
        response: {
          200: {
            description: 'The file; ETag is its sha256',
            content: {
              'text/javascript': { schema: { type: 'string' } },
              'application/wasm': { schema: { type: 'string', format: 'binary' } },
            },
          },
          304: { description: 'Not modified', type: 'null' },
        },
      },
    },
    async (request, reply) => {
      const name = fileParam(request);
      if (!runtime.has(name)) throw new NestorError('E_NOT_FOUND', 'No such runtime file');
      const file = path.join(ortDir, name);
      let hash = runtimeHashes.get(name);
      if (!hash) {
        hash = readFile(file).then((bytes) => sha256(bytes));
        runtimeHashes.set(name, hash);
        hash.catch(() => runtimeHashes.delete(name));
      }
      return sendFixed(request, reply, {
        file,
        etag: await hash,
        type: RUNTIME_TYPES[path.extname(name)]!,
        cache: RUNTIME_CACHE,
      });
    },
  );
}

const fileParam = (request: FastifyRequest): string => (request.params as { file: string }).file;

async function verifyModel(spec: ModelSpec, dir: string): Promise<string> {
  const file = path.join(dir, spec.file);
  if (!existsSync(file)) await prepareModel(spec, dir);
  if (sha256(await readFile(file)) !== spec.sha256) {
    throw new NestorError(
      'E_MODEL_INTEGRITY',
      `${spec.file} does not match the sha256 recorded for ${spec.id}`,
    );
  }
  return file;
}

/** A file that never changes under its URL: strong ETag, 304 on a match, readable from any origin. */
function sendFixed(
  request: FastifyRequest,
  reply: FastifyReply,
  asset: { file: string; etag: string; type: string; cache: string; bytes?: number },
) {
  const etag = `"${asset.etag}"`;
  reply
    .header('etag', etag)
    .header('cache-control', asset.cache)
    .header('x-content-type-options', 'nosniff')
    // Public, fixed files: pages on other origins and cross-origin-isolated pages (COEP) may load them.
    .header('access-control-allow-origin', '*')
    .header('cross-origin-resource-policy', 'cross-origin')
    // ORT's worker script must itself be cross-origin isolated to start from an isolated page (web.ts).
    .header('cross-origin-embedder-policy', 'require-corp');
  const match = request.headers['if-none-match'];
  if (match && (match.trim() === '*' || match.split(',').some((t) => t.trim() === etag))) {
    return reply.code(304).send();
  }
  if (asset.bytes !== undefined) reply.header('content-length', asset.bytes);
  return reply.type(asset.type).send(createReadStream(asset.file));
}
