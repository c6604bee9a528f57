import { NestorError } from '@nestor/core';
import { loadConfig } from '@nestor/engine-node';
import { runWorker } from '@nestor/server/jobs';

/**
 * `nestor worker`: takes video and batch jobs from Redis (BullMQ) and runs them until SIGINT or
 * SIGTERM. Needs `redis.url` and `jobs.storageDir` (the folder shared with the servers).
 */
export async function workerCommand(
  configFile: string | undefined,
  cwd: string,
  log: (line: string) => void,
): Promise<number> {
  const loaded = loadConfig({ ...(configFile ? { file: configFile } : {}), cwd });
  if (!loaded.config.redis.url) {
    throw new NestorError(
      'E_INVALID_CONFIG',
      'nestor worker needs redis.url (jobs run in the server process otherwise)',
    );
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    log(`nestor worker: waiting for jobs (concurrency ${loaded.config.jobs.concurrency})`);
    await runWorker(loaded.config, loaded.modelsDir, controller.signal);
    log('nestor worker: stopped');
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
