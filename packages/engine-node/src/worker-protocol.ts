/** The messages between the engine and its inference workers (`ort-worker.mjs`). */
/** Messages from the main thread: load one model, run it, release it. */
export type WorkerRequest =
  | { readonly type: 'load'; readonly bytes: Uint8Array; readonly threads: number }
  | {
      readonly type: 'run';
      readonly id: number;
      readonly feeds: Readonly<
        Record<string, { readonly data: Float32Array; readonly dims: readonly number[] }>
      >;
    }
  | { readonly type: 'release' };

export type WorkerResponse =
  | { readonly type: 'loaded' }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly outputs: Record<string, { data: Float32Array; dims: number[] }>;
    }
  | { readonly type: 'error'; readonly id: number | undefined; readonly message: string }
  | { readonly type: 'released' };
