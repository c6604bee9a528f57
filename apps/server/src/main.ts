import { isIP } from 'node:net';
import { type Config, NestorError, type Pipeline, toNestorError } from '@nestor/core';
import { loadConfig } from '@nestor/engine-node';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp } from './app.ts';
import { processingSlots } from './limiter.ts';
import { createPipelinePool } from './pool.ts';

/** Until authentication exists the API may only be reached from this machine. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

export interface RunningServer {
  readonly app: FastifyInstance;
  /** e.g. `http://127.0.0.1:5050` */
  readonly url: string;
}

/** Builds the app and listens on `config.server` (port 0 = any free port); refuses non-loopback hosts. */
export async function startServer(options: {
  nestor: Pipeline;
  config: Config;
  logger?: FastifyServerOptions['logger'];
}): Promise<RunningServer> {
  const { host, port } = options.config.server;
  if (!isLoopback(host)) {
    throw new NestorError(
      'E_INVALID_CONFIG',
      `Refusing to listen on ${host}: the API has no authentication yet, so only loopback hosts (127.0.0.1, ::1, localhost) are allowed`,
    );
  }
  const app = buildApp(options);
  const url = await app.listen({ host, port });
  return { app, url };
}

/** Runs the server until SIGINT/SIGTERM; resolves to the process exit code. */
export async function main(): Promise<number> {
  let nestor: Pipeline | undefined;
  try {
    const loaded = loadConfig();
    // Each pool worker processes one image at a time, so the pool is as large as the concurrency limit.
    nestor = createPipelinePool({
      size: processingSlots(loaded.config.server.concurrency),
      config: loaded.config,
      modelsDir: loaded.modelsDir,
    });
    // buildApp starts loading the models once listening; /readyz says when they are in.
    const { app } = await startServer({ nestor, config: loaded.config, logger: { level: 'info' } });
    const running = nestor;
    return await new Promise<number>((resolve) => {
      const shutdown = (signal: NodeJS.Signals) => {
        app.log.info({ signal }, 'shutting down');
        app
          .close()
          .then(() => running.dispose())
          .then(
            () => resolve(0),
            (error: unknown) => {
              app.log.error({ err: error }, 'shutdown failed');
              resolve(1);
            },
          );
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
  } catch (error) {
    const e = toNestorError(error);
    process.stderr.write(`nestor-server: ${e.code}: ${e.message}\n`);
    if (e.code === 'E_INTERNAL' && e.cause)
      process.stderr.write(`${String((e.cause as Error).stack ?? e.cause)}\n`);
    await nestor?.dispose();
    return e.code === 'E_INVALID_CONFIG' ? 2 : 1;
  }
}
