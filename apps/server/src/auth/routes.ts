import { type Config, isNestorError, NestorError } from '@nestor/core';
import { AUDIT_OUTCOMES, type AuditFilter } from '@nestor/db';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorSchema } from '../schemas.ts';
import { chooseLocale, LOCALE_COOKIE } from '../web.ts';
import { CSRF_COOKIE, DEVICE_COOKIE, RENEWAL_COOKIE, readCookies, SESSION_COOKIE } from './access.ts';
import { type Accounts, API_KEY_SCOPES, type Principal, ROLES } from './accounts.ts';
import { bool, oneOf, readFields, someOf, str } from './body.ts';
import { serializeCookie } from './cookies.ts';
import {
  apiKeySchema,
  auditEntrySchema,
  auditQuerySchema,
  credentialsSchema,
  linkSchema,
  loginBodySchema,
  loginResponseSchema,
  object,
  publicUserSchema,
  sessionSchema,
} from './schemas.ts';
import { createWindowLimiter } from './window-limiter.ts';

export interface AccountRoutesOptions {
  readonly config: Config;
  /** Absent in local mode: the account routes then answer 404. */
  readonly accounts: Accounts | undefined;
  readonly principalOf: (request: FastifyRequest) => Promise<Principal | undefined>;
  /** Cookies carry Secure unless the server is plain-http loopback development. */
  readonly secureCookies: boolean;
}

/** Bodies are parsed by readFields (one message format); schemas only document them. */
const documentOnly = () => () => true;
const errors = { '4xx': errorSchema } as const;
const tags = ['accounts'];
const LOGIN_PATH = '/v1/auth/login';

/**
 * The account API: sign-in with password + TOTP, one-time credential pages, renewal, API keys,
 * users and the audit log (admins). In local mode only `GET /v1/auth/session` answers.
 */
export async function accountRoutes(app: FastifyInstance, options: AccountRoutesOptions) {
  const { config, accounts, principalOf, secureCookies } = options;
  const auth = config.auth;
  // Only these routes read JSON; the rest of the API takes images. The limit is the app's (SMALL_BODY_LIMIT).
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, body === '' ? {} : JSON.parse(body as string));
    } catch {
      done(new NestorError('E_BAD_REQUEST', 'The body is not valid JSON'), undefined);
    }
  });

  const need = (): Accounts => {
    if (!accounts) throw new NestorError('E_NOT_FOUND', 'Accounts are off: auth.mode is "local"');
    return accounts;
  };
  const signedIn = async (request: FastifyRequest): Promise<Principal> => {
    const principal = await principalOf(request);
    if (!principal) throw new NestorError('E_UNAUTHENTICATED');
    return principal;
  };
  const origin = (request: FastifyRequest) => ({ ip: request.ip });
  const loginLimiter = createWindowLimiter({
    perMinute: auth.loginPerMinute,
    now: () => accounts?.now() ?? new Date(),
  });
  const limit = (keys: string[], reply: FastifyReply) => {
    const verdict = loginLimiter.take(keys);
    if (!verdict.allowed) {
      reply.header('retry-after', String(verdict.retryAfterSeconds));
      throw new NestorError('E_RATE_LIMITED', `Too many attempts: retry in ${verdict.retryAfterSeconds} s`, {
        details: { retryAfterSeconds: verdict.retryAfterSeconds },
      });
    }
  };
  // HTTPS as the client saw it (a trusted proxy's X-Forwarded-Proto) also makes cookies Secure.
  const cookie = (
    request: FastifyRequest,
    name: string,
    value: string,
    httpOnly: boolean,
    maxAge: number,
    path = '/',
  ) =>
    serializeCookie(name, value, {
      httpOnly,
      secure: secureCookies || request.protocol === 'https',
      path,
      maxAge,
    });
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  app.get(
    '/v1/auth/session',
    {
      config: { role: 'public' },
      schema: {
        summary: 'Who is signed in (null when nobody), and the auth mode',
        tags,
        response: { 200: sessionSchema },
      },
    },
    async (request, reply) => {
      noStore(reply);
      const base = { mode: auth.mode, selfService: auth.mode === 'accounts' && auth.selfService };
      // A revoked key or a malformed Authorization header simply means: nobody is signed in.
      const principal = await principalOf(request).catch((error: unknown) => {
        if (isNestorError(error) && error.code === 'E_UNAUTHENTICATED') return undefined;
        throw error;
      });
      if (!principal) return { ...base, user: null };
      if (principal.kind === 'local') return { ...base, user: { username: 'local', role: 'admin' } };
      return {
        ...base,
        user: {
          username: principal.user.username,
          role: principal.user.role,
          credentialsExpireAt: principal.user.credentialsExpireAt.toISOString(),
        },
      };
    },
  );

  // One-time links are `/credentials/#token`: the fragment survives the redirect to the visitor's language.
  app.get('/credentials/', { config: { role: 'public' }, schema: { hide: true } }, async (request, reply) => {
    const locale = chooseLocale(
      request.headers['accept-language'],
      readCookies(request)[LOCALE_COOKIE],
      config.locales,
    );
    return noStore(reply).redirect(`/${locale}/credentials/`, 302);
  });

  app.post(
    LOGIN_PATH,
    {
      config: { role: 'public' },
      validatorCompiler: documentOnly,
      schema: {
        summary:
          'Sign in with username, password and the current TOTP code; sets the session and CSRF cookies',
        description:
          'Expired credentials answer 403 E_CREDENTIALS_EXPIRED and set a renewal cookie for POST /v1/auth/renew. Repeated failures lock the account (429 E_LOCKED with Retry-After).',
        tags,
        body: loginBodySchema,
        response: { 200: loginResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      const service = need();
      const body = readFields(request.body, { username: str(64), password: str(128), code: str(16) }, [
        'password',
        'code',
      ]);
      limit([`login-ip:${request.ip}`, `login-user:${body.username}`], reply);
      noStore(reply);
      try {
        const result = await service.login(body, origin(request), readCookies(request)[DEVICE_COOKIE]);
        const maxAge = auth.sessionHours * 3600;
        reply.header('set-cookie', [
          cookie(request, SESSION_COOKIE, result.sessionId, true, maxAge),
          cookie(request, CSRF_COOKIE, result.csrfToken, false, maxAge),
          cookie(
            request,
            DEVICE_COOKIE,
            result.deviceToken,
            true,
            auth.deviceCookieDays * 86_400,
            LOGIN_PATH,
          ),
        ]);
        return {
          user: result.user,
          csrfToken: result.csrfToken,
          expiresAt: result.sessionExpiresAt.toISOString(),
        };
      } catch (error) {
        const grant = error instanceof NestorError ? error.details?.renewalGrant : undefined;
        if (typeof grant === 'string') {
          reply.header(
            'set-cookie',
            cookie(request, RENEWAL_COOKIE, grant, true, auth.linkMinutes * 60, '/v1/auth/renew'),
          );
        }
        throw error;
      }
    },
  );

  app.post(
    '/v1/auth/logout',
    {
      config: { role: 'user' },
      schema: { summary: 'End this session', tags, response: { 204: { type: 'null' }, ...errors } },
    },
    async (request, reply) => {
      await need().logout(await signedIn(request), origin(request));
      reply.header('set-cookie', [
        cookie(request, SESSION_COOKIE, '', true, 0),
        cookie(request, CSRF_COOKIE, '', false, 0),
      ]);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/auth/register',
    {
      config: { role: 'public' },
      validatorCompiler: documentOnly,
      schema: {
        summary:
          'Self-service sign-up (when auth.selfService): creates a user and returns its one-time credentials link',
        tags,
        body: object({ username: { type: 'string' } }, ['username']),
        response: { 201: linkSchema, ...errors },
      },
    },
    async (request, reply) => {
      const service = need();
      if (!auth.selfService)
        throw new NestorError(
          'E_NOT_FOUND',
          'Self-service sign-up is off: ask an administrator for an account',
        );
      const body = readFields(request.body, { username: str(64) });
      limit([`login-ip:${request.ip}`], reply);
      const { link } = await service.createUser(
        { username: body.username, role: 'user' },
        undefined,
        origin(request),
      );
      noStore(reply).code(201);
      return link;
    },
  );

  app.post(
    '/v1/auth/credentials',
    {
      config: { role: 'public' },
      validatorCompiler: documentOnly,
      schema: {
        summary:
          'Open a one-time credentials page: the password and TOTP secret, with QR codes. Works once, within 15 minutes',
        tags,
        body: object({ token: { type: 'string' } }, ['token']),
        response: { 200: credentialsSchema, ...errors },
      },
    },
    async (request, reply) => {
      const service = need();
      const body = readFields(request.body, { token: str(64) }, ['token']);
      limit([`login-ip:${request.ip}`], reply);
      noStore(reply);
      return service.claimCredentials(body.token, origin(request));
    },
  );

  app.post(
    '/v1/auth/renew',
    {
      config: { role: 'public' },
      schema: {
        summary:
          'After E_CREDENTIALS_EXPIRED: new password and TOTP secret (the old ones stop working), as a one-time link',
        description: 'Authorised by the nestor_renewal cookie that the refused sign-in set.',
        tags,
        response: { 200: linkSchema, ...errors },
      },
    },
    async (request, reply) => {
      const service = need();
      limit([`login-ip:${request.ip}`], reply);
      const grant = readCookies(request)[RENEWAL_COOKIE];
      if (!grant)
        throw new NestorError(
          'E_UNAUTHENTICATED',
          'Sign in with your expired credentials first: that starts the renewal',
        );
      const link = await service.renew(grant, origin(request));
      noStore(reply).header('set-cookie', cookie(request, RENEWAL_COOKIE, '', true, 0, '/v1/auth/renew'));
      return link;
    },
  );

  const keysSchema = {
    type: 'object',
    required: ['keys'],
    properties: { keys: { type: 'array', items: apiKeySchema } },
  };
  const feature = 'technicalApi' as const;

  app.get(
    '/v1/keys',
    {
      config: { role: 'user', feature },
      schema: {
        summary: 'Your API keys (never the keys themselves)',
        tags,
        response: { 200: keysSchema, ...errors },
      },
    },
    async (request) => ({ keys: await need().listKeys(await signedIn(request)) }),
  );

  app.post(
    '/v1/keys',
    {
      config: { role: 'user', feature },
      validatorCompiler: documentOnly,
      schema: {
        summary: 'Create an API key; the key is in this answer only',
        tags,
        body: object(
          {
            name: { type: 'string', maxLength: 80 },
            scopes: { type: 'array', items: { type: 'string', enum: [...API_KEY_SCOPES] } },
          },
          ['name', 'scopes'],
        ),
        response: {
          201: {
            type: 'object',
            required: ['key', 'apiKey'],
            properties: { key: { type: 'string' }, apiKey: apiKeySchema },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const body = readFields(request.body, { name: str(80), scopes: someOf(API_KEY_SCOPES) });
      const created = await need().createKey(await signedIn(request), body, origin(request));
      noStore(reply).code(201);
      return created;
    },
  );

  const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } };

  app.delete(
    '/v1/keys/:id',
    {
      config: { role: 'user', feature },
      validatorCompiler: documentOnly,
      schema: {
        summary: 'Revoke one of your API keys (admins: any key)',
        tags,
        params: idParams,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      await need().revokeKey(await signedIn(request), id, origin(request));
      return reply.code(204).send();
    },
  );

  const usersSchema = {
    type: 'object',
    required: ['users'],
    properties: { users: { type: 'array', items: publicUserSchema } },
  };

  app.get(
    '/v1/users',
    {
      config: { role: 'admin' },
      schema: { summary: 'Every account (admins)', tags, response: { 200: usersSchema, ...errors } },
    },
    async () => ({ users: await need().listUsers() }),
  );

  app.post(
    '/v1/users',
    {
      config: { role: 'admin' },
      validatorCompiler: documentOnly,
      schema: {
        summary: 'Create an account (admins); returns its one-time credentials link',
        tags,
        body: object({ username: { type: 'string' }, role: { type: 'string', enum: [...ROLES] } }, [
          'username',
        ]),
        response: {
          201: {
            type: 'object',
            required: ['user', 'link'],
            properties: { user: publicUserSchema, link: linkSchema },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const body = readFields(request.body, { username: str(64), role: oneOf(ROLES, false) });
      const created = await need().createUser(
        { username: body.username, role: body.role ?? 'user' },
        await signedIn(request),
        origin(request),
      );
      noStore(reply).code(201);
      return created;
    },
  );

  app.patch(
    '/v1/users/:id',
    {
      config: { role: 'admin' },
      validatorCompiler: documentOnly,
      schema: {
        summary: 'Change a role, disable or re-enable an account (admins)',
        tags,
        params: idParams,
        body: object({ role: { type: 'string', enum: [...ROLES] }, disabled: { type: 'boolean' } }),
        response: { 200: publicUserSchema, ...errors },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const body = readFields(request.body, { role: oneOf(ROLES, false), disabled: bool() });
      return need().updateUser(await signedIn(request), id, body, origin(request));
    },
  );

  app.post(
    '/v1/users/:id/credentials',
    {
      config: { role: 'admin' },
      validatorCompiler: documentOnly,
      schema: {
        summary:
          'Give an account new credentials (admins): the old ones stop working; returns the one-time link',
        tags,
        params: idParams,
        response: { 200: linkSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const link = await need().resetCredentials(id, await signedIn(request), origin(request));
      noStore(reply);
      return link;
    },
  );

  app.delete(
    '/v1/users/:id',
    {
      config: { role: 'admin' },
      validatorCompiler: documentOnly,
      schema: {
        summary: 'Delete an account and its keys (admins)',
        tags,
        params: idParams,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      await need().deleteUser(await signedIn(request), id, origin(request));
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/users/:id/keys',
    {
      config: { role: 'admin', feature },
      validatorCompiler: documentOnly,
      schema: {
        summary: "An account's API keys (admins)",
        tags,
        params: idParams,
        response: { 200: keysSchema, ...errors },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return { keys: await need().listKeys(await signedIn(request), id) };
    },
  );

  app.get(
    '/v1/audit',
    {
      config: { role: 'admin', scope: 'admin' },
      validatorCompiler: documentOnly,
      schema: {
        summary: 'The audit log, newest first, filtered (admins; API keys with the admin scope)',
        tags,
        querystring: auditQuerySchema,
        response: {
          200: {
            type: 'object',
            required: ['entries'],
            properties: { entries: { type: 'array', items: auditEntrySchema } },
          },
          ...errors,
        },
      },
    },
    async (request) => ({
      entries: (await need().listAudit(auditFilter(request.query))).map((e) => ({
        ...e,
        at: e.at.toISOString(),
      })),
    }),
  );
}

function auditFilter(query: unknown): AuditFilter {
  const q = readFields(query, {
    actor: str(64, false),
    action: str(64, false),
    outcome: oneOf(AUDIT_OUTCOMES, false),
    since: str(40, false),
    until: str(40, false),
    before: str(20, false),
    limit: str(4, false),
  });
  const date = (name: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const d = new Date(value);
    if (Number.isNaN(d.getTime()))
      throw new NestorError('E_INVALID_OPTION', `Expected an ISO date for ${name}`);
    return d;
  };
  const int = (name: string, value: string | undefined, min: number, max: number) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new NestorError('E_INVALID_OPTION', `Expected an integer from ${min} to ${max} for ${name}`);
    return n;
  };
  const since = date('since', q.since);
  const until = date('until', q.until);
  const before = int('before', q.before, 1, Number.MAX_SAFE_INTEGER);
  return {
    limit: int('limit', q.limit, 1, 500) ?? 100,
    ...(q.actor !== undefined ? { actor: q.actor } : {}),
    ...(q.action !== undefined ? { action: q.action } : {}),
    ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    ...(before !== undefined ? { before } : {}),
  };
}
