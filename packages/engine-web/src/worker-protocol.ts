import type {
  AnonymizeResult,
  ConfigInput,
  DetectionResult,
  ErrorCode,
  ProcessOptions,
  Progress,
} from '@nestor/core';
import type { CanvasCodecOptions } from './canvas-codec.ts';

/** What the page sends to start the worker's pipeline: WebNestorOptions as plain data. */
export interface WorkerStartOptions {
  /** Absolute (a worker resolves relative URLs against its own script, not the page). */
  readonly assetsBaseUrl: string;
  readonly config?: ConfigInput;
  readonly preferWebGpu?: boolean;
  readonly codec?: CanvasCodecOptions;
}

/** What the worker's pipeline runs on, once started. */
export interface WorkerEngineInfo {
  /** e.g. `onnxruntime-web/wasm`: the `engine` its results report. */
  readonly engine: string;
  /** WebAssembly threads onnxruntime-web computes on. */
  readonly threads: number;
  /** Whether the worker is cross-origin isolated: without it onnxruntime-web has one thread only. */
  readonly crossOriginIsolated: boolean;
}

export type WorkerMethod = 'detect' | 'anonymize' | 'warmUp';

/** Page → worker. */
export type ToWorker =
  | { readonly type: 'start'; readonly options: WorkerStartOptions }
  | {
      readonly type: 'call';
      readonly id: number;
      readonly method: WorkerMethod;
      readonly input?: Uint8Array | Blob;
      readonly options?: ProcessOptions;
      /** Whether the worker sends the call's progress (a message per inference run). */
      readonly progress?: boolean;
    }
  /** Stops a call between two steps (decode, inference runs, encode); a call not begun never begins. */
  | { readonly type: 'abort'; readonly id: number };

/** An error as it crosses to the page: a NestorError's code, message and details (plain data). */
export interface WorkerError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Worker → page. */
export type FromWorker =
  | { readonly type: 'started'; readonly info: WorkerEngineInfo }
  | { readonly type: 'start-failed'; readonly error: WorkerError }
  | {
      readonly type: 'done';
      readonly id: number;
      readonly value: DetectionResult | AnonymizeResult | undefined;
    }
  | { readonly type: 'failed'; readonly id: number; readonly error: WorkerError }
  /** Where a call that asked for it stands; sent before its answer, never after. */
  | { readonly type: 'progress'; readonly id: number; readonly progress: Progress }
  | { readonly type: 'aborted'; readonly id: number };
