import { parentPort, workerData } from 'node:worker_threads';
import { type Config, parseConfig, toNestorError } from '@nestor/core';
import { createNodeNestor } from '@nestor/engine-node';
import type { JobThreadRequest, JobThreadResponse } from './job-thread.ts';
import { runJob } from './process.ts';
import { JobStorage } from './storage.ts';

const port = parentPort;
if (!port) throw new Error('job-thread-worker must run in a worker thread');
const options = workerData as { config: Config; modelsDir: string; storageRoot: string };
const nestor = createNodeNestor(parseConfig(options.config), options.modelsDir);
const storage = JobStorage.at(options.storageRoot);
const controllers = new Map<string, AbortController>();
const settled = new Set<Promise<unknown>>();
const send = (message: JobThreadResponse) => port.postMessage(message);

port.on('message', (request: JobThreadRequest) => {
  if (request.type === 'abort') {
    controllers.get(request.id)?.abort();
    return;
  }
  if (request.type === 'dispose') {
    for (const controller of controllers.values()) controller.abort();
    Promise.allSettled(settled)
      .then(() => nestor.dispose())
      .then(
        () => send({ type: 'disposed' }),
        (error: unknown) => send({ type: 'disposed', error: toNestorError(error).toJSON() }),
      );
    return;
  }
  const { spec } = request;
  const controller = new AbortController();
  controllers.set(spec.id, controller);
  const job: Promise<void> = runJob(
    nestor,
    storage,
    spec,
    (progress) => send({ type: 'progress', id: spec.id, progress }),
    controller.signal,
  )
    .then(
      (output) => send({ type: 'done', id: spec.id, output }),
      (error: unknown) => send({ type: 'failed', id: spec.id, error: toNestorError(error).toJSON() }),
    )
    .finally(() => {
      controllers.delete(spec.id);
      settled.delete(job);
    });
  settled.add(job);
});
