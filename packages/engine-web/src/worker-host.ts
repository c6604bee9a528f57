import {
  type AnonymizeResult,
  type CallHooks,
  CallSteps,
  type DetectionResult,
  type Engine,
  guardSteps,
  type ImageCodec,
  type InferenceSession,
  isNestorError,
  NestorError,
  toNestorError,
} from '@nestor/core';
import { CanvasCodec, type CanvasCodecOptions } from './canvas-codec.ts';
import { startWebEngine, type WebEngineStart, WebNestor, webNestorDeps } from './web-nestor.ts';
import type { FromWorker, ToWorker, WorkerError, WorkerStartOptions } from './worker-protocol.ts';

/** The side of a dedicated worker the host talks through (`self` in the worker's script). */
export interface WorkerHostScope {
  postMessage(message: FromWorker, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<ToWorker>) => void): void;
}

/** The worker's engine: onnxruntime-web and one session per model, shared by every call, and its codec. */
interface Started extends WebEngineStart {
  readonly sessions: Engine;
  readonly codec: ImageCodec;
}

/** What the host runs on (tests bring their own; a browser worker takes the defaults). */
export interface WorkerHostParts {
  /** Loads onnxruntime-web and checks the config (default `startWebEngine`). */
  readonly start?: (options: WorkerStartOptions) => Promise<WebEngineStart>;
  /** The image codec (default a `CanvasCodec`). */
  readonly codec?: (options: CanvasCodecOptions) => ImageCodec;
}

/**
 * Serves the on-device pipeline from a dedicated Web Worker (`serveWebNestor(self)` in its script),
 * so decoding, inference and encoding never hold the page's thread. Calls run one at a time, in the
 * order they came; each is a pipeline of its own over the shared sessions, its steps checking its
 * own abort signal, so aborting one never touches another.
 */
export function serveWebNestor(
  scope: WorkerHostScope,
  { start = startWebEngine, codec = (options) => new CanvasCodec(options) }: WorkerHostParts = {},
): void {
  let started: Promise<Started> | undefined;
  let queue: Promise<void> = Promise.resolve();
  const controllers = new Map<number, AbortController>();
  let turns: Promise<unknown> = Promise.resolve();
  /**
   * Inference runs one at a time (as onnxruntime-web computes), each checked against its call's
   * signal when its turn comes rather than when it was asked for: an aborted call's queued runs
   * never start.
   */
  const inTurn = (engine: Engine): Engine => ({
    name: engine.name,
    async loadModel(spec) {
      const session = await engine.loadModel(spec);
      return {
        run: (feeds) => {
          const run = turns.then(() => session.run(feeds));
          turns = run.catch(() => undefined);
          return run;
        },
        release: () => session.release(),
      };
    },
  });

  const begin = async (options: WorkerStartOptions): Promise<Started> => {
    const engine = await start(options);
    return { ...engine, sessions: sharedSessions(engine.engine), codec: codec(options.codec ?? {}) };
  };

  const handle = async (
    message: Extract<ToWorker, { type: 'call' }>,
    signal: AbortSignal,
  ): Promise<FromWorker> => {
    const { id } = message;
    try {
      if (!started) throw new NestorError('E_INTERNAL', 'The worker was called before it was started');
      const engine = await started;
      if (message.method === 'warmUp') {
        await new WebNestor({
          ...webNestorDeps(engine.sessions, engine.config),
          codec: engine.codec,
        }).warmUp();
        return { type: 'done', id, value: undefined };
      }
      const steps = new CallSteps(signal);
      const parts = guardSteps({ engine: engine.sessions, codec: engine.codec }, () => steps);
      const nestor = new WebNestor({
        ...webNestorDeps(inTurn(parts.engine), engine.config),
        codec: parts.codec,
      });
      const input = message.input ?? new Uint8Array();
      const hooks: CallHooks = message.progress
        ? { onProgress: (progress) => scope.postMessage({ type: 'progress', id, progress }, []) }
        : {};
      const value = await steps.run<DetectionResult | AnonymizeResult>(() =>
        message.method === 'detect'
          ? nestor.detect(input, message.options, hooks)
          : nestor.anonymize(input, message.options, hooks),
      );
      return { type: 'done', id, value };
    } catch (error) {
      // Whatever an aborted call ended with, the page asked for no answer.
      if (signal.aborted) return { type: 'aborted', id };
      return { type: 'failed', id, error: crossing(error) };
    }
  };

  scope.addEventListener('message', ({ data: message }) => {
    if (message.type === 'start') {
      started ??= begin(message.options);
      started.then(
        (engine) =>
          scope.postMessage(
            {
              type: 'started',
              info: {
                engine: engine.engine.name,
                threads: engine.threads,
                crossOriginIsolated: globalThis.crossOriginIsolated === true,
              },
            },
            [],
          ),
        (error: unknown) => scope.postMessage({ type: 'start-failed', error: crossing(error) }, []),
      );
    } else if (message.type === 'abort') {
      controllers.get(message.id)?.abort(new DOMException('The call was aborted', 'AbortError'));
    } else {
      const controller = new AbortController();
      controllers.set(message.id, controller);
      queue = queue.then(async () => {
        const reply = await handle(message, controller.signal);
        controllers.delete(message.id);
        try {
          scope.postMessage(reply, transferables(reply));
        } catch (error) {
          // An answer that cannot be cloned must still settle the call, and leave the queue running.
          scope.postMessage({ type: 'failed', id: message.id, error: crossing(error) }, []);
        }
      });
    }
  });
}

/** Each model loaded once for every pipeline the worker makes; released never (they live as long as the worker). */
function sharedSessions(engine: Engine): Engine {
  const sessions = new Map<string, Promise<InferenceSession>>();
  return {
    name: engine.name,
    loadModel(spec) {
      let session = sessions.get(spec.id);
      if (!session) {
        session = engine.loadModel(spec);
        sessions.set(spec.id, session);
        // A failed load is tried again by the next call (a network error, a file being replaced).
        session.catch(() => sessions.delete(spec.id));
      }
      return session.then((s) => ({ run: (feeds) => s.run(feeds), release: async () => {} }));
    },
  };
}

/** The anonymized image's bytes move to the page instead of being copied. */
function transferables(reply: FromWorker): Transferable[] {
  if (reply.type !== 'done' || !reply.value || !('bytes' in reply.value)) return [];
  const { buffer } = (reply.value as AnonymizeResult).bytes;
  return buffer instanceof ArrayBuffer ? [buffer] : [];
}

/** An error as plain data: a NestorError keeps its code, message and details; anything else is E_INTERNAL. */
function crossing(error: unknown): WorkerError {
  if (!isNestorError(error)) console.error('nestor worker:', error);
  const nestor = toNestorError(error);
  return {
    code: nestor.code,
    message: nestor.message,
    ...(nestor.details ? { details: plain(nestor.details) } : {}),
  };
}

/** Details survive structured cloning only as data: anything else (a function, a class) is left out. */
function plain(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  try {
    return structuredClone({ ...details });
  } catch {
    return {};
  }
}
