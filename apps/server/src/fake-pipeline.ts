import type { AnonymizeResult, CallHooks, DetectionResult, Pipeline } from '@nestor/core';

/**
 * A pipeline for tests of the HTTP surface that need no model: every image "has" one face and one
 * plate, found by one inference run it reports; `fail` makes warm-up reject (a model that does not load).
 */
export function fakePipeline(options: { readonly fail?: Error } = {}): Pipeline {
  const result = (): DetectionResult => ({
    image: { width: 64, height: 48, format: 'png' },
    detections: [
      {
        label: 'face',
        score: 0.91,
        box: { x: 4, y: 4, width: 10, height: 12 },
        region: { x: 2, y: 1, width: 14, height: 18 },
        shape: 'ellipse',
        source: 'model',
      },
      {
        label: 'plate',
        score: 0.72,
        box: { x: 30, y: 30, width: 20, height: 6 },
        region: { x: 27, y: 28, width: 26, height: 10 },
        shape: 'rect',
        source: 'model',
      },
    ],
    counts: { face: 1, plate: 1 },
    timings: { decodeMs: 1, detectMs: 2, redactMs: 1, encodeMs: 1, totalMs: 5 },
    engine: 'fake',
    models: { face: 'fake@sha256:0', plate: 'fake@sha256:0' },
  });
  const detected = (hooks: CallHooks = {}) => {
    for (const runs of [0, 1]) hooks.onProgress?.({ stage: 'detect', runs, plannedRuns: 1 });
    return result();
  };
  return {
    detect: async (_bytes, _options, hooks) => detected(hooks),
    anonymize: async (bytes, _options, hooks): Promise<AnonymizeResult> => {
      const found = detected(hooks);
      for (const stage of ['redact', 'encode'] as const)
        hooks?.onProgress?.({ stage, runs: 1, plannedRuns: 1 });
      return { bytes, format: 'png', mimeType: 'image/png', result: found };
    },
    warmUp: async () => {
      if (options.fail) throw options.fail;
    },
    dispose: async () => {},
  };
}
