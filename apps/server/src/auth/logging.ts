import type { FastifyServerOptions } from 'fastify';

type LoggerOption = NonNullable<FastifyServerOptions['logger']>;

/**
 * fastify's logger settings with requests logged as method and path only: no client address and no
 * query string (`/v1/audit?actor=…`), so names and IPs live only in the audit log, pseudonymised
 * where the deployment asks. A caller's own `req` serializer still wins.
 */
export function privateLogger(logger: LoggerOption | undefined): LoggerOption {
  if (!logger) return false;
  const options = logger === true ? {} : logger;
  return {
    ...options,
    serializers: {
      req: (req) => ({ method: req.method, url: req.url.replace(/\?.*/, '') }),
      ...options.serializers,
    },
  };
}
