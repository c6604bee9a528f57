import {
  type CredentialsLink,
  ERROR_CODES,
  type ErrorCode,
  type IssuedCredentials,
  NestorError,
  type PublicApiKey,
  type PublicUser,
} from '@nestor/core';
import { csrfHeaders } from './api.ts';

/** Someone as the server describes them (never a secret). */
export type User = PublicUser;
export type ApiKey = PublicApiKey;
export type Credentials = IssuedCredentials;
export type { CredentialsLink };

export interface SessionInfo {
  readonly mode: 'local' | 'accounts';
  readonly selfService: boolean;
  readonly user: {
    readonly username: string;
    readonly role: string;
    readonly credentialsExpireAt?: string;
  } | null;
}

export interface AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly actor: string | null;
  readonly ip: string | null;
  readonly action: string;
  /** abandoned: the client left before the answer reached it. */
  readonly outcome: 'ok' | 'refused' | 'failed' | 'abandoned';
  readonly target: string | null;
  readonly detail: Readonly<Record<string, string | number | boolean>>;
}

const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);

/**
 * Calls an account route of this origin (JSON in and out, CSRF header on unsafe methods). Errors
 * are NestorErrors with the server's code; `details.retryAfterSeconds` comes from Retry-After.
 */
export async function accountCall<T>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...csrfHeaders({ method }),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw new NestorError('E_NETWORK', undefined, { cause: error });
  }
  if (response.status === 204) return undefined as T;
  const data: unknown = await response.json().catch(() => undefined);
  if (response.ok) return data as T;
  const error = (data as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : 'E_INTERNAL';
  const retryAfter = Number(response.headers.get('retry-after'));
  throw new NestorError(
    isErrorCode(code) ? code : 'E_INTERNAL',
    typeof error?.message === 'string' ? error.message : undefined,
    {
      details: {
        status: response.status,
        code,
        ...(retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
      },
    },
  );
}

/** The web app's page for a one-time link the server returned (`/credentials/#token`). */
export const credentialsPage = (locale: string, link: CredentialsLink): string =>
  `/${locale}/credentials/#${link.token}`;

/** The absolute address to hand over to someone. */
export const credentialsUrl = (link: CredentialsLink): string => `${window.location.origin}${link.path}`;
