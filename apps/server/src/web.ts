import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import {
  type Config,
  detectionConfig,
  detectionConfigJsonSchema,
  LOCALES,
  type Locale,
  NestorError,
} from '@nestor/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `next build` writes the static web app (apps/web/out). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/out/', import.meta.url));

/** The cookie the language picker sets; it wins over Accept-Language for `/`. */
export const LOCALE_COOKIE = 'nestor_locale';

export interface WebOptions {
  readonly config: Config;
  /** The built app; defaults to apps/web/out. */
  readonly root?: string;
}

/** Route config shared by these routes; a variable, so it is not checked against one declared shape. */
const PUBLIC = { role: 'public' } as const;

/** The body of `GET /v1/app-config`: what the UI needs of this deployment (nothing secret). */
export function appConfigBody(config: Config) {
  return {
    locales: config.locales,
    features: config.features,
    defaults: {
      task: config.task,
      preset: config.preset,
      targets: config.targets,
      method: config.redaction.method,
      strength: config.redaction.strength,
      feather: config.redaction.feather,
      minScore: { face: config.classes.face.minScore, plate: config.classes.plate.minScore },
      format: config.output.format,
      quality: config.output.quality,
      keepMetadata: config.output.keepMetadata,
    },
    limits: config.limits,
    auth: { mode: config.auth.mode },
    // The on-device engine runs with these, so it finds what this server finds.
    detection: detectionConfig(config),
  };
}

/**
 * The locale for `/`: the picker's cookie when offered, else the best `Accept-Language` match
 * (q-values honoured, `fr-CH` matches `fr`), else the first offered locale.
 */
export function chooseLocale(
  acceptLanguage: string | undefined,
  cookie: string | undefined,
  offered: readonly Locale[],
): Locale {
  const isOffered = (tag: string | undefined): tag is Locale => offered.some((l) => l === tag);
  if (isOffered(cookie)) return cookie;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const quality = q ? Number(q.slice(2)) : 1;
      return {
        lang: tag.trim().toLowerCase().split('-')[0],
        quality: Number.isFinite(quality) ? quality : 0,
        index,
      };
    })
    .filter((entry) => entry.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index);
  return ranked.map((entry) => entry.lang).find(isOffered) ?? offered[0]!;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const pair of (header ?? '').split(';')) {
    const [key, value = ''] = pair.trim().split('=');
    if (key === name) return value;
  }
  return undefined;
}

const isKnownLocale = (segment: string): segment is Locale => LOCALES.some((l) => l === segment);

/** Files under `_next/static` carry a content hash in their name: cache them for good. */
const HASHED = /^\/_next\/static\//;

/**
 * Serves the static web app (apps/web/out) and `GET /v1/app-config` on the API's port: `/`
 * redirects to the visitor's locale, pages of locales this deployment does not offer answer 404.
 */
export async function webApp(app: FastifyInstance, { config, root = DEFAULT_WEB_ROOT }: WebOptions) {
  const offered = new Set<Locale>(config.locales);
  // sendFile only: one route below decides what each path means.
  await app.register(fastifyStatic, { root, serve: false });

  app.get(
    '/v1/app-config',
    {
      config: PUBLIC,
      schema: {
        summary:
          'What the web app needs of this deployment: locales, features, option defaults, limits, detection settings',
        tags: ['app'],
        response: { 200: appConfigSchema },
      },
    },
    async () => appConfigBody(config),
  );

  app.get('/', { config: PUBLIC, schema: { hide: true } }, async (request, reply) => {
    const locale = chooseLocale(
      request.headers['accept-language'],
      readCookie(request.headers.cookie, LOCALE_COOKIE),
      config.locales,
    );
    return reply
      .header('vary', 'accept-language, cookie')
      .header('cache-control', 'no-store')
      .redirect(`/${locale}/`, 302);
  });

  const notFound = async (request: FastifyRequest, reply: FastifyReply) => {
    const wantsHtml = (request.headers.accept ?? '').includes('text/html');
    if (wantsHtml && (await isFile(root, '404.html'))) {
      return send(reply.code(404), '404.html');
    }
    throw new NestorError('E_NOT_FOUND');
  };

  const send = (reply: FastifyReply, file: string) =>
    HASHED.test(`/${file}`)
      ? reply
          .header('x-content-type-options', 'nosniff')
          // The on-device engine's worker is a chunk: it starts from an isolated page only when isolated itself.
          .header('cross-origin-embedder-policy', 'require-corp')
          .sendFile(file, { maxAge: '365d', immutable: true })
      : withPageHeaders(reply).sendFile(file, { cacheControl: false });

  app.get('/*', { config: PUBLIC, schema: { hide: true } }, async (request, reply) => {
    const page = pagePath(request.url);
    if (page === undefined) return notFound(request, reply);
    const first = page.segments[0] ?? '';
    if (isKnownLocale(first) && !offered.has(first)) return notFound(request, reply);
    const relative = page.segments.join('/');
    if (page.folder) {
      const index = join(relative, 'index.html');
      return (await isFile(root, index)) ? send(reply, index) : notFound(request, reply);
    }
    if (await isFile(root, relative)) return send(reply, relative);
    // `/fr` → `/fr/` (pages are folders with an index.html); built from the checked segments, so
    // the Location can only name a path on this site.
    if (await isFile(root, join(relative, 'index.html'))) return reply.redirect(`/${relative}/`, 301);
    return notFound(request, reply);
  });
}

/** A path of the static web app: its segments below the root, and whether it names a folder (`/` at the end). */
export interface PagePath {
  readonly segments: readonly string[];
  readonly folder: boolean;
}

/**
 * The page a request URL names, as this module serves it: percent-decoded, empty and `.` segments
 * dropped; undefined when it cannot name a file under the root (a malformed escape, `..`, a
 * backslash or a NUL). features.ts gates pages on this same path, so no spelling slips past it.
 */
export function pagePath(url: string): PagePath | undefined {
  let path: string;
  try {
    path = decodeURIComponent(url.split('?')[0]!);
  } catch {
    // A malformed escape names no file.
    return undefined;
  }
  if (path.includes('\\') || path.includes('\0')) return undefined;
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return undefined;
  return { segments, folder: path.endsWith('/') };
}

function withPageHeaders(reply: FastifyReply): FastifyReply {
  return (
    reply
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header('x-frame-options', 'DENY')
      // Cross-origin isolation lets the on-device engine use threaded WebAssembly.
      .header('cross-origin-opener-policy', 'same-origin')
      .header('cross-origin-embedder-policy', 'require-corp')
  );
}

async function isFile(root: string, relative: string): Promise<boolean> {
  try {
    return (await stat(join(root, relative))).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return false;
    throw error;
  }
}

const number = { type: 'number' } as const;
const appConfigSchema = {
  type: 'object',
  required: ['locales', 'features', 'defaults', 'limits', 'auth', 'detection'],
  properties: {
    locales: { type: 'array', items: { type: 'string', enum: [...LOCALES] } },
    features: { type: 'object', additionalProperties: { type: 'boolean' } },
    defaults: {
      type: 'object',
      required: [
        'task',
        'preset',
        'targets',
        'method',
        'strength',
        'feather',
        'minScore',
        'format',
        'quality',
        'keepMetadata',
      ],
      properties: {
        task: { type: 'string' },
        preset: { type: 'string' },
        targets: { type: 'array', items: { type: 'string' } },
        method: { type: 'string' },
        strength: number,
        feather: number,
        minScore: {
          type: 'object',
          required: ['face', 'plate'],
          properties: { face: number, plate: number },
        },
        format: { type: 'string' },
        quality: number,
        keepMetadata: { type: 'boolean' },
      },
    },
    limits: {
      type: 'object',
      required: ['maxBytes', 'maxPixels', 'maxFrames', 'minSide'],
      properties: { maxBytes: number, maxPixels: number, maxFrames: number, minSide: number },
    },
    auth: {
      type: 'object',
      required: ['mode'],
      properties: { mode: { type: 'string', enum: ['local', 'accounts'] } },
    },
    detection: {
      ...detectionConfigJsonSchema(),
      description:
        'The config keys the on-device engine runs with (preset, targets, classes, redaction, limits), as in the config file; no secret or server-only setting',
    },
  },
} as const;
