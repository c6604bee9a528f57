import { type DetectionResult, LABELS, NestorError } from '@nestor/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { onSettled } from '../settled.ts';
import type { Accounts, ApiKeyScope, Principal } from './accounts.ts';
import { parseCookies } from './cookies.ts';
import { sameString } from './secrets.ts';
import { createWindowLimiter } from './window-limiter.ts';

/** Who may call a route: anyone, any signed-in account, or administrators. */
export type RouteRole = 'public' | 'user' | 'admin';
export const ROUTE_ROLES: readonly RouteRole[] = ['public', 'user', 'admin'];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every route (registration fails without it). In local mode every route is open. */
    role?: RouteRole;
    /**
     * API keys with this scope may call the route. Without one only web sessions (and local mode)
     * can: keys never manage keys or accounts.
     */
    scope?: ApiKeyScope;
  }
}

export const SESSION_COOKIE = 'nestor_session';
export const CSRF_COOKIE = 'nestor_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const RENEWAL_COOKIE = 'nestor_renewal';
/** Sent to the sign-in route only: this browser signed in to that account before (see `login`). */
export const DEVICE_COOKIE = 'nestor_device';

/** Routes added by plugins, which cannot declare a role themselves: the API documentation. */
const ROLE_OF_PLUGIN_ROUTE: readonly {
  readonly role: RouteRole;
  readonly matches: (url: string) => boolean;
}[] = [{ role: 'public', matches: (url) => url === '/docs' || url.startsWith('/docs/') }];

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOCAL: Principal = { kind: 'local' };

export type AccessOptions =
  | { readonly mode: 'local' }
  | {
      readonly mode: 'accounts';
      readonly accounts: Accounts;
      /** `features.technicalApi`: bearer API keys are accepted. */
      readonly apiKeys: boolean;
      readonly processingPerMinute: number;
    };

const principals = new WeakMap<FastifyRequest, Principal | null>();
const counts = new WeakMap<FastifyRequest, DetectionResult['counts']>();

/** The handler reports a result's counts for the audit log (never anything else of the image). */
export function recordCounts(request: FastifyRequest, result: DetectionResult): void {
  counts.set(request, result.counts);
}

export function readCookies(request: FastifyRequest): Record<string, string | undefined> {
  return parseCookies(request.headers.cookie);
}

/** The role a route declares, or the one its path implies for plugin routes; undefined if none. */
export function declaredRole(url: string, declared: RouteRole | undefined): RouteRole | undefined {
  return declared ?? ROLE_OF_PLUGIN_ROUTE.find((r) => r.matches(url))?.role;
}

/**
 * Makes every route declare its role and enforces it on each request: registration of a route
 * without `config.role` throws; an anonymous request to a non-public route answers 401
 * E_UNAUTHENTICATED, a wrong role or key scope 403 E_FORBIDDEN, a session or key of an account whose
 * credentials have expired 403 E_CREDENTIALS_EXPIRED, a cookie-authenticated unsafe request without
 * the CSRF header 403. Call it before any route or plugin is registered.
 * Returns how to learn a request's principal (public routes that adapt to the caller use it).
 */
export function enforceAccess(app: FastifyInstance, options: AccessOptions) {
  app.addHook('onRoute', (route) => {
    const url = route.url ?? route.path;
    const role = declaredRole(url, route.config?.role);
    if (!role) {
      throw new Error(
        `Route ${String(route.method)} ${url} declares no role: add config: { role: 'public' | 'user' | 'admin' }`,
      );
    }
    if (!ROUTE_ROLES.includes(role))
      throw new Error(`Route ${String(route.method)} ${url} has an unknown role "${role}"`);
    route.config = { ...route.config, role };
  });

  async function principalOf(request: FastifyRequest): Promise<Principal | undefined> {
    if (options.mode === 'local') return LOCAL;
    const known = principals.get(request);
    if (known !== undefined) return known ?? undefined;
    const found = await resolve(request, options);
    principals.set(request, found ?? null);
    return found;
  }

  if (options.mode === 'local') return { principalOf };

  const { accounts } = options;
  const limiter = createWindowLimiter({ perMinute: options.processingPerMinute, now: accounts.now });

  // Processing requests are audited with their counts, never the image; a client gone first, as abandoned.
  // Registered before the access check: a client leaving while that check awaits the database is seen.
  onSettled(app, (request, reply, clientLeft) => {
    if (!isProcessing(request)) return;
    const scope = request.routeOptions.config.scope as 'detect' | 'anonymize';
    const principal = principals.get(request);
    if (!principal || principal.kind === 'local') return;
    const status = reply.statusCode;
    const found = counts.get(request);
    const outcome = clientLeft ? 'abandoned' : status < 400 ? 'ok' : status < 500 ? 'refused' : 'failed';
    accounts
      .audit(scope, outcome, {
        actor: principal.user.username,
        ip: request.ip,
        detail: {
          route: request.routeOptions.url ?? '',
          status,
          via: principal.kind === 'key' ? `key ${principal.key.prefix}` : 'session',
          ...(found ? Object.fromEntries(LABELS.map((l) => [l, found[l]])) : {}),
        },
      })
      .catch((error: unknown) => request.log.error({ err: error }, 'audit entry not written'));
  });

  app.addHook('onRequest', async (request, reply) => {
    const { role, scope } = request.routeOptions.config;
    if (role === undefined) {
      // Only the not-found handler has no role: every route got one at registration.
      if (request.is404) return;
      throw new NestorError('E_FORBIDDEN');
    }
    if (role === 'public') return;
    const principal = await principalOf(request);
    if (!principal || principal.kind === 'local') {
      throw new NestorError(
        'E_UNAUTHENTICATED',
        'Sign in first: this needs a session cookie or an API key (Authorization: Bearer nst_…)',
      );
    }
    const refuse = async (message: string, code: 'E_FORBIDDEN' | 'E_CREDENTIALS_EXPIRED' = 'E_FORBIDDEN') => {
      await accounts.audit('access', 'refused', {
        actor: principal.user.username,
        ip: request.ip,
        detail: {
          method: request.method,
          route: request.routeOptions.url ?? '',
          code,
          ...(principal.kind === 'key' ? { via: `key ${principal.key.prefix}` } : {}),
        },
      });
      return new NestorError(code, message);
    };
    const { user } = principal;
    if (user.disabledAt) throw await refuse('This account is disabled');
    // A key acts for its owner: it stops with the owner's credentials and works again once they are renewed.
    if (user.credentialsExpireAt <= accounts.now()) {
      throw await refuse(
        principal.kind === 'session'
          ? 'Your credentials have expired: sign in again to renew them'
          : "This API key's account has expired credentials: sign in on the web app to renew them, and the key works again",
        'E_CREDENTIALS_EXPIRED',
      );
    }
    if (principal.kind === 'session') {
      const header = request.headers[CSRF_HEADER];
      if (
        !SAFE_METHODS.has(request.method) &&
        !(typeof header === 'string' && sameString(header, accounts.csrfToken(principal.sessionHash)))
      ) {
        throw await refuse(
          `Missing or wrong ${CSRF_HEADER} header: send the value of the ${CSRF_COOKIE} cookie`,
        );
      }
    } else if (!scope || !principal.key.scopes.includes(scope)) {
      throw await refuse(
        scope
          ? `This API key lacks the "${scope}" scope`
          : 'API keys cannot be used here: sign in on the web app',
      );
    }
    if (role === 'admin' && user.role !== 'admin') throw await refuse('Administrators only');
    if (isProcessing(request)) {
      const verdict = limiter.take([`ip:${request.ip}`, `user:${user.id}`]);
      if (!verdict.allowed) {
        reply.header('retry-after', String(verdict.retryAfterSeconds));
        throw new NestorError(
          'E_RATE_LIMITED',
          `Too many requests: at most ${options.processingPerMinute} a minute; retry in ${verdict.retryAfterSeconds} s`,
          {
            details: { retryAfterSeconds: verdict.retryAfterSeconds },
          },
        );
      }
    }
    await accounts.recordKeyUse(principal);
  });

  return { principalOf };
}

/** Work on images (POST to a detect or anonymize route, jobs included): limited and audited; polls are not. */
function isProcessing(request: FastifyRequest): boolean {
  const { scope } = request.routeOptions.config;
  return request.method === 'POST' && (scope === 'detect' || scope === 'anonymize');
}

async function resolve(
  request: FastifyRequest,
  options: Extract<AccessOptions, { mode: 'accounts' }>,
): Promise<Principal | undefined> {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    if (!bearer) throw new NestorError('E_UNAUTHENTICATED', 'Use Authorization: Bearer nst_…');
    if (!options.apiKeys) throw new NestorError('E_UNAUTHENTICATED', 'API keys are off in this deployment');
    const principal = await options.accounts.keyPrincipal(bearer);
    if (!principal) throw new NestorError('E_UNAUTHENTICATED', 'Unknown or revoked API key');
    return principal;
  }
  const session = readCookies(request)[SESSION_COOKIE];
  return session ? options.accounts.sessionPrincipal(session) : undefined;
}
