import { connect } from 'node:net';
import { parseConfig } from '@nestor/core';
import type { Database } from '@nestor/db';
import { openTestDatabase } from '@nestor/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { fakePipeline } from '../fake-pipeline.ts';
import { startServer } from '../main.ts';
import { CSRF_HEADER } from './access.ts';
import { checkExposure } from './mode.ts';
import {
  code,
  enrolled,
  type Harness,
  harness,
  manualClock,
  type Session,
  secretOf,
  sessionFrom,
} from './test-support.ts';

/**
 * Routes anyone may call. A new public route must be added here on purpose (and reviewed): the
 * test below fails for any other route that answers an anonymous request.
 */
const PUBLIC_ROUTES = [
  /^\/$/,
  /^\/\*$/,
  /^\/healthz$/,
  /^\/readyz$/,
  /^\/docs(\/.*)?$/,
  /^\/v1\/models$/,
  /^\/v1\/app-config$/,
  /^\/models\/:file$/,
  /^\/ort\/:file$/,
  /^\/v1\/auth\/(session|login|register|credentials|renew)$/,
  /^\/credentials\/$/,
];

const concrete = (url: string) =>
  url.replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000').replace(/\*/g, 'x');

describe('every route declares its role, and non-public ones refuse the wrong caller', () => {
  let db: Database;
  let h: Harness;
  let user: Session;
  let admin: Session;
  let detectKey: string;
  let allScopesKey: string;

  beforeAll(async () => {
    db = await openTestDatabase('pglite');
    h = await harness(db, { features: { technicalApi: true, dashboard: true } });
    const enrolled: Record<string, Session> = {};
    for (const [name, role] of [
      ['ada', 'admin'],
      ['max', 'user'],
    ] as const) {
      const { link } = await h.accounts.createUser({ username: name, role }, { kind: 'local' }, undefined);
      const page = await h.accounts.claimCredentials(link.token, { ip: '127.0.0.1' });
      h.clock.advance(31_000);
      const res = await h.request({
        method: 'POST',
        url: '/v1/auth/login',
        json: { username: name, password: page.password, code: code(secretOf(page.otpauthUri), h) },
      });
      enrolled[name] = sessionFrom(res);
    }
    admin = enrolled.ada!;
    user = enrolled.max!;
    const key = async (session: Session, scopes: string[]) =>
      (await h.request({ method: 'POST', url: '/v1/keys', json: { name: 'k', scopes }, session })).json()
        .key as string;
    detectKey = await key(user, ['detect']);
    allScopesKey = await key(admin, ['detect', 'anonymize', 'admin']);
  });
  afterAll(async () => {
    await h?.close();
    await db?.close();
  });

  it('registration fails for a route without a role', async () => {
    const app = buildApp({ nestor: fakePipeline(), config: parseConfig({}) });
    try {
      expect(() => app.get('/v1/forgotten', async () => 'x')).toThrow(/GET \/v1\/forgotten declares no role/);
    } finally {
      await app.close();
    }
  });

  it('sees the routes of every area (auth, processing, docs, web)', () => {
    const urls = new Set(h.routes.map((r) => r.url));
    for (const url of [
      '/v1/detect',
      '/v1/anonymize',
      '/v1/users',
      '/v1/keys',
      '/v1/audit',
      '/healthz',
      '/docs',
    ])
      expect(urls, url).toContain(url);
    expect(h.routes.every((r) => r.role !== undefined)).toBe(true);
    expect(urls).not.toContain('/metrics');
  });

  it("one-time links open the credentials page in the visitor's language", async () => {
    const res = await h.request({
      method: 'GET',
      url: '/credentials/',
      headers: { 'accept-language': 'de-CH,de;q=0.9' },
    });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/de/credentials/');
  });

  it('only the listed routes are public', () => {
    const unexpected = h.routes.filter(
      (r) => r.role === 'public' && !PUBLIC_ROUTES.some((p) => p.test(r.url)),
    );
    expect(unexpected, 'public routes not in PUBLIC_ROUTES').toEqual([]);
  });

  it('every non-public route answers 401 to an anonymous request, and 401 to a forged cookie or key', async () => {
    const guarded = h.routes.filter((r) => r.role !== 'public');
    expect(guarded.length).toBeGreaterThan(10);
    for (const route of guarded) {
      const url = concrete(route.url);
      const method = route.method as 'GET' | 'HEAD';
      for (const headers of [
        {},
        { cookie: 'nestor_session=forged' },
        { authorization: `Bearer nst_${'A'.repeat(43)}` },
      ]) {
        const res = await h.request({ method, url, headers });
        expect(res.statusCode, `${route.method} ${route.url} ${JSON.stringify(headers)}`).toBe(401);
        if (method !== 'HEAD') expect(res.json().error.code).toBe('E_UNAUTHENTICATED');
      }
    }
  });

  it('every admin route answers 403 to a user session; every route refuses a key without its scope', async () => {
    for (const route of h.routes.filter((r) => r.role === 'admin')) {
      const res = await h.request({
        method: route.method as 'GET' | 'HEAD',
        url: concrete(route.url),
        session: user,
      });
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(403);
    }
    for (const route of h.routes.filter((r) => r.role !== 'public' && r.scope !== 'detect')) {
      const res = await h.request({
        method: route.method as 'GET' | 'HEAD',
        url: concrete(route.url),
        headers: { authorization: `Bearer ${detectKey}` },
      });
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(403);
    }
    // Keys never reach session-only routes, whatever their scopes.
    for (const route of h.routes.filter((r) => r.role !== 'public' && r.scope === undefined)) {
      const res = await h.request({
        method: route.method as 'GET' | 'HEAD',
        url: concrete(route.url),
        headers: { authorization: `Bearer ${allScopesKey}` },
      });
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(403);
    }
  });

  it('an admin session and a scoped key get through (the guard is not a blanket refusal)', async () => {
    expect((await h.request({ method: 'GET', url: '/v1/users', session: admin })).statusCode).toBe(200);
    const audit = await h.request({
      method: 'GET',
      url: '/v1/audit',
      headers: { authorization: `Bearer ${allScopesKey}` },
    });
    expect(audit.statusCode).toBe(200);
  });
});

describe('local mode and exposure', () => {
  it('local mode opens every route without login, and only on loopback', async () => {
    const app = buildApp({ nestor: fakePipeline(), config: parseConfig({}) });
    try {
      const session = await app.inject({ method: 'GET', url: '/v1/auth/session' });
      expect(session.json()).toEqual({
        mode: 'local',
        selfService: false,
        user: { username: 'local', role: 'admin' },
      });
      const users = await app.inject({ method: 'GET', url: '/v1/users' });
      expect(users.statusCode).toBe(404);
      expect(users.json().error.message).toMatch(/auth.mode is "local"/);
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.20']) {
      expect(() => checkExposure(parseConfig({ server: { host } }))).toThrow(
        /Refusing to listen on .* without accounts/,
      );
      expect(() =>
        checkExposure(parseConfig({ server: { host }, auth: { mode: 'accounts' } })),
      ).not.toThrow();
    }
    expect(() => checkExposure(parseConfig({}))).not.toThrow();
  });

  it('accounts mode needs its database', () => {
    expect(() =>
      buildApp({ nestor: fakePipeline(), config: parseConfig({ auth: { mode: 'accounts' } }) }),
    ).toThrow(/needs the accounts database/);
  });
});

describe('accounts mode on a real socket', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase('pglite');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('serves /metrics on the internal listener only, and Secure cookies off loopback', async () => {
    const h = await harness(db);
    await h.close();
    const config = parseConfig({
      server: { host: '127.0.0.1', port: 0, metricsPort: 0 },
      auth: { mode: 'accounts' },
    });
    const { app, url, metricsUrl } = await startServer({
      nestor: fakePipeline(),
      config,
      accounts: h.accounts,
    });
    try {
      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${url}/metrics`)).status).toBe(404);
      const metrics = await fetch(`${metricsUrl}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('# TYPE');
      expect((await fetch(`${metricsUrl}/v1/users`)).status).toBe(404);
      expect((await fetch(`${url}/v1/users`)).status).toBe(401);
    } finally {
      await app.close();
    }
    await expect(fetch(`${metricsUrl}/metrics`)).rejects.toThrow();

    const exposed = await harness(db, { server: { host: '0.0.0.0' } });
    try {
      const res = await (await enrolled(exposed, 'sec'))();
      expect(res.statusCode).toBe(200);
      for (const cookie of ([] as string[]).concat(res.headers['set-cookie'] ?? []))
        expect(cookie).toMatch(/; Secure/);
    } finally {
      await exposed.close();
    }
  });

  it('a processing request whose client leaves before the answer is audited as abandoned, with its address like every entry', async () => {
    const fake = fakePipeline();
    let arrived = () => {};
    const working = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let finish = () => {};
    const held = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const h = await harness(db, {}, manualClock(), {
      ...fake,
      detect: async (bytes, options) => {
        arrived();
        await held;
        return fake.detect(bytes, options);
      },
    });
    try {
      const session = sessionFrom(await (await enrolled(h, 'leaver'))());
      const { port } = new URL(await h.app.listen({ host: '127.0.0.1', port: 0 }));
      const image = Buffer.from('IMAGE-BYTES-NEVER-AUDITED');
      /** Sends the head and `body`, and closes the socket once `when` resolves. */
      const leave = (url: string, body: Buffer, length: number, when: Promise<unknown>) =>
        new Promise<void>((resolve, reject) => {
          const socket = connect(Number(port), '127.0.0.1', () => {
            socket.write(
              `POST ${url} HTTP/1.1\r\nHost: x\r\nCookie: ${session.cookie}\r\n${CSRF_HEADER}: ${session.csrf}\r\n` +
                `Content-Type: image/png\r\nContent-Length: ${length}\r\n\r\n`,
            );
            socket.write(body);
            void when.then(() => socket.destroy());
          });
          socket.on('close', () => resolve());
          socket.on('error', reject);
        });
      const connections = () =>
        new Promise<number>((resolve) => h.app.server.getConnections((_, n) => resolve(n)));

      // Mid-work: the pipeline has the image when the client goes; its answer then reaches nobody.
      await leave('/v1/detect', image, image.length, working);
      await expect.poll(connections).toBe(0);
      finish();
      // Mid-upload: the body never comes whole.
      const started = new Promise((resolve) => h.app.server.once('request', resolve));
      await leave('/v1/anonymize', image, image.length * 10, started);

      const abandoned = () => h.accounts.listAudit({ actor: 'leaver', outcome: 'abandoned', limit: 10 });
      await expect.poll(async () => (await abandoned()).length).toBe(2);
      const entries = await abandoned();
      // Both end as the client's abort (400): the work of a client gone is stopped, its result dropped.
      expect(entries.map((e) => [e.action, e.detail.route, e.detail.status]).sort()).toEqual([
        ['anonymize', '/v1/anonymize', 400],
        ['detect', '/v1/detect', 400],
      ]);
      for (const e of entries) {
        expect(e).toMatchObject({ actor: 'leaver', ip: expect.any(String), detail: { via: 'session' } });
        expect(JSON.stringify(e)).not.toContain('IMAGE-BYTES');
      }
    } finally {
      finish();
      await h.close();
    }
  });

  it('limits login attempts and processing per minute, with Retry-After', async () => {
    const h = await harness(db, { auth: { loginPerMinute: 3, processingPerMinute: 2 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await h.request({
          method: 'POST',
          url: '/v1/auth/login',
          json: { username: 'nobody', password: 'x', code: '000000' },
        });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) {
          expect(res.json().error.code).toBe('E_RATE_LIMITED');
          expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        }
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
      h.clock.advance(60_000);
      const { link } = await h.accounts.createUser(
        { username: 'busy', role: 'user' },
        { kind: 'local' },
        undefined,
      );
      const page = await h.accounts.claimCredentials(link.token, { ip: '127.0.0.1' });
      const login = await h.request({
        method: 'POST',
        url: '/v1/auth/login',
        json: { username: 'busy', password: page.password, code: code(page.totpSecret, h) },
      });
      const session = sessionFrom(login);
      const png = Buffer.from('89504e47', 'hex');
      const processed: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await h.request({
          method: 'POST',
          url: '/v1/detect',
          session,
          headers: { 'content-type': 'image/png' },
          body: png,
        });
        processed.push(res.statusCode);
      }
      expect(processed).toEqual([200, 200, 429]);
    } finally {
      await h.close();
    }
  });

  it('behind a trusted proxy, limits and the audit use the forwarded client address', async () => {
    const h = await harness(db, { server: { trustProxy: '127.0.0.1' }, auth: { loginPerMinute: 1 } });
    try {
      const attempt = (ip: string, username: string) =>
        h.request({
          method: 'POST',
          url: '/v1/auth/login',
          headers: { 'x-forwarded-for': ip },
          json: { username, password: 'x', code: '000000' },
        });
      expect((await attempt('203.0.113.7', 'u1')).statusCode).toBe(401);
      expect((await attempt('203.0.113.7', 'u2')).statusCode).toBe(429);
      expect((await attempt('203.0.113.8', 'u3')).statusCode).toBe(401);
      const ips = await db.query<{ ip: string }>(
        "SELECT DISTINCT ip FROM audit_log WHERE action = 'login' AND ip LIKE '203.0.113.%' ORDER BY ip",
      );
      expect(ips.map((r) => r.ip)).toEqual(['203.0.113.7', '203.0.113.8']);
    } finally {
      await h.close();
    }
  });

  it('behind a trusted proxy on loopback, cookies are Secure when the client came over HTTPS', async () => {
    const h = await harness(db, { server: { trustProxy: '127.0.0.1' } });
    try {
      const signIn = await enrolled(h, 'tls');
      const cookies = async (headers: Record<string, string>) => {
        const res = await signIn(headers);
        expect(res.statusCode, res.body).toBe(200);
        return ([] as string[]).concat(res.headers['set-cookie'] ?? []);
      };
      const https = await cookies({ 'x-forwarded-proto': 'https' });
      expect(https).toHaveLength(3);
      expect(https.every((c) => c.includes('; Secure'))).toBe(true);
      expect((await cookies({})).some((c) => c.includes('Secure'))).toBe(false);
    } finally {
      await h.close();
    }
  });

  it('pseudonymous audit stores keyed hashes instead of usernames and addresses; admins still filter by name', async () => {
    const h = await harness(db, { retention: { pseudonymousAudit: true } });
    try {
      const res = await (await enrolled(h, 'pia', 'admin'))();
      const entries = (
        await h.request({ method: 'GET', url: '/v1/audit?actor=pia', session: sessionFrom(res) })
      ).json().entries;
      expect(entries.length).toBeGreaterThan(0);
      for (const e of entries) {
        expect(e.actor).toMatch(/^~[A-Za-z0-9_-]{16}$/);
        expect(e.ip).toMatch(/^~/);
      }
      const raw = await db.query<{ actor: string }>("SELECT actor FROM audit_log WHERE actor = 'pia'");
      expect(raw).toEqual([]);
      // Nor do the server's logs name the address or the user.
      const log = h.logs.join('');
      expect(log).not.toContain('127.0.0.1');
      expect(log).not.toMatch(/"pia"|=pia\b/);
    } finally {
      await h.close();
    }
  });
});
