import { createServer, type Server } from 'node:http';
import { type Config, type Pipeline, toNestorError } from '@nestor/core';
import { statsRepository } from '@nestor/db';
import { loadConfig } from '@nestor/engine-node';
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp, renderMetrics } from './app.ts';
import type { Accounts } from './auth/accounts.ts';
import { runAdminCommand } from './auth/cli.ts';
import { checkExposure } from './auth/mode.ts';
import { type AccountsRuntime, openAccounts } from './auth/setup.ts';
import type { Jobs } from './jobs/index.ts';
import { processingSlots } from './limiter.ts';
import { createPipelinePool } from './pool.ts';
import type { StatsStore } from './stats.ts';

export { isLoopback } from './auth/mode.ts';

export interface RunningServer {
  readonly app: FastifyInstance;
  /** e.g. `http://127.0.0.1:5050` */
  readonly url: string;
  /** Accounts mode: where /metrics is served instead of the public port. */
  readonly metricsUrl?: string;
}

/**
 * Builds the app and listens on `config.server` (port 0 = any free port). A non-loopback host
 * needs `auth.mode: "accounts"` (E_INVALID_CONFIG otherwise); in accounts mode /metrics is served
 * on `server.metricsHost:metricsPort` only, closed with the app.
 */
export async function startServer(options: {
  nestor: Pipeline;
  config: Config;
  logger?: FastifyServerOptions['logger'];
  jobs?: Jobs;
  modelsDir?: string;
  accounts?: Accounts;
  stats?: StatsStore;
}): Promise<RunningServer> {
  const { config } = options;
  checkExposure(config);
  const app = buildApp(options);
  // Created before listening: hooks cannot be added to a listening app.
  const metricsServer = config.auth.mode === 'accounts' ? metricsListener(app) : undefined;
  const url = await app.listen({ host: config.server.host, port: config.server.port });
  if (!metricsServer) return { app, url };
  try {
    const metricsUrl = await listen(metricsServer, config.server.metricsHost, config.server.metricsPort);
    return { app, url, metricsUrl };
  } catch (error) {
    await app.close();
    throw error;
  }
}

/** A bare HTTP server that answers GET /metrics and 404 to anything else; closed with the app. */
function metricsListener(app: FastifyInstance): Server {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
      return;
    }
    renderMetrics(app).then(
      ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
      (error: unknown) => {
        app.log.error({ err: error }, 'metrics failed');
        response.writeHead(500, { 'content-type': 'text/plain' }).end('Metrics failed\n');
      },
    );
  });
  app.addHook('onClose', async () => {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return server;
}

async function listen(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
}

/** Runs an administration command, or the server until SIGINT/SIGTERM; resolves to the exit code. */
export async function main(argv: readonly string[] = []): Promise<number> {
  let nestor: Pipeline | undefined;
  let runtime: AccountsRuntime | undefined;
  try {
    const command = await runAdminCommand(argv, (line) => process.stdout.write(`${line}\n`));
    if (command !== undefined) return command;
    const loaded = loadConfig();
    checkExposure(loaded.config);
    if (loaded.config.auth.mode === 'accounts') runtime = await openAccounts(loaded.config, loaded.file);
    // Each pool worker processes one image at a time, so the pool is as large as the concurrency limit.
    let log: FastifyBaseLogger | undefined;
    nestor = createPipelinePool({
      size: processingSlots(loaded.config.server.concurrency),
      config: loaded.config,
      modelsDir: loaded.modelsDir,
      // Before the server logs (models failing at start-up), stderr says it.
      onWorkerExit: ({ index, exitCode, error }) => {
        const fields = { worker: index, exitCode, err: error };
        if (log) log.error(fields, 'pipeline worker stopped; a new one replaces it');
        else
          process.stderr.write(
            `nestor-server: pipeline worker ${index} stopped (${String(error ?? exitCode)})\n`,
          );
      },
    });
    // buildApp starts loading the models once listening; /readyz says when they are in. Its jobs run
    // in-process, or in BullMQ when redis.url is set (workers: `nestor worker`).
    const { app, metricsUrl } = await startServer({
      nestor,
      config: loaded.config,
      logger: { level: 'info' },
      modelsDir: loaded.modelsDir,
      // Statistics persist in the accounts database; without one (local mode) they live in memory.
      ...(runtime ? { accounts: runtime.accounts, stats: statsRepository(runtime.db) } : {}),
    });
    log = app.log;
    if (metricsUrl) app.log.info({ metricsUrl }, 'metrics served on the internal listener');
    if (runtime && (await runtime.accounts.countUsers()) === 0) {
      app.log.warn('No accounts yet: create the first admin with `nestor-server user create --admin <name>`');
    }
    const running = nestor;
    const accountsRuntime = runtime;
    return await new Promise<number>((resolve) => {
      const shutdown = (signal: NodeJS.Signals) => {
        app.log.info({ signal }, 'shutting down');
        app
          .close()
          .then(() => running.dispose())
          .then(() => accountsRuntime?.close())
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
    await runtime?.close();
    return e.code === 'E_INVALID_CONFIG' || e.code === 'E_INVALID_OPTION' ? 2 : 1;
  }
}
