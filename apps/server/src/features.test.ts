import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type ConfigInput, parseConfig } from '@nestor/core';
import type { Database } from '@nestor/db';
import { openTestDatabase } from '@nestor/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { code, type Harness, harness, type Session, secretOf, sessionFrom } from './auth/test-support.ts';
import { fakePipeline } from './fake-pipeline.ts';
import { featureOfPage, featureOfRoute, isDisabled } from './features.ts';
import { DEFAULT_WEB_ROOT } from './web.ts';

const PNG = Buffer.from('89504e470d0a1a0a', 'hex');
/** Pages are served from the built web app; without a build only the refusals can be checked. */
const WEB_BUILT = existsSync(join(DEFAULT_WEB_ROOT, 'en', 'dashboard', 'index.html'));
const NO_WEB = WEB_BUILT ? '' : ' (skipped: apps/web/out is not built; `npm run build -w @nestor/web`)';

const apps: FastifyInstance[] = [];

async function appWith(input: ConfigInput): Promise<FastifyInstance> {
  const app = buildApp({ nestor: fakePipeline(), config: parseConfig(input) });
  apps.push(app);
  await app.ready();
  return app;
}

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

describe('feature tags', () => {
  it.each([
    ['/docs', undefined, 'technicalApi'],
    ['/docs/json', undefined, 'technicalApi'],
    ['/docs/static/*', undefined, 'technicalApi'],
    ['/predict', undefined, 'technicalApi'],
    ['/detect', undefined, 'technicalApi'],
    ['/v1/detect', undefined, undefined],
    ['/v1/anonymize', undefined, undefined],
    ['/docsearch', undefined, undefined],
    ['/v1/stats', 'dashboard', 'dashboard'],
    ['/v1/api-keys', 'technicalApi', 'technicalApi'],
  ] as const)('route %s (declared %s) belongs to %s', (url, declared, feature) => {
    expect(featureOfRoute(url, declared)).toBe(feature);
  });

  it.each([
    ['/dashboard', 'dashboard'],
    ['/fr/dashboard', 'dashboard'],
    ['/de/dashboard/', 'dashboard'],
    ['/it/dashboard.html', 'dashboard'],
    ['/en/dashboard.txt?_rsc=1', 'dashboard'],
    ['/en/dashboard?from=2026-01-01', 'dashboard'],
    ['/en/%64ashboard/', 'dashboard'],
    ['/en//dashboard/', 'dashboard'],
    ['/en/./dashboard/', 'dashboard'],
    ['//en/dashboard', 'dashboard'],
    ['/%2Fen%2Fdashboard%2F', 'dashboard'],
    ['/EN/Dashboard/', 'dashboard'],
    ['/en/dashboard/__next._full.txt', 'dashboard'],
    ['/en/dashboards', undefined],
    ['/en/dashboard/../', undefined],
    ['/xx/dashboard', undefined],
    ['/en/', undefined],
    ['/v1/detect', undefined],
  ] as const)('page %s belongs to %s', (url, feature) => {
    expect(featureOfPage(url)).toBe(feature);
  });

  it('isDisabled only for a tagged route whose switch is off', () => {
    const features = { technicalApi: false, dashboard: true };
    expect(isDisabled(features, 'technicalApi')).toBe(true);
    expect(isDisabled(features, 'dashboard')).toBe(false);
    expect(isDisabled(features, undefined)).toBe(false);
  });
});

describe('features.technicalApi', () => {
  const integratorSurface = [
    { method: 'GET', url: '/docs' },
    { method: 'GET', url: '/docs/json' },
    { method: 'POST', url: '/detect' },
    { method: 'POST', url: '/predict' },
  ] as const;

  it.each(integratorSurface)('off: $method $url answers 404 E_NOT_FOUND', async ({ method, url }) => {
    const app = await appWith({ features: { technicalApi: false } });
    const res = await app.inject({ method, url, payload: PNG, headers: { 'content-type': 'image/png' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'E_NOT_FOUND', message: expect.any(String) } });
  });

  it.each(integratorSurface)('on: $method $url is served', async ({ method, url }) => {
    const app = await appWith({ features: { technicalApi: true } });
    const res = await app.inject({ method, url, payload: PNG, headers: { 'content-type': 'image/png' } });
    expect(res.statusCode).not.toBe(404);
    expect(res.statusCode).toBeLessThan(400);
  });

  it('off: the web app keeps /v1/detect, /v1/anonymize, health and metrics', async () => {
    const app = await appWith({ features: { technicalApi: false } });
    for (const url of ['/v1/detect', '/v1/anonymize']) {
      const res = await app.inject({
        method: 'POST',
        url,
        payload: PNG,
        headers: { 'content-type': 'image/png' },
      });
      expect(res.statusCode, url).toBe(200);
    }
    for (const url of ['/healthz', '/metrics', '/v1/models']) {
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
  });

  it('off: a refused request is counted like any other 404', async () => {
    const app = await appWith({ features: { technicalApi: false } });
    await app.inject({ method: 'GET', url: '/docs/json' });
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/nestor_errors_total\{code="E_NOT_FOUND"\} 1/);
    expect(metrics).toMatch(/nestor_requests_in_flight 1\n/);
  });
});

describe('features.dashboard', () => {
  const pages = [
    '/dashboard',
    '/en/dashboard',
    '/fr/dashboard.html',
    '/de/dashboard/',
    // Spellings web.ts serves as the same page.
    '/en/%64ashboard/',
    '/en//dashboard/',
    '/en/./dashboard/',
    '//en/dashboard/',
    '/%2Fen%2Fdashboard%2F',
    '/en/dashboard/__next._full.txt',
  ];

  it.each(pages)('off: page %s answers 404 E_NOT_FOUND', async (url) => {
    const app = await appWith({ features: { dashboard: false } });
    const res = await app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'E_NOT_FOUND', message: expect.any(String) } });
  });

  it('off: a route declaring config.feature dashboard answers 404, on: it is served', async () => {
    for (const dashboard of [false, true]) {
      const app = buildApp({ nestor: fakePipeline(), config: parseConfig({ features: { dashboard } }) });
      apps.push(app);
      app.get('/v1/dashboard-probe', { config: { role: 'public', feature: 'dashboard' } }, async () => ({
        ok: true,
      }));
      await app.ready();
      const res = await app.inject({ method: 'GET', url: '/v1/dashboard-probe' });
      expect(res.statusCode, `dashboard ${dashboard}`).toBe(dashboard ? 200 : 404);
    }
  });
});

describe('features.dashboard page when on', () => {
  it.skipIf(!WEB_BUILT)(`serves /en/dashboard/${NO_WEB}`, async () => {
    const app = await appWith({ features: { dashboard: true } });
    const res = await app.inject({ method: 'GET', url: '/en/dashboard/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
  });
});

describe('locales', () => {
  it('pages of a locale not offered answer 404; app-config offers only the configured ones', async () => {
    const app = await appWith({ locales: ['fr'] });
    for (const url of ['/en/', '/de/', '/it/dashboard/']) {
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
    const config = (await app.inject({ method: 'GET', url: '/v1/app-config' })).json<{ locales: string[] }>();
    expect(config.locales).toEqual(['fr']);
  });

  it.skipIf(!WEB_BUILT)(`pages of an offered locale are served${NO_WEB}`, async () => {
    const app = await appWith({ locales: ['fr', 'de', 'it'] });
    for (const url of ['/fr/', '/de/', '/it/']) {
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
    expect((await app.inject({ method: 'GET', url: '/en/' })).statusCode).toBe(404);
  });
});

describe('features.technicalApi in accounts mode: API keys and bearer authentication', () => {
  let db: Database;
  const on: { h?: Harness } = {};
  const off: { h?: Harness } = {};
  let admin: { on: Session; off: Session };
  let apiKey: string;
  const png = { 'content-type': 'image/png' };

  async function signIn(h: Harness, name: string, password: string, otpauthUri: string): Promise<Session> {
    h.clock.advance(31_000);
    const res = await h.request({
      method: 'POST',
      url: '/v1/auth/login',
      json: { username: name, password, code: code(secretOf(otpauthUri), h) },
    });
    expect(res.statusCode, res.body).toBe(200);
    return sessionFrom(res);
  }

  beforeAll(async () => {
    db = await openTestDatabase('pglite');
    on.h = await harness(db, { features: { technicalApi: true } });
    off.h = await harness(db, { features: { technicalApi: false } });
    // Each harness has its own secret key, so each signs in an admin it enrolled itself.
    const enrol = async (h: Harness, name: string) => {
      const { link } = await h.accounts.createUser(
        { username: name, role: 'admin' },
        { kind: 'local' },
        undefined,
      );
      const page = await h.accounts.claimCredentials(link.token, { ip: '127.0.0.1' });
      return signIn(h, name, page.password, page.otpauthUri);
    };
    admin = { on: await enrol(on.h, 'ada'), off: await enrol(off.h, 'bob') };
    const created = await on.h.request({
      method: 'POST',
      url: '/v1/keys',
      json: { name: 'integrator', scopes: ['detect'] },
      session: admin.on,
    });
    apiKey = created.json<{ key: string }>().key;
  });
  afterAll(async () => {
    await on.h?.close();
    await off.h?.close();
    await db?.close();
  });

  it('on: an admin lists keys and a key calls /v1/detect', async () => {
    expect((await on.h!.request({ method: 'GET', url: '/v1/keys', session: admin.on })).statusCode).toBe(200);
    const res = await on.h!.request({
      method: 'POST',
      url: '/v1/detect',
      headers: { ...png, authorization: `Bearer ${apiKey}` },
      body: PNG,
    });
    expect(res.statusCode).toBe(200);
  });

  it('off: the key routes answer 404 even to an admin, and the same key no longer authenticates', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const res = await off.h!.request({
        method,
        url: '/v1/keys',
        session: admin.off,
        json: { name: 'x', scopes: [] },
      });
      expect(res.statusCode, `${method} /v1/keys`).toBe(404);
    }
    const res = await off.h!.request({
      method: 'POST',
      url: '/v1/detect',
      headers: { ...png, authorization: `Bearer ${apiKey}` },
      body: PNG,
    });
    expect(res.statusCode).toBe(401);
    // The web app's session keeps /v1/detect.
    const web = await off.h!.request({
      method: 'POST',
      url: '/v1/detect',
      headers: png,
      body: PNG,
      session: admin.off,
    });
    expect(web.statusCode).toBe(200);
  });
});
