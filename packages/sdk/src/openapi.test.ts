import { readFileSync } from 'node:fs';
import type { Timings, TrackSummary } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import type {
  AnonymizeJsonResult,
  AppConfig,
  BatchDetections,
  Detection,
  DetectionResult,
  FrameDetection,
  FrameDetections,
  JobStatus,
  ModelInfo,
  VideoDetections,
} from './index.ts';

/** The server's committed OpenAPI document (apps/server/openapi.json). */
const OPENAPI = JSON.parse(
  readFileSync(new URL('../../../apps/server/openapi.json', import.meta.url), 'utf8'),
) as unknown;

interface Schema {
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly enum?: readonly string[];
  readonly oneOf?: readonly Schema[];
}

/** Each key of T, required or optional: the compiler refuses a table that misses or adds a key. */
type Presence<T> = {
  readonly [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? 'optional' : 'required';
};

/** Every member of the union T: the compiler refuses a list that misses one. */
const every =
  <T extends string>() =>
  <const L extends readonly T[]>(list: L & ([T] extends [L[number]] ? unknown : never)): readonly string[] =>
    [...list].sort();

/** The object at `path` of the document, each step a property name. */
function at(...path: readonly string[]): Schema {
  let node: unknown = OPENAPI;
  for (const step of path) {
    node = (node as Record<string, unknown> | undefined)?.[step];
    if (node === undefined) throw new Error(`openapi.json has nothing at ${path.join(' › ')}`);
  }
  return node as Schema;
}

const json = (route: string, method: string, status: string) =>
  at('paths', route, method, 'responses', status, 'content', 'application/json', 'schema');

/** The schema's keys as the server documents them. */
function presence(schema: Schema): Record<string, 'required' | 'optional'> {
  return Object.fromEntries(
    Object.keys(schema.properties ?? {}).map((key) => [
      key,
      schema.required?.includes(key) ? 'required' : 'optional',
    ]),
  );
}

const property = (schema: Schema, name: string): Schema => {
  const found = schema.properties?.[name];
  if (!found) throw new Error(`openapi.json: no property ${name}`);
  return found;
};

const itemsOf = (schema: Schema, name: string): Schema => property(schema, name).items ?? {};

/** The branch of the schema's `oneOf` that requires `key` (what tells the branches apart). */
const branch = (schema: Schema, key: string): Schema => {
  const found = schema.oneOf?.find((s) => s.required?.includes(key));
  if (!found) throw new Error(`openapi.json: no oneOf branch requires ${key}`);
  return found;
};

const detect = json('/v1/detect', 'post', '200');
const jobStatus = json('/v1/jobs/{id}', 'get', '200');
const jobDetections = json('/v1/jobs/{id}/result', 'get', '200');
const videoDetections = branch(jobDetections, 'video');
const batchDetections = branch(jobDetections, 'results');
const batchItem = itemsOf(batchDetections, 'results');
type BatchItem = BatchDetections['results'][number];

const detectionResultPresence = {
  image: 'required',
  detections: 'required',
  frames: 'optional',
  tracks: 'optional',
  counts: 'required',
  timings: 'required',
  engine: 'required',
  models: 'required',
} satisfies Presence<DetectionResult>;

describe("the SDK's types match apps/server/openapi.json", () => {
  it.each([
    {
      what: 'DetectionResult',
      schema: detect,
      sdk: detectionResultPresence,
    },
    {
      what: 'DetectionResult.image (animated: frames, delaysMs, loop)',
      schema: property(detect, 'image'),
      sdk: {
        width: 'required',
        height: 'required',
        format: 'required',
        frames: 'optional',
        delaysMs: 'optional',
        loop: 'optional',
      } satisfies Presence<DetectionResult['image']>,
    },
    {
      what: 'Detection',
      schema: itemsOf(detect, 'detections'),
      sdk: {
        label: 'required',
        score: 'required',
        box: 'required',
        region: 'required',
        shape: 'required',
        source: 'required',
      } satisfies Presence<Detection>,
    },
    {
      what: 'FrameDetections (frames of an animated image)',
      schema: itemsOf(detect, 'frames'),
      sdk: {
        index: 'required',
        timeMs: 'required',
        detections: 'required',
      } satisfies Presence<FrameDetections>,
    },
    {
      what: 'FrameDetection',
      schema: itemsOf(itemsOf(detect, 'frames'), 'detections'),
      sdk: {
        label: 'required',
        score: 'required',
        box: 'required',
        region: 'required',
        shape: 'required',
        source: 'required',
        track: 'optional',
      } satisfies Presence<FrameDetection>,
    },
    {
      what: 'TrackSummary',
      schema: itemsOf(detect, 'tracks'),
      sdk: {
        id: 'required',
        label: 'required',
        firstFrame: 'required',
        lastFrame: 'required',
        sightings: 'required',
        misses: 'required',
        maxScore: 'required',
      } satisfies Presence<TrackSummary>,
    },
    {
      what: 'Timings',
      schema: property(detect, 'timings'),
      sdk: {
        decodeMs: 'required',
        detectMs: 'required',
        redactMs: 'required',
        encodeMs: 'required',
        totalMs: 'required',
      } satisfies Presence<Timings>,
    },
    {
      what: 'AnonymizeJsonResult.output',
      schema: property(json('/v1/anonymize', 'post', '200'), 'output'),
      sdk: { format: 'required', mimeType: 'required', base64: 'required' } satisfies Presence<
        AnonymizeJsonResult['output']
      >,
    },
    {
      what: 'DetectionResult.counts',
      schema: property(detect, 'counts'),
      sdk: { face: 'required', plate: 'required' } satisfies Presence<DetectionResult['counts']>,
    },
    {
      what: 'ModelInfo.source',
      schema: property(itemsOf(json('/v1/models', 'get', '200'), 'models'), 'source'),
      sdk: {
        package: 'required',
        version: 'required',
        path: 'required',
        license: 'required',
        exportedFrom: 'optional',
      } satisfies Presence<ModelInfo['source']>,
    },
    {
      what: 'ModelInfo.source.exportedFrom',
      schema: property(
        property(itemsOf(json('/v1/models', 'get', '200'), 'models'), 'source'),
        'exportedFrom',
      ),
      sdk: { format: 'required', sha256: 'required' } satisfies Presence<
        NonNullable<ModelInfo['source']['exportedFrom']>
      >,
    },
    {
      what: 'ModelInfo',
      schema: itemsOf(json('/v1/models', 'get', '200'), 'models'),
      sdk: {
        id: 'required',
        label: 'required',
        description: 'required',
        sha256: 'required',
        source: 'required',
        active: 'required',
      } satisfies Presence<ModelInfo>,
    },
    {
      what: 'AppConfig',
      schema: json('/v1/app-config', 'get', '200'),
      sdk: {
        locales: 'required',
        features: 'required',
        defaults: 'required',
        limits: 'required',
        auth: 'required',
        detection: 'required',
      } satisfies Presence<AppConfig>,
    },
    {
      what: 'AppConfig.limits',
      schema: property(json('/v1/app-config', 'get', '200'), 'limits'),
      sdk: {
        maxBytes: 'required',
        maxPixels: 'required',
        maxFrames: 'required',
        minSide: 'required',
      } satisfies Presence<AppConfig['limits']>,
    },
    {
      what: 'AppConfig.defaults',
      schema: property(json('/v1/app-config', 'get', '200'), 'defaults'),
      sdk: {
        task: 'required',
        preset: 'required',
        targets: 'required',
        method: 'required',
        strength: 'required',
        feather: 'required',
        minScore: 'required',
        format: 'required',
        quality: 'required',
        keepMetadata: 'required',
      } satisfies Presence<AppConfig['defaults']>,
    },
    {
      what: 'AppConfig.detection',
      schema: property(json('/v1/app-config', 'get', '200'), 'detection'),
      sdk: {
        preset: 'required',
        targets: 'required',
        classes: 'required',
        redaction: 'required',
        limits: 'required',
      } satisfies Presence<AppConfig['detection']>,
    },
    {
      what: 'JobStatus',
      schema: jobStatus,
      sdk: {
        id: 'required',
        kind: 'required',
        state: 'required',
        progress: 'required',
        etaSeconds: 'optional',
        attempts: 'required',
        error: 'optional',
        output: 'optional',
      } satisfies Presence<JobStatus>,
    },
    {
      what: 'JobStatus.error',
      schema: property(jobStatus, 'error'),
      sdk: { code: 'required', message: 'required', details: 'optional' } satisfies Presence<
        NonNullable<JobStatus['error']>
      >,
    },
    {
      what: 'JobStatus.output',
      schema: property(jobStatus, 'output'),
      sdk: { fileName: 'required', mimeType: 'required', bytes: 'required' } satisfies Presence<
        NonNullable<JobStatus['output']>
      >,
    },
    {
      what: 'VideoDetections',
      schema: videoDetections,
      sdk: {
        video: 'required',
        frames: 'required',
        tracks: 'required',
        counts: 'required',
        stats: 'required',
        timings: 'required',
        models: 'required',
      } satisfies Presence<VideoDetections>,
    },
    {
      what: 'VideoDetections.video',
      schema: property(videoDetections, 'video'),
      sdk: {
        width: 'required',
        height: 'required',
        container: 'required',
        frameRate: 'required',
        variableFrameRate: 'required',
        timestamps: 'required',
        rotation: 'required',
        frames: 'required',
        durationMs: 'required',
        audioStreams: 'required',
      } satisfies Presence<VideoDetections['video']>,
    },
    {
      what: 'VideoDetections.stats',
      schema: property(videoDetections, 'stats'),
      sdk: {
        detectEvery: 'required',
        detectorRuns: 'required',
        trackedFrames: 'required',
        detectorMisses: 'required',
        flickerFrames: 'required',
      } satisfies Presence<VideoDetections['stats']>,
    },
    {
      what: 'VideoDetections.timings',
      schema: property(videoDetections, 'timings'),
      sdk: { totalMs: 'required', fps: 'required' } satisfies Presence<VideoDetections['timings']>,
    },
    {
      what: 'BatchDetections',
      schema: batchDetections,
      sdk: { results: 'required' } satisfies Presence<BatchDetections>,
    },
    {
      what: 'BatchDetections.results[] (an image done)',
      schema: branch(batchItem, 'image'),
      sdk: { file: 'required', ...detectionResultPresence } satisfies Presence<
        Extract<BatchItem, { image: unknown }>
      >,
    },
    {
      what: 'BatchDetections.results[] (an image that failed)',
      schema: branch(batchItem, 'error'),
      sdk: { file: 'required', error: 'required' } satisfies Presence<Extract<BatchItem, { error: unknown }>>,
    },
    {
      what: 'BatchDetections.results[].error',
      schema: property(branch(batchItem, 'error'), 'error'),
      sdk: { code: 'required', message: 'required', details: 'optional' } satisfies Presence<
        Extract<BatchItem, { error: unknown }>['error']
      >,
    },
  ])('$what: the same keys, required alike', ({ schema, sdk }) => {
    expect(presence(schema)).toEqual(sdk);
  });

  it.each([
    {
      what: 'JobStatus.state',
      schema: property(jobStatus, 'state'),
      sdk: every<JobStatus['state']>()(['queued', 'active', 'completed', 'failed']),
    },
    {
      what: 'JobStatus.kind',
      schema: property(jobStatus, 'kind'),
      sdk: every<JobStatus['kind']>()(['video', 'images']),
    },
    {
      what: 'Detection.source',
      schema: property(itemsOf(detect, 'detections'), 'source'),
      sdk: every<Detection['source']>()(['model', 'manual']),
    },
    {
      what: 'FrameDetection.source',
      schema: property(itemsOf(itemsOf(detect, 'frames'), 'detections'), 'source'),
      sdk: every<FrameDetection['source']>()(['model', 'tracker', 'manual']),
    },
    {
      what: 'image.format',
      schema: property(property(detect, 'image'), 'format'),
      sdk: every<DetectionResult['image']['format']>()([
        'avif',
        'gif',
        'heic',
        'jpeg',
        'png',
        'tiff',
        'webp',
      ]),
    },
    {
      what: 'VideoDetections.video.container',
      schema: property(property(videoDetections, 'video'), 'container'),
      sdk: every<VideoDetections['video']['container']>()(['mp4', 'mov', 'mkv', 'webm']),
    },
    {
      what: 'VideoDetections.video.timestamps',
      schema: property(property(videoDetections, 'video'), 'timestamps'),
      sdk: every<VideoDetections['video']['timestamps']>()(['constant-rate', 'exact', 'average-rate']),
    },
  ])('$what: the same values', ({ schema, sdk }) => {
    expect([...(schema.enum ?? [])].sort()).toEqual(sdk);
  });
});
