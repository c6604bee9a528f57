import {
  IMAGE_FORMATS,
  INPUT_FORMATS,
  LABELS,
  OPTION_REASONS,
  PRESETS,
  REDACTION_METHODS,
  REGION_SHAPES,
} from '@nestor/core';
import { VIDEO_CONTAINERS, type VideoTimestamps } from '@nestor/video';

/** JSON schemas of the routes: they document the API (OpenAPI) and shape JSON responses. */

const box = {
  type: 'object',
  required: ['x', 'y', 'width', 'height'],
  properties: {
    x: { type: 'number' },
    y: { type: 'number' },
    width: { type: 'number' },
    height: { type: 'number' },
  },
} as const;

const perLabel = (type: 'number' | 'string') => ({
  type: 'object',
  properties: Object.fromEntries(LABELS.map((l) => [l, { type }])),
});

const detectionProperties = {
  label: { type: 'string', enum: [...LABELS] },
  score: { type: 'number' },
  box: { ...box, description: 'What the model found, in original-image pixels.' },
  region: { ...box, description: 'Exactly what anonymize covers.' },
  shape: { type: 'string', enum: [...REGION_SHAPES] },
} as const;

const detectionResultProperties = {
  image: {
    type: 'object',
    required: ['width', 'height', 'format'],
    properties: {
      width: { type: 'number' },
      height: { type: 'number' },
      format: {
        type: 'string',
        enum: [...INPUT_FORMATS],
        description: "The input's format; an HEIC photo is written as JPEG unless `format` asks for another.",
      },
      frames: {
        type: 'number',
        description: 'Animated GIF or WebP, or multi-page TIFF, only: its frame or page count.',
      },
      delaysMs: {
        type: 'array',
        items: { type: 'number' },
        description: 'Animated only: each frame’s delay.',
      },
      loop: { type: 'number', description: 'Animated only: times it plays, 0 = forever.' },
    },
  },
  detections: {
    type: 'array',
    description: 'A still image’s detections; empty for an animated image (see `frames`).',
    items: {
      type: 'object',
      required: ['label', 'score', 'box', 'region', 'shape', 'source'],
      properties: { ...detectionProperties, source: { type: 'string', enum: ['model', 'manual'] } },
    },
  },
  frames: {
    type: 'array',
    description:
      'Animated GIF or WebP, or multi-page TIFF (pages at timeMs 0, no track), only, as in the video JSON: the frames with regions.',
    items: {
      type: 'object',
      required: ['index', 'timeMs', 'detections'],
      properties: {
        index: { type: 'number' },
        timeMs: { type: 'number' },
        detections: {
          type: 'array',
          items: {
            type: 'object',
            required: ['label', 'score', 'box', 'region', 'shape', 'source'],
            properties: {
              ...detectionProperties,
              source: { type: 'string', enum: ['model', 'tracker', 'manual'] },
              track: { type: 'number' },
            },
          },
        },
      },
    },
  },
  tracks: {
    type: 'array',
    description:
      'Animated GIF or WebP only (empty for a multi-page TIFF, whose pages are unrelated): each object followed across frames.',
    items: {
      type: 'object',
      required: ['id', 'label', 'firstFrame', 'lastFrame', 'sightings', 'misses', 'maxScore'],
      properties: {
        id: { type: 'number' },
        label: { type: 'string', enum: [...LABELS] },
        firstFrame: { type: 'number' },
        lastFrame: { type: 'number' },
        sightings: { type: 'number' },
        misses: { type: 'number' },
        maxScore: { type: 'number' },
      },
    },
  },
  counts: { ...perLabel('number'), required: [...LABELS] },
  timings: {
    type: 'object',
    required: ['decodeMs', 'detectMs', 'redactMs', 'encodeMs', 'totalMs'],
    properties: {
      decodeMs: { type: 'number' },
      detectMs: { type: 'number' },
      redactMs: { type: 'number' },
      encodeMs: { type: 'number' },
      totalMs: { type: 'number' },
    },
  },
  engine: { type: 'string' },
  models: { ...perLabel('string'), description: '`model-id@sha256:…` per class run (those targeted).' },
} as const;

/** Every key but those only an animated image's result has. */
const STILL_REQUIRED = Object.keys(detectionResultProperties).filter((k) => k !== 'frames' && k !== 'tracks');

export const detectionResultSchema = {
  type: 'object',
  description: 'The detections schema shared by the API, CLI, web app and SDK.',
  required: STILL_REQUIRED,
  properties: detectionResultProperties,
} as const;

export const anonymizeJsonSchema = {
  type: 'object',
  required: [...STILL_REQUIRED, 'output'],
  properties: {
    ...detectionResultProperties,
    output: {
      type: 'object',
      required: ['format', 'mimeType', 'base64'],
      properties: {
        format: { type: 'string', enum: [...IMAGE_FORMATS] },
        mimeType: { type: 'string' },
        base64: { type: 'string', description: 'The anonymized image.' },
      },
    },
  },
} as const;

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: {
          type: 'object',
          description: 'E_INVALID_OPTION only: which option was refused and why (`OptionFacts`).',
          required: ['option', 'reason'],
          properties: {
            option: {
              type: 'string',
              description: 'The option as the API spells it (format, minScore.face).',
            },
            reason: { type: 'string', enum: [...OPTION_REASONS] },
            allowed: {
              type: 'array',
              items: { type: 'string' },
              description: 'The values accepted (choice).',
            },
            minimum: { type: 'number', description: 'The least value accepted (range).' },
            maximum: { type: 'number', description: 'The greatest value accepted (range).' },
          },
        },
      },
    },
  },
} as const;

/** A progress report of a processing answer streamed as NDJSON (`Progress` in core). */
const progressLineSchema = {
  type: 'object',
  required: ['progress'],
  properties: {
    progress: {
      type: 'object',
      required: ['stage', 'runs', 'plannedRuns'],
      properties: {
        stage: { type: 'string', enum: ['decode', 'detect', 'redact', 'encode'] },
        runs: { type: 'integer', description: 'Inference runs done (of the current frame).' },
        plannedRuns: {
          type: 'integer',
          description: 'Inference runs planned so far; the plan grows when a find calls for a closer look.',
        },
        frame: {
          type: 'object',
          description: 'An animation or a multi-page file: the frame being read, among those detected.',
          required: ['index', 'count'],
          properties: { index: { type: 'integer' }, count: { type: 'integer' } },
        },
      },
    },
  },
} as const;

/** A failure after a streamed answer began: the status a plain answer would have had, and its error body. */
const failureLineSchema = {
  type: 'object',
  required: ['status', 'error'],
  properties: { status: { type: 'integer' }, error: errorSchema.properties.error },
} as const;

/**
 * Each line of a processing answer streamed as NDJSON (`Accept: application/x-ndjson`): progress
 * lines, then the result (`result`, the JSON body of a plain answer) or a failure.
 */
export function streamedLineSchema<R extends object>(result: R) {
  return {
    description:
      'One line of the NDJSON answer: `progress` lines while it works, then `result` (the JSON answer) or `status` and `error`',
    oneOf: [
      progressLineSchema,
      { type: 'object', required: ['result'], properties: { result } },
      failureLineSchema,
    ],
  } as const;
}

/** How a video's output frames are timed, each way with when it is used. */
const VIDEO_TIMESTAMPS: Readonly<Record<VideoTimestamps, string>> = {
  'constant-rate': 'at the declared rate',
  exact: 'each frame at its input time (variable rate, through mkvmerge)',
  'average-rate':
    'evenly at frames / duration (variable rate without mkvmerge, or without stored timestamps)',
};

/** A video job's detections JSON (`anonymizeVideo`'s result, product.md §4). */
const videoDetectionsSchema = {
  type: 'object',
  description: 'A video job: the video, the frames with regions and the objects tracked across them.',
  required: ['video', 'frames', 'tracks', 'counts', 'stats', 'timings', 'models'],
  properties: {
    video: {
      type: 'object',
      required: [
        'width',
        'height',
        'container',
        'frameRate',
        'variableFrameRate',
        'timestamps',
        'rotation',
        'frames',
        'durationMs',
        'audioStreams',
      ],
      properties: {
        width: { type: 'number', description: 'As displayed (rotation applied).' },
        height: { type: 'number' },
        container: { type: 'string', enum: [...VIDEO_CONTAINERS] },
        frameRate: { type: 'string', description: 'A fraction, `30000/1001`.' },
        variableFrameRate: { type: 'boolean' },
        timestamps: {
          type: 'string',
          enum: Object.keys(VIDEO_TIMESTAMPS),
          description: `How the output's frames are timed: ${Object.entries(VIDEO_TIMESTAMPS)
            .map(([value, meaning]) => `\`${value}\` ${meaning}`)
            .join('; ')}.`,
        },
        rotation: { type: 'number', description: 'Degrees, as stored in the file.' },
        frames: { type: 'number', description: 'Frames read.' },
        durationMs: { type: 'number' },
        audioStreams: { type: 'number', description: 'Copied unchanged.' },
      },
    },
    frames: { ...detectionResultProperties.frames, description: 'The frames with at least one region.' },
    tracks: { ...detectionResultProperties.tracks, description: 'Each object followed across frames.' },
    counts: { ...detectionResultProperties.counts, description: 'Tracks per class.' },
    stats: {
      type: 'object',
      required: ['detectEvery', 'detectorRuns', 'trackedFrames', 'detectorMisses', 'flickerFrames'],
      properties: {
        detectEvery: { type: 'number', description: 'The detector ran on every Nth frame.' },
        detectorRuns: { type: 'number' },
        trackedFrames: {
          type: 'number',
          description: 'Frames covered only because the tracker carried a region.',
        },
        detectorMisses: { type: 'number', description: 'Detector runs inside tracks that missed them.' },
        flickerFrames: {
          type: 'number',
          description: "Frames inside a track's span left without its region (0 by construction).",
        },
      },
    },
    timings: {
      type: 'object',
      required: ['totalMs', 'fps'],
      properties: { totalMs: { type: 'number' }, fps: { type: 'number', description: 'Frames per second.' } },
    },
    models: detectionResultProperties.models,
  },
} as const;

const jobFile = {
  type: 'string',
  description:
    "The image's place in the upload (`00000.jpg`, `00001.png`, …): the name the client gave is not kept.",
} as const;

/** An images job's detections JSON: one entry per image, in upload order. */
const imagesDetectionsSchema = {
  type: 'object',
  description: 'A batch of images: each image’s detections, or why it failed (the others still ran).',
  required: ['results'],
  properties: {
    results: {
      type: 'array',
      items: {
        oneOf: [
          {
            type: 'object',
            description: 'An image done: its detections, as /v1/detect answers.',
            required: ['file', ...STILL_REQUIRED],
            properties: { file: jobFile, ...detectionResultProperties },
          },
          {
            type: 'object',
            description: 'An image that could not be processed.',
            required: ['file', 'error'],
            properties: { file: jobFile, error: errorSchema.properties.error },
          },
        ],
      },
    },
  },
} as const;

/** GET /v1/jobs/{id}/result?part=detections: told apart by `results` (images) or `video`. */
export const jobDetectionsSchema = {
  description: 'The detections JSON of a job: `results` for a batch of images, `video` for a video.',
  oneOf: [imagesDetectionsSchema, videoDetectionsSchema],
} as const;

const score = { type: 'number', minimum: 0, maximum: 1 } as const;
const regionsJson = (what: string) => ({
  type: 'string',
  description: `JSON array of ${what} ({"x","y","width","height"} in image pixels; in a video or an animated image, optional "fromMs" and "toMs" bound when each holds, in ms from the first frame).`,
});

/** Request options: the names of `ProcessOptions`, flattened for query strings and form fields. */
export const optionsProperties = {
  preset: { type: 'string', enum: [...PRESETS], description: 'Detection effort.' },
  targets: { type: 'string', description: `Comma-separated classes to find (${LABELS.join(', ')}).` },
  method: { type: 'string', enum: [...REDACTION_METHODS] },
  strength: { type: 'number', minimum: 0.1, maximum: 10, description: 'Relative to region size.' },
  feather: { type: 'number', minimum: 0, maximum: 0.5 },
  'minScore.face': score,
  'minScore.plate': score,
  faceThreshold: { ...score, description: 'Same as minScore.face.' },
  plateThreshold: { ...score, description: 'Same as minScore.plate.' },
  iouThreshold: score,
  format: { type: 'string', enum: ['same', ...IMAGE_FORMATS] },
  quality: { type: 'integer', minimum: 1, maximum: 100 },
  keepMetadata: { type: 'boolean', description: 'Keep EXIF/XMP/ICC (stripped by default).' },
  addRegions: regionsJson('regions to redact whatever the detector says, each with a "label"'),
  suppress: regionsJson('areas whose detections are dropped'),
} as const;

export const optionsQuerySchema = { type: 'object', properties: optionsProperties } as const;

/** Options of POST /v1/jobs: those of the image routes, and the task (the image routes name theirs). */
export const jobOptionsProperties = {
  task: { type: 'string', enum: ['anonymize', 'detect'], description: 'detect: only the detections JSON.' },
  ...optionsProperties,
} as const;

export const jobOptionsQuerySchema = { type: 'object', properties: jobOptionsProperties } as const;

const binary = { type: 'string', format: 'binary' } as const;

/** Multipart (field `file` plus option fields) or the raw image bytes. */
export const imageBodySchema = {
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['file'],
        properties: { file: binary, ...optionsProperties },
      },
    },
    'image/*': { schema: binary },
    'application/octet-stream': { schema: binary },
  },
} as const;

export const modelsSchema = {
  type: 'object',
  required: ['models'],
  properties: {
    models: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'label', 'description', 'sha256', 'source', 'active'],
        properties: {
          id: { type: 'string' },
          label: { type: 'string', enum: [...LABELS] },
          description: { type: 'string' },
          sha256: { type: 'string' },
          source: {
            type: 'object',
            description: 'The npm package the model comes from.',
            required: ['package', 'version', 'path', 'license'],
            properties: {
              package: { type: 'string' },
              version: { type: 'string' },
              path: { type: 'string', description: 'Inside the npm package.' },
              license: { type: 'string' },
              exportedFrom: {
                type: 'object',
                description: 'Only for a model our exporter converted to ONNX: what it was converted from.',
                required: ['format', 'sha256'],
                properties: { format: { type: 'string' }, sha256: { type: 'string' } },
              },
            },
          },
          active: {
            type: 'boolean',
            description: 'Run by the current configuration in at least one preset.',
          },
        },
      },
    },
  },
} as const;

export const statusSchema = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' }, error: errorSchema.properties.error },
} as const;
