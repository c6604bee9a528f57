import { Writable } from 'node:stream';
import { type ConfigInput, type Pipeline, parseConfig } from '@nestor/core';
import type { Database } from '@nestor/db';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { buildApp } from '../app.ts';
import { fakePipeline } from '../fake-pipeline.ts';
import { CSRF_HEADER } from './access.ts';
import { type Accounts, createAccounts } from './accounts.ts';
import { parseCookies } from './cookies.ts';
import { generateSecretKey, parseSecretKey, type SecretKey } from './secrets.ts';
import { totpCode } from './totp.ts';

// jsqr is CommonJS with an ES-style default: under NodeNext its function is `.default`.
const jsQR = jsQRModule.default;

/** A clock tests move by hand. */
export function manualClock(start = new Date('2026-03-01T09:00:00Z')) {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}

export interface Harness {
  readonly app: FastifyInstance;
  readonly accounts: Accounts;
  readonly key: SecretKey;
  readonly clock: ReturnType<typeof manualClock>;
  /** Every log line the app wrote. */
  readonly logs: string[];
  /** Every response body and Set-Cookie header, for the no-secret checks. */
  readonly seen: { url: string; text: string }[];
  /** Every route the app registered, with its declared role and key scope. */
  readonly routes: { method: string; url: string; role: string | undefined; scope: string | undefined }[];
  request(options: {
    method: 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
    url: string;
    json?: unknown;
    session?: Session;
    headers?: Record<string, string>;
    body?: string | Buffer;
  }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

/** An accounts-mode app over `db` with a fake pipeline (or `nestor`), a manual clock and a captured log. */
export async function harness(
  db: Database,
  config: ConfigInput = {},
  clock = manualClock(),
  nestor: Pipeline = fakePipeline(),
): Promise<Harness> {
  const parsed = parseConfig({
    ...config,
    auth: { mode: 'accounts', loginPerMinute: 1000, processingPerMinute: 1000, ...config.auth },
  });
  const key = parseSecretKey(generateSecretKey(), 'test');
  const accounts = createAccounts({ db, key, config: parsed, now: clock.now });
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const app = buildApp({
    nestor,
    config: parsed,
    accounts,
    logger: { level: 'trace', stream },
  });
  const routes: Harness['routes'] = [];
  app.addHook('onRoute', (route) => {
    for (const method of ([] as string[]).concat(route.method)) {
      routes.push({
        method,
        url: route.url ?? route.path,
        role: route.config?.role,
        scope: route.config?.scope,
      });
    }
  });
  await app.ready();
  const seen: { url: string; text: string }[] = [];
  return {
    app,
    accounts,
    key,
    clock,
    logs,
    seen,
    routes,
    async request({ method, url, json, session, headers = {}, body }) {
      const all: Record<string, string> = { ...headers };
      if (session) {
        all.cookie = [session.cookie, all.cookie].filter(Boolean).join('; ');
        if (!(CSRF_HEADER in headers)) all[CSRF_HEADER] = session.csrf;
      }
      if (json !== undefined) all['content-type'] = 'application/json';
      const res = await app.inject({
        method,
        url,
        headers: all,
        ...(json !== undefined
          ? { payload: JSON.stringify(json) }
          : body !== undefined
            ? { payload: body }
            : {}),
      });
      seen.push({ url, text: `${res.body}\n${String(res.headers['set-cookie'] ?? '')}` });
      return res;
    },
    close: () => app.close(),
  };
}

/** The cookies a response set, as one Cookie header, and its CSRF token. */
export function sessionFrom(res: LightMyRequestResponse): Session {
  const set = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const pairs = set.map((c) => c.split(';')[0]!);
  const cookies = parseCookies(pairs.join('; '));
  return { cookie: pairs.join('; '), csrf: cookies.nestor_csrf ?? '' };
}

/** Reads a QR code from a PNG data URL (what an authenticator app does with the screen). */
export function readQr(dataUrl: string): string | undefined {
  const png = PNG.sync.read(Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
}

/** The base32 secret inside an otpauth:// URI. */
export const secretOf = (uri: string): string => new URL(uri).searchParams.get('secret') ?? '';

export const code = (secret: string, h: Harness): string => totpCode(secret, h.clock.now());

/**
 * Makes an account as the CLI would and opens its credentials page; returns its sign-in, each call
 * a new TOTP step (a code is never accepted twice), with the headers given.
 */
export async function enrolled(h: Harness, username: string, role: 'admin' | 'user' = 'user') {
  const { link } = await h.accounts.createUser({ username, role }, { kind: 'local' }, undefined);
  const page = await h.accounts.claimCredentials(link.token, { ip: '127.0.0.1' });
  return (headers: Record<string, string> = {}) => {
    h.clock.advance(31_000);
    return h.request({
      method: 'POST',
      url: '/v1/auth/login',
      headers,
      json: { username, password: page.password, code: code(page.totpSecret, h) },
    });
  };
}
