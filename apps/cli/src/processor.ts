import type {
  AnonymizeResult,
  CallHooks,
  Config,
  DetectionResult,
  ImageFormat,
  Nestor,
  ProcessOptions,
} from '@nestor/core';
import { createClient } from '@nestor/sdk';
import type { FramePipeline } from '@nestor/video';

/** What detect and anonymize need: the local pipeline, or a Nestor server reached through the SDK. */
export interface Processor {
  /** The output format used when the request names none. */
  readonly defaultFormat: Config['output']['format'];
  /** Frame-level access for videos (local pipeline only). */
  readonly frames?: FramePipeline;
  /** The largest image (in bytes) that will be processed: `limits.maxBytes` of the config that decides. */
  maxBytes(): Promise<number>;
  /** `hooks.onProgress` is told where the work stands (the local pipeline's reports, or the server's stream). */
  detect(bytes: Uint8Array, options: ProcessOptions, hooks?: CallHooks): Promise<DetectionResult>;
  anonymize(bytes: Uint8Array, options: ProcessOptions, hooks?: CallHooks): Promise<AnonymizeResult>;
  dispose(): Promise<void>;
}

export function localProcessor(nestor: Nestor): Processor {
  return {
    defaultFormat: nestor.config.output.format,
    frames: nestor,
    maxBytes: async () => nestor.config.limits.maxBytes,
    detect: (bytes, options, hooks) => nestor.detect(bytes, options, hooks),
    anonymize: (bytes, options, hooks) => nestor.anonymize(bytes, options, hooks),
    dispose: () => nestor.dispose(),
  };
}

/**
 * Images go to the server; nothing is processed here. The server's own config decides defaults.
 * `signal` aborts the request in flight (the server then stops its work).
 */
export function remoteProcessor(baseUrl: string, signal?: AbortSignal): Processor {
  const client = createClient({ baseUrl, ...(signal ? { signal } : {}) });
  const request = ({ task: _task, ...rest }: ProcessOptions) => rest;
  let maxBytes: Promise<number> | undefined;
  return {
    defaultFormat: 'same',
    // Asked once, on the first image: the server's limit, not this machine's config.
    maxBytes: () => {
      maxBytes ??= client.appConfig().then((app) => app.limits.maxBytes);
      return maxBytes;
    },
    detect: (bytes, options, hooks = {}) => client.detect(bytes, request(options), hooks),
    async anonymize(bytes, options, hooks = {}) {
      const { output, ...result } = await client.anonymizeJson(bytes, request(options), hooks);
      const format: ImageFormat = output.format;
      return {
        bytes: new Uint8Array(Buffer.from(output.base64, 'base64')),
        format,
        mimeType: output.mimeType,
        result,
      };
    },
    dispose: async () => {},
  };
}
