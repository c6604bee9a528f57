import { z } from 'zod';
import {
  type Config,
  LABELS,
  type Label,
  PRESET_EFFORT,
  PRESETS,
  type Preset,
  type PresetEffort,
} from './config.ts';
import { invalidOption, type OptionFacts } from './errors.ts';
import { IMAGE_FORMATS, type ImageFormat } from './image.ts';
import { REDACTION_METHODS, REGION_SHAPES, type RedactionMethod, type RegionShape } from './redact.ts';
import type { QuarterTurn } from './turns.ts';

const rect = z.object({
  x: z.number().finite(),
  y: z.number().finite(),
  width: z.number().positive(),
  height: z.number().positive(),
  /** Videos and animations: the region holds from this time on (ms from the first frame); a still ignores it. */
  fromMs: z.number().min(0).finite().optional(),
  /** Videos and animations: the region holds until this time (ms, inclusive); a still ignores it. */
  toMs: z.number().min(0).finite().optional(),
});

/** A time span runs forwards. */
const spanInOrder = (r: TimeSpan) => r.fromMs === undefined || r.toMs === undefined || r.fromMs <= r.toMs;
const SPAN_ORDER = { message: 'a time not before fromMs', path: ['toMs'] };

/** When a region of a video or an animation holds: both ends optional (its start, its end). */
export interface TimeSpan {
  readonly fromMs?: number | undefined;
  readonly toMs?: number | undefined;
}

/** Whether a region with this span holds at `timeMs` (ms from the first frame). */
export const holdsAt = (span: TimeSpan, timeMs: number): boolean =>
  (span.fromMs ?? 0) <= timeMs && timeMs <= (span.toMs ?? Number.POSITIVE_INFINITY);

/**
 * Per-request options: the same names as the config, all optional, validated at the boundary
 * (CLI flags, API query and form fields, web app).
 */
export const processOptionsSchema = z
  .object({
    task: z.enum(['anonymize', 'detect']),
    preset: z.enum(PRESETS),
    targets: z.array(z.enum(LABELS)).min(1),
    method: z.enum(REDACTION_METHODS),
    strength: z.number().min(0.1).max(10),
    feather: z.number().min(0).max(0.5),
    minScore: z.object({ face: z.number().min(0).max(1), plate: z.number().min(0).max(1) }).partial(),
    iouThreshold: z.number().min(0).max(1),
    format: z.enum(['same', ...IMAGE_FORMATS]),
    quality: z.number().int().min(1).max(100),
    keepMetadata: z.boolean(),
    /** Regions drawn by a person: always redacted, whatever the detector says. */
    addRegions: z
      .array(
        rect
          .extend({ label: z.enum(LABELS), shape: z.enum(REGION_SHAPES).optional() })
          .refine(spanInOrder, SPAN_ORDER),
      )
      .max(1000),
    /** Detections whose box lies mostly inside one of these are dropped (false positives). */
    suppress: z.array(rect.refine(spanInOrder, SPAN_ORDER)).max(1000),
  })
  .partial()
  .strict();

export type ProcessOptions = z.infer<typeof processOptionsSchema>;

/** The longest unknown option name `details.option` repeats (it is input, not a name the API defines). */
const SHOWN_NAME_CHARS = 40;

/** Validates options, throwing `E_INVALID_OPTION` with the one message format and the option's facts. */
export function parseProcessOptions(input: unknown): ProcessOptions {
  const result = processOptionsSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = issue.path.join('.') || 'options';
  let actual: unknown = input;
  for (const key of issue.path)
    actual = (actual as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
  throw invalidOption(name, describeExpected(issue), actual, factsOf(issue));
}

/**
 * The API's name of the option an issue is about (`minScore.face`, `addRegions`: the path up to a
 * list index) and, when the issue is about the option or one of its list items, why.
 */
function factsOf(issue: z.core.$ZodIssue): OptionFacts {
  const index = issue.path.findIndex((key) => typeof key !== 'string');
  const named = (index === -1 ? issue.path : issue.path.slice(0, index)) as string[];
  const option = named.join('.') || 'options';
  // A field inside a list item (addRegions.3.width) is not the option: its bounds would mislead.
  if (issue.path.slice(named.length).some((key) => typeof key === 'string')) {
    return { option, reason: 'invalid' };
  }
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = [...named, issue.keys[0] ?? ''].join('.');
      return { option: key.slice(0, SHOWN_NAME_CHARS), reason: 'unknown' };
    }
    case 'invalid_value':
      return { option, reason: 'choice', allowed: issue.values.map(String) };
    case 'invalid_type':
      return { option, reason: 'type' };
    case 'too_small':
      return issue.origin === 'number' && issue.inclusive !== false
        ? { option, reason: 'range', minimum: Number(issue.minimum) }
        : { option, reason: 'invalid' };
    case 'too_big':
      return issue.origin === 'number' && issue.inclusive !== false
        ? { option, reason: 'range', maximum: Number(issue.maximum) }
        : { option, reason: 'invalid' };
    default:
      return { option, reason: 'invalid' };
  }
}

function describeExpected(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return `a ${issue.expected}`;
    case 'too_small':
      return `a ${issue.origin === 'array' ? 'list' : 'value'} of at least ${String(issue.minimum)}`;
    case 'too_big':
      return `a ${issue.origin === 'array' ? 'list' : 'value'} of at most ${String(issue.maximum)}`;
    case 'unrecognized_keys':
      return `no unknown option (${issue.keys.join(', ')})`;
    default:
      return issue.message;
  }
}

/** Per-class detection and region settings after merging config and request. */
export interface ClassSettings {
  readonly models: readonly string[];
  /** Noisy-or exponent of each model in `models`, same order. */
  readonly weights: readonly number[];
  readonly proposalScore: number;
  readonly minScore: number;
  readonly verifier: string | null;
  /** Vehicle model whose finds are searched again for plates; null = none. */
  readonly context: string | null;
  readonly iouThreshold: number;
  /** Smallest object side looked for: max(px, relative x the image's long side). */
  readonly minSize: { readonly px: number; readonly relative: number };
  /** Input budget of the class's fully convolutional models (see `planViews`). */
  readonly maxInputPixels: number;
  /** Input budget of the second search of a large photo's crowds (faces only; 0 = none). */
  readonly crowdInputPixels: number;
  /** Clockwise quarter turns the photo is also read at (faces only). */
  readonly turns: readonly QuarterTurn[];
  readonly scaleX: number;
  readonly scaleY: number;
  readonly shape: RegionShape;
  readonly method: RedactionMethod;
  readonly strength: number;
}

/** Everything one run needs, decided once from config + request options. */
export interface Settings {
  readonly task: 'anonymize' | 'detect';
  readonly preset: Preset;
  readonly targets: readonly Label[];
  readonly classes: Readonly<Record<Label, ClassSettings>>;
  readonly maxViews: number;
  /** Run views mirrored too (test-time augmentation). */
  readonly mirror: boolean;
  /** Keep models to the view cap of their manifest entry. */
  readonly modelViewCaps: boolean;
  readonly vehicleContext: PresetEffort['vehicleContext'];
  readonly sceneChecks: boolean;
  readonly feather: number;
  readonly color: readonly [number, number, number];
  readonly format: 'same' | ImageFormat;
  readonly quality: number;
  readonly keepMetadata: boolean;
  readonly addRegions: NonNullable<ProcessOptions['addRegions']>;
  readonly suppress: NonNullable<ProcessOptions['suppress']>;
  readonly limits: Config['limits'];
}

export function resolveSettings(config: Config, options: ProcessOptions = {}): Settings {
  const preset = options.preset ?? config.preset;
  const effort = PRESET_EFFORT[preset];
  const hex = config.redaction.color;
  const color = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  const classFor = (label: Label): ClassSettings => {
    const c = config.classes[label];
    const override = c.presets[preset];
    const models = override?.models ?? (effort.ensemble ? c.models : c.models.slice(0, 1));
    const weights = { ...c.weights, ...override?.weights };
    const minScore = options.minScore?.[label] ?? override?.minScore ?? c.minScore;
    return {
      models,
      weights: models.map((id) => weights[id] ?? 1),
      proposalScore: Math.min(c.proposalScore, minScore),
      minScore,
      verifier: c.verifier,
      context: c.context,
      iouThreshold: options.iouThreshold ?? c.iouThreshold,
      minSize: c.minSize === undefined ? effort[label] : { px: c.minSize, relative: 0 },
      maxInputPixels: override?.maxInputPixels ?? effort.maxInputPixels,
      crowdInputPixels: label === 'face' ? (override?.crowdInputPixels ?? effort.crowdInputPixels) : 0,
      turns: label === 'face' ? (override?.faceTurns ?? effort.faceTurns) : [],
      scaleX: c.scaleX,
      scaleY: c.scaleY,
      shape: c.shape,
      method: options.method ?? c.method ?? config.redaction.method,
      strength: options.strength ?? c.strength ?? config.redaction.strength,
    };
  };
  return {
    task: options.task ?? config.task,
    preset,
    targets: options.targets ?? config.targets,
    classes: { face: classFor('face'), plate: classFor('plate') },
    maxViews: effort.maxViews,
    modelViewCaps: effort.modelViewCaps,
    vehicleContext: effort.vehicleContext,
    sceneChecks: effort.sceneChecks,
    mirror: effort.mirror,
    feather: options.feather ?? config.redaction.feather,
    color,
    format: options.format ?? config.output.format,
    quality: options.quality ?? config.output.quality,
    keepMetadata: options.keepMetadata ?? config.output.keepMetadata,
    addRegions: options.addRegions ?? [],
    suppress: options.suppress ?? [],
    limits: config.limits,
  };
}
