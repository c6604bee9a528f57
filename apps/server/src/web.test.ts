import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConfigInput, detectionConfig, parseConfig } from '@nestor/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { toHttpError } from './errors.ts';
import { fakePipeline } from './fake-pipeline.ts';
import { appConfigBody, chooseLocale, pagePath, webApp } from './web.ts';

let root: string;
const apps: FastifyInstance[] = [];

/** The plugin alone over a fake build, with the server's error answers. */
async function serve(input: ConfigInput = {}): Promise<FastifyInstance> {
  const app = Fastify();
  app.setErrorHandler((thrown, _request, reply) => {
    const { status, body } = toHttpError(thrown, 1024);
    return reply.status(status).send(body);
  });
  await app.register(webApp, { config: parseConfig(input), root });
  apps.push(app);
  return app;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'nestor-web-'));
  for (const locale of ['en', 'fr', 'de', 'it']) {
    await mkdir(join(root, locale), { recursive: true });
    await writeFile(join(root, locale, 'index.html'), `<html lang="${locale}"></html>`);
  }
  await mkdir(join(root, '_next/static/chunks'), { recursive: true });
  await writeFile(join(root, '_next/static/chunks/app-1a2b.js'), 'console.log(1)');
  await writeFile(join(root, '404.html'), '<html><h1>Not found</h1></html>');
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await rm(root, { recursive: true, force: true });
});

describe('chooseLocale', () => {
  const all = ['en', 'fr', 'de', 'it'] as const;
  it.each([
    [undefined, undefined, all, 'en'],
    ['fr-CH,fr;q=0.9,en;q=0.8', undefined, all, 'fr'],
    ['de-DE', undefined, all, 'de'],
    ['es-ES,it;q=0.5,en;q=0.4', undefined, all, 'it'],
    ['en;q=0.2,de;q=0.9', undefined, all, 'de'],
    ['*', undefined, all, 'en'],
    ['it;q=0', undefined, ['fr', 'it'], 'fr'],
    ['en-US', undefined, ['fr', 'de', 'it'], 'fr'],
    ['de', 'it', all, 'it'],
    ['de', 'es', all, 'de'],
    ['de', 'en', ['fr', 'de'], 'de'],
    ['garbage;;q=x,,', undefined, ['de'], 'de'],
  ] as const)('Accept-Language %s, cookie %s, offered %j → %s', (accept, cookie, offered, expected) => {
    expect(chooseLocale(accept, cookie, offered)).toBe(expected);
  });
});

describe('the web app on the API port', () => {
  it('/ redirects to the best offered locale, the cookie first', async () => {
    const app = await serve({ locales: ['fr', 'de', 'it'] });
    const redirect = async (headers: Record<string, string>) => {
      const res = await app.inject({ url: '/', headers });
      expect(res.statusCode).toBe(302);
      expect(res.headers.vary).toContain('accept-language');
      return res.headers.location;
    };
    expect(await redirect({ 'accept-language': 'de-CH,de;q=0.9' })).toBe('/de/');
    expect(await redirect({ 'accept-language': 'en-US' })).toBe('/fr/');
    expect(await redirect({ 'accept-language': 'de', cookie: 'a=b; nestor_locale=it' })).toBe('/it/');
  });

  it('serves pages of offered locales and 404s the others', async () => {
    const app = await serve({ locales: ['fr'] });
    const fr = await app.inject({ url: '/fr/' });
    expect(fr.statusCode).toBe(200);
    expect(fr.headers['content-type']).toMatch(/^text\/html/);
    expect(fr.headers['cache-control']).toBe('no-cache');
    expect(fr.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(fr.body).toContain('lang="fr"');
    const en = await app.inject({ url: '/en/', headers: { accept: 'text/html' } });
    expect(en.statusCode).toBe(404);
    expect(en.body).toContain('Not found');
    const json = await app.inject({ url: '/de/' });
    expect(json.statusCode).toBe(404);
    expect(json.json()).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
  });

  it('adds the trailing slash of a page folder and caches hashed assets for good, each cross-origin isolated (a worker chunk must be)', async () => {
    const app = await serve();
    const bare = await app.inject({ url: '/it?x=1' });
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/it/');
    const asset = await app.inject({ url: '/_next/static/chunks/app-1a2b.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(asset.headers['x-content-type-options']).toBe('nosniff');
  });

  it.each([
    '/../package.json',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/en/..%2f..%2fetc/passwd',
    '/nothing-here',
    '/en/nothing/',
    '/%00',
  ])('%s answers 404 without leaving the root', async (url) => {
    const app = await serve();
    const res = await app.inject({ url });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('"name"');
  });

  it.each([
    ['/%2Fevil.com%2F..%2Fen', 404, undefined],
    ['/%5Cevil.com%2F..%2Fen', 404, undefined],
    ['/%2F%2Fevil.com', 404, undefined],
    ['//en', 301, '/en/'],
    ['/%2Fen', 301, '/en/'],
    ['/./en', 301, '/en/'],
  ] as const)('%s redirects only within the site (%i, Location %s)', async (url, status, location) => {
    const app = await serve();
    const res = await app.inject({ url });
    expect(res.statusCode).toBe(status);
    expect(res.headers.location).toBe(location);
  });

  it.each(['/en%5C..%5C..%5Cpackage.json', '/%5Cen/'])('%s (a backslash) answers 404', async (url) => {
    const app = await serve();
    expect((await app.inject({ url })).statusCode).toBe(404);
  });

  it('a locale not offered stays 404 however its path is spelt', async () => {
    const app = await serve({ locales: ['fr'] });
    for (const url of ['//en/', '/./en/', '/%65n/', '/%2Fen/']) {
      expect((await app.inject({ url })).statusCode, url).toBe(404);
    }
    expect((await app.inject({ url: '//fr/' })).statusCode).toBe(200);
  });

  it('pagePath is the decoded, normalised path, or undefined when it could leave the root', () => {
    expect(pagePath('/en//./%64ashboard/?x=1')).toEqual({ segments: ['en', 'dashboard'], folder: true });
    expect(pagePath('/fr')).toEqual({ segments: ['fr'], folder: false });
    for (const url of ['/%2e%2e/x', '/en/../x', '/a%5Cb', '/%00', '/%E0%A4%A']) {
      expect(pagePath(url), url).toBeUndefined();
    }
  });

  it('a malformed escape is refused by the router', async () => {
    const app = await serve();
    expect((await app.inject({ url: '/%E0%A4%A' })).statusCode).toBe(400);
  });

  it('GET /v1/app-config gives locales, features and the option defaults of the config', async () => {
    const input: ConfigInput = {
      locales: ['fr', 'de', 'it'],
      features: { dashboard: false },
      redaction: { method: 'pixelate', strength: 2 },
      classes: { face: { minScore: 0.5 } },
      output: { format: 'webp', quality: 70 },
    };
    const app = await serve(input);
    const res = await app.inject({ url: '/v1/app-config' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toEqual(JSON.parse(JSON.stringify(appConfigBody(parseConfig(input)))));
    expect(body).toMatchObject({
      locales: ['fr', 'de', 'it'],
      features: { technicalApi: true, dashboard: false },
      defaults: {
        targets: ['face', 'plate'],
        method: 'pixelate',
        strength: 2,
        minScore: { face: 0.5, plate: 0.6 },
        format: 'webp',
        quality: 70,
        keepMetadata: false,
      },
      limits: { maxBytes: 52_428_800 },
      auth: { mode: 'local' },
    });
  });

  it('GET /v1/app-config carries the customised detection settings, and no secret or server path', async () => {
    const customised = {
      preset: 'thorough',
      classes: {
        face: {
          minScore: 0.82,
          weights: { 'retinaface-mnet025': 1.5 },
          presets: { fast: { models: ['retinaface-mnet025'], minScore: 0.9 } },
        },
        plate: { context: null, minSize: 16 },
      },
      redaction: { method: 'solid', color: '#112233' },
      limits: { maxPixels: 30_000_000 },
    } satisfies ConfigInput;
    const input: ConfigInput = {
      ...customised,
      modelsDir: '/srv/nestor/models',
      auth: { mode: 'accounts', secretKey: 'c2VydmVyLXNlY3JldC1rZXk=' },
      database: { url: 'postgres://nestor:hunter2@db:5432/nestor' },
      redis: { url: 'redis://:hunter2@redis:6379' },
    };
    const app = await serve(input);
    const res = await app.inject({ url: '/v1/app-config' });
    expect(res.statusCode).toBe(200);
    const { detection } = res.json<{ detection: unknown }>();
    expect(detection).toMatchObject(customised);
    expect(detection).toEqual(JSON.parse(JSON.stringify(detectionConfig(parseConfig(input)))));
    for (const secret of ['hunter2', 'c2VydmVy', '/srv/']) expect(res.body).not.toContain(secret);
  });

  it('is part of buildApp, public, and leaves API 404s as they were', async () => {
    const app = buildApp({ nestor: fakePipeline(), config: parseConfig({}) });
    apps.push(app);
    await app.ready();
    expect((await app.inject({ url: '/v1/app-config' })).statusCode).toBe(200);
    const missing = await app.inject({ url: '/v1/nothing' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
    expect((await app.inject({ url: '/', headers: { 'accept-language': 'it' } })).headers.location).toBe(
      '/it/',
    );
  });
});
