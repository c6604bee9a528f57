import { parentPort, workerData } from 'node:worker_threads';
import { type CallHooks, type ProcessOptions, type Progress, parseConfig, toNestorError } from '@nestor/core';
import { createNodeNestor } from '@nestor/engine-node';
import { cancellable, runCancellable } from './cancellable.ts';
import type { PoolProgress, PoolRequest, PoolResponse } from './pool.ts';

const port = parentPort;
if (!port) throw new Error('pool-worker must run in a worker thread');
const { config, modelsDir } = workerData as { config: unknown; modelsDir: string };
const nestor = createNodeNestor(parseConfig(config), modelsDir, cancellable);
/** The call hooks of request `id`: its progress goes back to the pool when it asked for it. */
const hooksFor = (id: number, progress: boolean | undefined): CallHooks =>
  progress
    ? { onProgress: (p: Progress) => port.postMessage({ id, progress: p } satisfies PoolProgress) }
    : {};
/** The requests being worked on, to cancel them by id. */
const running = new Map<number, AbortController>();

port.on('message', (request: PoolRequest) => {
  if (request.task === 'cancel') {
    // The pool rejects the request with its own reason: the worker's answer only says it stopped.
    running.get(request.id)?.abort();
    return;
  }
  const controller = new AbortController();
  running.set(request.id, controller);
  runCancellable(controller.signal, () => handle(request)).then(
    ({ response, transfer }) => {
      running.delete(request.id);
      port.postMessage(response, transfer);
    },
    (error: unknown) => {
      running.delete(request.id);
      const e = toNestorError(error);
      port.postMessage({
        id: request.id,
        ok: false,
        code: e.code,
        message: e.message,
      } satisfies PoolResponse);
    },
  );
});

async function handle(
  request: Exclude<PoolRequest, { task: 'cancel' }>,
): Promise<{ response: PoolResponse; transfer: ArrayBuffer[] }> {
  const options = request.options as ProcessOptions;
  switch (request.task) {
    case 'warmUp':
      await nestor.warmUp();
      return { response: { id: request.id, ok: true, task: 'warmUp' }, transfer: [] };
    case 'dispose':
      await nestor.dispose();
      return { response: { id: request.id, ok: true, task: 'dispose' }, transfer: [] };
    case 'detect':
      return {
        response: {
          id: request.id,
          ok: true,
          task: 'detect',
          result: await nestor.detect(request.bytes, options, hooksFor(request.id, request.progress)),
        },
        transfer: [],
      };
    case 'anonymize': {
      const out = await nestor.anonymize(request.bytes, options, hooksFor(request.id, request.progress));
      const bytes = new Uint8Array(out.bytes);
      return {
        response: { id: request.id, ok: true, task: 'anonymize', output: { ...out, bytes } },
        transfer: [bytes.buffer as ArrayBuffer],
      };
    }
  }
}
