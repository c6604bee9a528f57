import {
  type AnonymizeResult,
  type CallHooks,
  type DetectionResult,
  NestorError,
  type ProcessOptions,
} from '@nestor/core';
import type {
  FromWorker,
  ToWorker,
  WorkerEngineInfo,
  WorkerError,
  WorkerMethod,
  WorkerStartOptions,
} from './worker-protocol.ts';

export type { WorkerEngineInfo, WorkerStartOptions } from './worker-protocol.ts';

/** What the page needs of a dedicated Worker (a `Worker`, or a port in tests). */
export interface WorkerEndpoint {
  postMessage(message: ToWorker, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<FromWorker>) => void): void;
  addEventListener(type: 'error' | 'messageerror', listener: (event: Event) => void): void;
  terminate(): void;
}

/**
 * Per call: a signal that stops it between two steps (it then rejects with an AbortError), and a
 * listener for its progress.
 */
export interface WorkerCallOptions extends CallHooks {
  readonly signal?: AbortSignal;
}

interface Pending {
  readonly resolve: (value: FromWorker & { type: 'done' }) => void;
  readonly reject: (error: unknown) => void;
  readonly onProgress?: CallHooks['onProgress'];
}

const aborted = () => new DOMException('The on-device run was cancelled', 'AbortError');
const fromWorker = (error: WorkerError) =>
  new NestorError(error.code, error.message, error.details ? { details: { ...error.details } } : undefined);

/**
 * The on-device pipeline as the page sees it when it runs in a Web Worker (`serveWebNestor` there):
 * the same detect/anonymize/warmUp as `WebNestor`, answered by the worker, so a run never holds the
 * page. A signal stops a call between two of its steps. A worker that fails (its script, or an
 * error it could not answer) fails every call still waiting, and the next ones at once.
 */
export class WorkerNestor {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private broken: unknown;

  private constructor(
    private readonly worker: WorkerEndpoint,
    /** The engine and threads the worker runs on. */
    readonly info: WorkerEngineInfo,
  ) {
    worker.addEventListener('message', ({ data }) => this.answer(data));
    const fail = () => this.fail(new NestorError('E_INTERNAL', 'The on-device engine stopped unexpectedly'));
    worker.addEventListener('error', fail);
    worker.addEventListener('messageerror', fail);
  }

  /**
   * Starts the pipeline in `worker`: resolves once onnxruntime-web is loaded there, rejects with
   * the worker's own error (e.g. `E_INVALID_CONFIG`, `E_MODEL_LOAD`) and terminates it otherwise.
   * @example await WorkerNestor.start(new Worker(new URL('./device.worker.ts', import.meta.url), { type: 'module' }), { assetsBaseUrl: location.origin + '/' })
   */
  static start(worker: WorkerEndpoint, options: WorkerStartOptions): Promise<WorkerNestor> {
    return new Promise<WorkerNestor>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        outcome();
      };
      worker.addEventListener('message', ({ data }) => {
        if (data.type === 'started') settle(() => resolve(new WorkerNestor(worker, data.info)));
        else if (data.type === 'start-failed') settle(() => reject(fromWorker(data.error)));
      });
      worker.addEventListener('error', () =>
        settle(() => reject(new NestorError('E_MODEL_LOAD', 'The on-device engine could not be started'))),
      );
      worker.postMessage({ type: 'start', options }, []);
    }).catch((error: unknown) => {
      worker.terminate();
      throw error;
    });
  }

  /** False once the worker has failed or been disposed: every call then rejects, so make a new one. */
  get usable(): boolean {
    return this.broken === undefined;
  }

  async detect(
    input: Uint8Array | Blob,
    options: ProcessOptions = {},
    call: WorkerCallOptions = {},
  ): Promise<DetectionResult> {
    return (await this.call('detect', input, options, call)) as DetectionResult;
  }

  async anonymize(
    input: Uint8Array | Blob,
    options: ProcessOptions = {},
    call: WorkerCallOptions = {},
  ): Promise<AnonymizeResult> {
    return (await this.call('anonymize', input, options, call)) as AnonymizeResult;
  }

  /** Loads every model the config targets (fetched and checked in the worker). */
  async warmUp(): Promise<void> {
    await this.call('warmUp', undefined, undefined, {});
  }

  /** Ends the worker: calls still waiting reject. */
  async dispose(): Promise<void> {
    this.worker.terminate();
    this.fail(new NestorError('E_INTERNAL', 'The on-device engine was closed'));
  }

  private call(
    method: WorkerMethod,
    input: Uint8Array | Blob | undefined,
    options: ProcessOptions | undefined,
    { signal, onProgress }: WorkerCallOptions,
  ): Promise<DetectionResult | AnonymizeResult | undefined> {
    if (this.broken !== undefined) return Promise.reject(this.broken);
    if (signal?.aborted) return Promise.reject(aborted());
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.worker.postMessage({ type: 'abort', id }, []);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (reply) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(reply.value);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
        ...(onProgress ? { onProgress } : {}),
      });
      // Bytes are copied (the caller keeps its own); a Blob crosses without its contents being read.
      this.worker.postMessage(
        {
          type: 'call',
          id,
          method,
          ...(input ? { input } : {}),
          ...(options ? { options } : {}),
          ...(onProgress ? { progress: true } : {}),
        },
        [],
      );
    });
  }

  private answer(reply: FromWorker): void {
    if (reply.type === 'started' || reply.type === 'start-failed') return;
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    if (reply.type === 'progress') {
      pending.onProgress?.(reply.progress);
      return;
    }
    this.pending.delete(reply.id);
    if (reply.type === 'done') pending.resolve(reply);
    else if (reply.type === 'aborted') pending.reject(aborted());
    else pending.reject(fromWorker(reply.error));
  }

  private fail(error: unknown): void {
    this.broken ??= error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
