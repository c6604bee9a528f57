/** Jobs: long work (videos, batches of images) in a queue, in-process or BullMQ + Redis. */
import type { Config } from '@nestor/core';
import { createNodeNestor } from '@nestor/engine-node';
import { createBullQueue, startBullWorker } from './bullmq.ts';
import { createInProcessQueue } from './in-process.ts';
import { createJobThread } from './job-thread.ts';
import type { JobLog } from './log.ts';
import { JobStorage } from './storage.ts';
import type { JobQueue } from './types.ts';

export type { JobLog } from './log.ts';
export { type JobRoutesOptions, jobRoutes } from './routes.ts';
export { JobStorage } from './storage.ts';
export type { JobKind, JobOutput, JobQueue, JobSpec, JobState, JobStatus } from './types.ts';

export interface Jobs {
  readonly queue: JobQueue;
  readonly storage: JobStorage;
}

/**
 * The queue the config asks for: BullMQ when `redis.url` is set (workers run `nestor worker`), else
 * in-process. `log` (the app's logger) receives what goes wrong in the background: Redis errors, sweeps.
 */
export function createJobs(config: Config, modelsDir: string, log: JobLog): Jobs {
  const storage = JobStorage.fromConfig(config);
  const queue = config.redis.url
    ? createBullQueue({ config, storage, log })
    : inProcess(config, modelsDir, storage, log);
  return { queue, storage };
}

function inProcess(config: Config, modelsDir: string, storage: JobStorage, log: JobLog): JobQueue {
  const thread = createJobThread({ config, modelsDir, storageRoot: storage.root });
  return createInProcessQueue({ config, storage, run: thread.run, closeRunner: thread.close, log });
}

/** `nestor worker`: runs BullMQ jobs until `signal` aborts. */
export async function runWorker(config: Config, modelsDir: string, signal: AbortSignal): Promise<void> {
  const storage = JobStorage.fromConfig(config);
  const nestor = createNodeNestor(config, modelsDir);
  await nestor.warmUp();
  const worker = startBullWorker({ config, storage, nestor });
  try {
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await worker.close();
    await nestor.dispose();
  }
}
