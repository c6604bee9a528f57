import { z } from 'zod';
import { NestorError } from './errors.ts';
import { IMAGE_FORMATS } from './image.ts';
import { REDACTION_METHODS, REGION_SHAPES } from './redact.ts';
import type { QuarterTurn } from './turns.ts';

export const LABELS = ['face', 'plate'] as const;
export type Label = (typeof LABELS)[number];
export const PRESETS = ['fast', 'balanced', 'thorough'] as const;
export type Preset = (typeof PRESETS)[number];
export const LOCALES = ['en', 'fr', 'de', 'it'] as const;
export type Locale = (typeof LOCALES)[number];

const score = z.number().min(0).max(1);
const modelList = z.array(z.string().min(1)).min(1).max(4);
const modelWeights = z.record(z.string().min(1), z.number().min(0.1).max(10));

/** What one preset runs in place of a class's `models`, `weights` and `minScore`; keys left out keep them. */
const presetClassSchema = z
  .object({
    models: modelList.optional(),
    /** Merged over the class's weights. */
    weights: modelWeights.optional(),
    minScore: score.optional(),
    /**
     * Input budget, in pixels, of the class's fully convolutional models (RetinaFace, the plate
     * text detector): how finely they read a large photo. Default: the preset's.
     */
    maxInputPixels: z.number().int().min(100_000).max(100_000_000).optional(),
    /**
     * Faces: input budget of the second, finer search of a large photo's crowds (see
     * `crowdAreas`); at most the first budget turns it off. Default: the preset's.
     */
    crowdInputPixels: z.number().int().min(0).max(100_000_000).optional(),
    /**
     * Faces: clockwise quarter turns the photo is also read at (90, 180, 270), for sideways and
     * upside-down faces: a photo that lost its orientation, people lying down. Default: the preset's.
     */
    faceTurns: z
      .array(z.union([z.literal(90), z.literal(180), z.literal(270)]))
      .max(3)
      .refine((turns) => new Set(turns).size === turns.length, 'each turn once')
      .optional(),
  })
  .strict();
type PresetClassOverride = z.infer<typeof presetClassSchema>;
const rgb = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour like #000000');

const classSchema = (d: {
  models: string[];
  weights?: Record<string, number>;
  presets?: Partial<Record<Preset, PresetClassOverride>>;
  verifier?: string;
  context?: string;
  proposalScore: number;
  minScore: number;
  scaleX: number;
  scaleY: number;
  shape: (typeof REGION_SHAPES)[number];
}) =>
  z
    .object({
      /** Model ids from the manifest; several form an ensemble whose scores combine (noisy-or). */
      models: modelList.default(d.models),
      /**
       * How much a model's score counts, by model id: the ensemble's noisy-or takes that model's
       * (1 - score) to this power, and so does a model running alone. Unlisted models count 1.
       */
      weights: modelWeights.default(d.weights ?? {}),
      /**
       * Per preset, other models, weights or threshold (null = the class's own). Without one, `fast`
       * runs the first of `models` alone and `balanced` and `thorough` run them all.
       */
      presets: z
        .object({
          fast: presetClassSchema.nullable().default(d.presets?.fast ?? null),
          balanced: presetClassSchema.nullable().default(d.presets?.balanced ?? null),
          thorough: presetClassSchema.nullable().default(d.presets?.thorough ?? null),
        })
        .strict()
        .prefault({}),
      /** Each model proposes candidates above this score before the ensemble decides. */
      proposalScore: score.default(d.proposalScore),
      /** Detections whose combined score is below this are dropped. */
      minScore: score.default(d.minScore),
      /** A model that reads each candidate and keeps only those that read as the class (plates); null = none. */
      verifier: z
        .string()
        .min(1)
        .nullable()
        .default(d.verifier ?? null),
      /** A model that finds vehicles, inside which plates are looked for again more finely; null = none. */
      context: z
        .string()
        .min(1)
        .nullable()
        .default(d.context ?? null),
      /** Boxes overlapping more than this IoU are one object (NMS, also across tiles). */
      iouThreshold: score.default(0.3),
      /** Smallest object side (image pixels) to look for; default from the preset. */
      minSize: z.number().min(4).max(10_000).optional(),
      /** The redacted region is the box grown by these factors about its centre. */
      scaleX: z.number().min(0.5).max(4).default(d.scaleX),
      scaleY: z.number().min(0.5).max(4).default(d.scaleY),
      shape: z.enum(REGION_SHAPES).default(d.shape),
      /** Per-class redaction overrides. */
      method: z.enum(REDACTION_METHODS).optional(),
      strength: z.number().min(0.1).max(10).optional(),
    })
    .strict()
    .prefault({});

/**
 * The one configuration schema (`nestor-ai-config.json`). Every default lives here; the README's
 * configuration table is generated from the same values.
 */
export const configSchema = z
  .object({
    /** Where prepared model files are read from (relative to the config file). */
    modelsDir: z.string().default('models'),
    task: z.enum(['anonymize', 'detect']).default('anonymize'),
    /** Detection effort: how small the faces and plates looked for are, and how many tiles may run. */
    preset: z.enum(PRESETS).default('balanced'),
    targets: z.array(z.enum(LABELS)).min(1).default(['face', 'plate']),
    classes: z
      .object({
        face: classSchema({
          // The WIDER-trained SSD leads (it alone runs in the fast preset) and weighs most; the
          // others confirm it below weight 1 (tuned on the dev set; fast keeps the SSD's threshold).
          // BlazeFace full-range added nothing once RetinaFace ran (dev set), so its tiles are saved.
          models: ['ssd-mobilenet-v1-face', 'blazeface-back-256', 'retinaface-mnet025'],
          weights: {
            'ssd-mobilenet-v1-face': 4,
            'blazeface-back-256': 0.5,
            'retinaface-mnet025': 0.6,
          },
          // thorough is for photos where no face may be left: BlazeFace full-range's tiny tiles
          // and BlazeFace back-256 at full weight find the small faces the others miss (dev set).
          presets: {
            thorough: {
              models: [
                'ssd-mobilenet-v1-face',
                'blazeface-full-range',
                'blazeface-back-256',
                'retinaface-mnet025',
              ],
              weights: { 'blazeface-full-range': 1, 'blazeface-back-256': 1 },
            },
          },
          proposalScore: 0.15,
          minScore: 0.75,
          scaleX: 1.4,
          scaleY: 1.5,
          shape: 'ellipse',
        }),
        plate: classSchema({
          models: ['ppocr-v4-det'],
          verifier: 'ppocr-v4-rec',
          context: 'centernet-coco',
          proposalScore: 0.6,
          minScore: 0.6,
          scaleX: 1.3,
          scaleY: 1.7,
          shape: 'rect',
        }),
      })
      .strict()
      .prefault({}),
    redaction: z
      .object({
        method: z.enum(REDACTION_METHODS).default('gaussian'),
        /** 1 = the default strength relative to region size; higher is stronger. */
        strength: z.number().min(0.1).max(10).default(1),
        /** Soft edge as a share of the region's short side (0 = hard edge). */
        feather: z.number().min(0).max(0.5).default(0.1),
        /** Fill colour of the `solid` method. */
        color: rgb.default('#000000'),
      })
      .strict()
      .prefault({}),
    output: z
      .object({
        /**
         * `same` keeps the input's format, but a still GIF is written as PNG. An animated GIF or WebP
         * is written animated, as GIF or WebP only, a multi-page TIFF as TIFF only
         * (`E_INVALID_OPTION` otherwise).
         */
        format: z.enum(['same', ...IMAGE_FORMATS]).default('same'),
        quality: z.number().int().min(1).max(100).default(90),
        /** EXIF, XMP, ICC, GPS… are stripped unless this is true. */
        keepMetadata: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        maxPixels: z.number().int().positive().default(100_000_000),
        maxBytes: z
          .number()
          .int()
          .positive()
          .default(50 * 1024 * 1024),
        minSide: z.number().int().positive().default(8),
        /** Frames of an animated GIF or WebP, pages of a TIFF; all of them count against maxPixels. */
        maxFrames: z.number().int().min(1).max(100_000).default(1000),
      })
      .strict()
      .prefault({}),
    engine: z
      .object({
        /** Inference threads per session; 0 = one per core. */
        threads: z.number().int().min(0).max(256).default(0),
      })
      .strict()
      .prefault({}),
    /** Where the REST API listens; loopback only until authentication exists. */
    server: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        /** 0 = any free port. */
        port: z.number().int().min(0).max(65_535).default(5050),
        /** Images processed at once, each in its own worker thread; 0 = one per core. */
        concurrency: z.number().int().min(0).max(64).default(0),
        /** Requests that may wait for a slot; more are refused with 503 and Retry-After. */
        queue: z.number().int().min(0).max(10_000).default(32),
        /** A request still processing after this is stopped (503 E_TIMEOUT); one still queued gets 503 E_BUSY. */
        timeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
        /** In accounts mode /metrics leaves the public port for this internal listener (0 = any free port). */
        metricsHost: z.string().min(1).default('127.0.0.1'),
        metricsPort: z.number().int().min(0).max(65_535).default(9464),
        /**
         * Behind a reverse proxy: trust its X-Forwarded-For for the client address (rate limits,
         * audit). `true` (any proxy) or the proxies' addresses/CIDRs ("10.0.0.0/8,127.0.0.1").
         */
        trustProxy: z.union([z.boolean(), z.string().min(1)]).default(false),
      })
      .strict()
      .prefault({}),
    /** Deployment switches, enforced by the server: a disabled feature answers 404. */
    features: z
      .object({
        /** The public REST API for integrators (API keys, /docs, the PoC aliases). */
        technicalApi: z.boolean().default(true),
        /** The admins' statistics dashboard. */
        dashboard: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** UI languages this deployment offers; the first is the fallback. */
    locales: z
      .array(z.enum(LOCALES))
      .min(1)
      .default([...LOCALES])
      .refine((l) => new Set(l).size === l.length, 'locales must not repeat'),
    /** How long anything derived from a user's media is kept (0 = deleted right after delivery). */
    retention: z
      .object({
        /** Job results (anonymized videos, batches) not yet downloaded. */
        resultsSeconds: z
          .number()
          .int()
          .min(0)
          .max(30 * 86_400)
          .default(3_600),
        /** Audit log entries. */
        auditDays: z.number().int().min(1).max(3_650).default(365),
        /** Audit entries name a pseudonym (keyed hash) instead of the username and IP. */
        pseudonymousAudit: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    /** Video anonymization (ffmpeg): how often the detector runs, tracking, and the encoder. */
    video: z
      .object({
        /** The detector runs on every Nth frame; the tracker covers the frames between. */
        detectEvery: z.number().int().min(1).max(30).default(5),
        /** Detection effort on frames (cheaper than photos: frames are many, objects move). */
        preset: z.enum(PRESETS).default('fast'),
        tracking: z
          .object({
            /** A detection continues a track when it overlaps the track's predicted box this much. */
            iouThreshold: score.default(0.2),
            /** Detector runs a track may miss and still be covered along its motion. */
            maxMissed: z.number().int().min(0).max(30).default(2),
            /** Frames covered before first and after last sight, beyond the frames between detector runs. */
            holdBefore: z.number().int().min(0).max(120).default(2),
            holdAfter: z.number().int().min(0).max(120).default(5),
            /** Regions on frames without a sighting are grown by this share (motion is not linear). */
            grow: z.number().min(0).max(2).default(0.15),
          })
          .strict()
          .prefault({}),
        /** libx264 preset of the MP4/MOV/MKV output (libvpx-vp9 for WebM uses its own speed). */
        x264Preset: z
          .enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'])
          .default('medium'),
        /** Constant rate factor (lower is better quality; 23 is x264's default). */
        crf: z.number().int().min(0).max(51).default(23),
        /** Longest video accepted, in seconds. */
        maxDurationSeconds: z
          .number()
          .int()
          .min(1)
          .max(86_400)
          .default(4 * 3_600),
      })
      .strict()
      .prefault({}),
    /** Long work (videos, batches of images) runs as jobs. */
    jobs: z
      .object({
        /** Jobs processed at once by this process (in-process queue) or by each worker (Redis). */
        concurrency: z.number().int().min(1).max(64).default(1),
        /** Where job inputs and results live until delivered; shared by server and workers with Redis.
         *  null = a private folder under the system temp dir (in-process queue only). */
        storageDir: z.string().min(1).nullable().default(null),
        /** Largest upload of one job (a video or all images of a batch). */
        maxUploadBytes: z
          .number()
          .int()
          .positive()
          .default(2 * 1024 ** 3),
        /** Images in one batch job. */
        maxImages: z.number().int().min(1).max(10_000).default(500),
        /** Tries of a job whose worker died or failed unexpectedly (Redis). */
        attempts: z.number().int().min(1).max(10).default(3),
        /** How often workers prove they are alive; a job whose worker went silent this long is retried (Redis). */
        stalledIntervalMs: z.number().int().min(100).max(600_000).default(30_000),
      })
      .strict()
      .prefault({}),
    /** Redis for the job queue (BullMQ); null = jobs run in the server process. */
    redis: z
      .object({
        url: z.string().min(1).nullable().default(null),
        /** Key prefix, so deployments may share a Redis. */
        prefix: z.string().min(1).default('nestor'),
      })
      .strict()
      .prefault({}),
    /** Who may use the server: `local` (loopback only, no login) or `accounts` (login, roles, API keys). */
    auth: z
      .object({
        mode: z.enum(['local', 'accounts']).default('local'),
        /** Anyone may create their own account; otherwise only admins create accounts. */
        selfService: z.boolean().default(false),
        /** File holding the 32-byte key (base64) that encrypts TOTP secrets; relative to the config file. */
        secretKeyFile: z.string().min(1).optional(),
        /** The key itself, for deployments that pass it in the environment (NESTOR_SECRET_KEY). */
        secretKey: z.string().min(1).optional(),
        /** Passwords and TOTP secrets expire this many months after issue. */
        credentialsMonths: z.number().int().min(1).max(24).default(6),
        /** The one-time credentials link works this long. */
        linkMinutes: z.number().int().min(1).max(1_440).default(15),
        sessionHours: z.number().int().min(1).max(720).default(12),
        /** A session unused this long ends, however long `sessionHours` would let it live (ASVS 3.3.2). */
        sessionIdleMinutes: z.number().int().min(1).max(1_440).default(30),
        /** Failed logins in a row that lock an account, and for how long. */
        lockoutFailures: z.number().int().min(1).max(100).default(5),
        lockoutMinutes: z.number().int().min(1).max(1_440).default(15),
        /** A browser that signed in gets a device cookie this long: there it escapes the lockout others cause. */
        deviceCookieDays: z.number().int().min(1).max(730).default(180),
        /** Requests per minute, per IP address and per account. */
        loginPerMinute: z.number().int().min(1).max(10_000).default(10),
        processingPerMinute: z.number().int().min(1).max(1_000_000).default(120),
      })
      .strict()
      .prefault({}),
    /** Storage of accounts and the audit log: embedded PGlite by default, PostgreSQL when `url` is set. */
    database: z
      .object({
        /** `postgres://user:password@host:5432/db` (NESTOR_DATABASE_URL). */
        url: z.string().min(1).optional(),
        /** PGlite's folder, relative to the config file; `memory://` keeps nothing. */
        dataDir: z.string().min(1).default('data/db'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/**
 * The config a client's on-device engine runs with to find and redact what this server does in a
 * still image: every key `resolveSettings` reads for one, and nothing else. Left out on purpose:
 * secrets and where they are kept (auth, database, redis), paths on the server's disk (modelsDir,
 * jobs), the server's own hardware and listeners (engine, server), deployment switches, `video`
 * (animations and videos run on the server only) and `output` (a browser writes its own formats and
 * never metadata; the page sends format and quality with each run).
 */
const DETECTION_KEYS = { preset: true, targets: true, classes: true, redaction: true, limits: true } as const;
const detectionConfigSchema = configSchema.pick(DETECTION_KEYS);
export type DetectionConfig = z.infer<typeof detectionConfigSchema>;

/**
 * The detection settings of a parsed config, as `GET /v1/app-config` sends them to the web app.
 * @example createWebNestor({ assetsBaseUrl, config: detectionConfig(serverConfig) })
 */
export function detectionConfig(config: Config): DetectionConfig {
  const { preset, targets, classes, redaction, limits } = config;
  return { preset, targets, classes, redaction, limits };
}

/**
 * The JSON Schema of `detectionConfig`'s answer, from the same zod schema: every key with a default
 * is required, the defaults themselves are left to the config documentation.
 */
export function detectionConfigJsonSchema(): Record<string, unknown> {
  const { $schema: _, ...schema } = z.toJSONSchema(detectionConfigSchema, {
    io: 'output',
    override: ({ jsonSchema }) => {
      delete jsonSchema.default;
    },
  });
  return schema;
}

/** Every model a class may run: its detectors (any preset's), then its verifier and context model. */
export const modelsOfClass = (c: Config['classes'][Label]): string[] => [
  ...new Set([...c.models, ...Object.values(c.presets).flatMap((p) => p?.models ?? [])]),
  ...(c.verifier ? [c.verifier] : []),
  ...(c.context ? [c.context] : []),
];

/** Parses and freezes a config object, reporting every invalid key in one error. */
export function parseConfig(input: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) {
    const problems = result.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new NestorError('E_INVALID_CONFIG', `Invalid ${source}: ${problems}`);
  }
  return deepFreeze(result.data);
}

export const defaultConfig = (): Config => parseConfig({});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * What each preset spends: the smallest object looked for is the larger of a pixel size and a
 * share of the image's long side (so a 12 MP photo is not tiled to the pixel), the most views per
 * model and input pixels per fully convolutional model, mirrored views, and whether every model
 * of a class runs or only the first.
 */
export interface PresetEffort {
  readonly face: { readonly px: number; readonly relative: number };
  readonly plate: { readonly px: number; readonly relative: number };
  readonly maxViews: number;
  /** Fully convolutional models (plates) see the image at most this many input pixels in all. */
  readonly maxInputPixels: number;
  /** Input budget of the second search of a large photo's crowds of faces (`crowdAreas`); 0 = none. */
  readonly crowdInputPixels: number;
  /** Clockwise quarter turns faces are also looked for at. */
  readonly faceTurns: readonly QuarterTurn[];
  readonly mirror: boolean;
  readonly ensemble: boolean;
  /** Models whose manifest caps their views (the costly 512-px SSD) keep to that cap. */
  readonly modelViewCaps: boolean;
  /** Plates are looked for again inside vehicles on images up to this many pixels; null = never. */
  readonly vehicleContext: { readonly maxImagePixels: number } | null;
  /**
   * Where plates were found, the context model reads the scene: lettering on people is not a plate,
   * a vehicle read as a face is not a face (`isWornText`, `isVehicleFace`).
   */
  readonly sceneChecks: boolean;
}

export const PRESET_EFFORT: Readonly<Record<Preset, PresetEffort>> = {
  fast: {
    face: { px: 32, relative: 1 / 60 },
    plate: { px: 40, relative: 0 },
    maxViews: 8,
    maxInputPixels: 250_000,
    crowdInputPixels: 0,
    faceTurns: [],
    mirror: false,
    ensemble: false,
    modelViewCaps: true,
    vehicleContext: null,
    sceneChecks: false,
  },
  balanced: {
    face: { px: 14, relative: 1 / 150 },
    // 12 px costs nothing on large photos (the input cap binds there) and finds plates in small ones.
    plate: { px: 12, relative: 0 },
    maxViews: 12,
    maxInputPixels: 650_000,
    crowdInputPixels: 2_000_000,
    faceTurns: [],
    mirror: false,
    ensemble: true,
    modelViewCaps: true,
    // Dash-cam and street photos; above 4 MP the search would break the 12 MP speed bound.
    vehicleContext: { maxImagePixels: 4_000_000 },
    sceneChecks: true,
  },
  thorough: {
    face: { px: 10, relative: 0 },
    plate: { px: 12, relative: 0 },
    maxViews: 600,
    maxInputPixels: 100_000_000,
    crowdInputPixels: 0,
    faceTurns: [],
    mirror: true,
    ensemble: true,
    modelViewCaps: false,
    // No input budget: the whole-image pass already reads every vehicle at full detail.
    vehicleContext: null,
    sceneChecks: true,
  },
};
