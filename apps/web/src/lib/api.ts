import { type AppConfig, createClient, isAbortError, type NestorClient, NestorError } from '@nestor/sdk';

/** The CSRF cookie the server sets in accounts mode; unsafe requests echo it in `x-csrf-token`. */
export const CSRF_COOKIE = 'nestor_csrf';

export function readCookie(name: string): string | undefined {
  if (typeof document === 'undefined') return undefined;
  for (const pair of document.cookie.split(';')) {
    const [key, ...value] = pair.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/** Headers every request of this app adds: the CSRF token on unsafe methods when the cookie exists. */
export function csrfHeaders({ method }: { method: string }): Record<string, string> {
  const token = method === 'GET' ? undefined : readCookie(CSRF_COOKIE);
  return token ? { 'x-csrf-token': token } : {};
}

let client: NestorClient | undefined;

/** The API client of this origin (the server serves the app and the API on one port). */
export function api(): NestorClient {
  client ??= createClient({
    baseUrl: window.location.origin,
    credentials: 'same-origin',
    headers: csrfHeaders,
  });
  return client;
}

let appConfigAnswer: Promise<AppConfig> | undefined;

/**
 * `GET /v1/app-config`, asked once per page: the pages' defaults and the on-device engine's settings
 * come from the same answer. A failure is asked again on the next call.
 */
export function appConfig(): Promise<AppConfig> {
  appConfigAnswer ??= api().appConfig();
  appConfigAnswer.catch(() => {
    appConfigAnswer = undefined;
  });
  return appConfigAnswer;
}

/** `errorCode` of a request the page or the person cancelled: not a failure to show. */
export const ABORTED = 'aborted';

/**
 * The server's own code, also when the SDK does not know it (it keeps it in `details.code`), and
 * `ABORTED` for a cancelled request, whatever else it is.
 * @example errorCode(new DOMException('The upload was cancelled', 'AbortError')) // 'aborted'
 */
export function errorCode(error: unknown): string {
  if (isAbortError(error)) return ABORTED;
  if (!(error instanceof NestorError)) return 'E_INTERNAL';
  const original = error.details?.code;
  return typeof original === 'string' ? original : error.code;
}

/** A 401 `E_UNAUTHENTICATED` means: sign in (the accounts pages live at `/<locale>/login/`). */
export function redirectIfUnauthenticated(error: unknown, locale: string): boolean {
  if (errorCode(error) !== 'E_UNAUTHENTICATED') return false;
  const next = encodeURIComponent(window.location.pathname);
  window.location.assign(`/${locale}/login/?next=${next}`);
  return true;
}

export type { AppConfig };
