import { isIP } from 'node:net';
import { type Config, NestorError } from '@nestor/core';

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/**
 * The one rule of exposure: `auth.mode: "local"` (no login) only on a loopback host; any other host
 * needs `auth.mode: "accounts"`. Throws E_INVALID_CONFIG (exit code 2) otherwise.
 */
export function checkExposure(config: Pick<Config, 'server' | 'auth'>): void {
  if (config.auth.mode === 'local' && !isLoopback(config.server.host)) {
    throw new NestorError(
      'E_INVALID_CONFIG',
      `Refusing to listen on ${config.server.host} without accounts: auth.mode "local" needs no login, so it only serves loopback hosts (127.0.0.1, ::1, localhost). Set "auth": { "mode": "accounts" } (NESTOR_AUTH_MODE=accounts) and create the first admin with: nestor-server user create --admin <name>`,
    );
  }
}

/** Cookies carry Secure except in plain-http development on this machine. */
export const secureCookies = (config: Pick<Config, 'server'>): boolean => !isLoopback(config.server.host);
