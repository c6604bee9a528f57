/** Errors: stable codes and the one option-error message format. */

/** What the account routes answer. */
export type {
  ApiKeyScope,
  CredentialsLink,
  IssuedCredentials,
  PublicApiKey,
  PublicUser,
  Role,
} from './accounts-contract.ts';
/** Comparing two engines' detections of one image. */
export {
  type CompareOptions,
  compareDetections,
  type DetectionComparison,
  type DetectionList,
  type DetectionPair,
  type LabelComparison,
} from './compare.ts';
/** Configuration: the one schema and its defaults. */
export {
  type Config,
  type ConfigInput,
  configSchema,
  type DetectionConfig,
  defaultConfig,
  detectionConfig,
  detectionConfigJsonSchema,
  LABELS,
  type Label,
  LOCALES,
  type Locale,
  modelsOfClass,
  PRESET_EFFORT,
  PRESETS,
  type Preset,
  parseConfig,
} from './config.ts';
/** Model output decoders and NMS. */
export { type AnchorLayer, blazeAnchors, decodeBlazeFace } from './decoders/blazeface.ts';
export {
  CTC_CHARSETS,
  type CtcCharset,
  type CtcText,
  decodeCtc,
  PLACEHOLDER,
  PPOCR_KEYS_V1,
} from './decoders/ctc.ts';
export { type DbOptions, decodeDb, type TextCandidate } from './decoders/db.ts';
export {
  decodeRetinaFaceLevel,
  type RetinaFaceCandidate,
  type RetinaFaceLevel,
} from './decoders/retinaface.ts';
export { type Candidate, type DetectorSettings, runDetector } from './detect.ts';
/** The engine contract and the pipeline. */
export type {
  AnimatedImage,
  DecodedImage,
  DecodeLimits,
  DecoderSpec,
  EncodeOptions,
  Engine,
  ImageCodec,
  InferenceSession,
  ModelSpec,
  PagedImage,
  Tensor,
} from './engine.ts';
export { checkImageSize } from './engine.ts';
export {
  ERROR_CODES,
  type ErrorCode,
  invalidOption,
  isNestorError,
  NestorError,
  type NestorErrorJson,
  OPTION_REASONS,
  type OptionFacts,
  type OptionReason,
  optionFacts,
  toNestorError,
} from './errors.ts';
/** Geometry and coordinate spaces. */
export * from './geometry.ts';
/** HEIF (HEIC) decoding with a libheif module the engine passes in. */
export {
  decodeHeif,
  type HeifProperty,
  heifProperties,
  isDisplayP3,
  type LibHeif,
} from './heif.ts';
/** Images: raw pixels, formats, sniffing. */
export {
  countFrames,
  FILE_EXTENSIONS,
  frameStarts,
  IMAGE_FORMATS,
  type ImageFormat,
  INPUT_FORMATS,
  type InputFormat,
  imageSequenceUnsupported,
  isImageSequence,
  MIME_TYPES,
  type RawImage,
  sniffImageFormat,
} from './image.ts';
export { type NmsOptions, nms, type Scored, weightedNms } from './nms.ts';
/** Per-request options. */
export {
  holdsAt,
  type ProcessOptions,
  parseProcessOptions,
  processOptionsSchema,
  resolveSettings,
  type Settings,
  type TimeSpan,
} from './options.ts';
export {
  type AnonymizeResult,
  type BoxJson,
  type Detection,
  type DetectionResult,
  Nestor,
  type NestorDeps,
  outputFormat,
  type Pipeline,
  type Timings,
} from './pipeline.ts';
export { PLATE_TEXT, type PlateTextRules, type PlateTextScore, plateTextScore } from './plate-text.ts';
export { type PlateVerifyOptions, verifyPlates } from './plate-verify.ts';
export { looksLikePlate, PLATE_SHAPE, type PlateShapeRules } from './plates.ts';
export {
  atMostEvery,
  type CallHooks,
  type Progress,
  type ProgressStage,
  progressFraction,
  RunTally,
} from './progress.ts';
/** Redaction. */
export {
  applyRedactions,
  gaussianBlur,
  planOp,
  REDACTION_METHODS,
  REGION_SHAPES,
  type RedactionMethod,
  type RedactionOp,
  type RedactionRegion,
  type RegionShape,
  regionMask,
} from './redact.ts';
/** Sampling model inputs from images. */
export { type InputSpec, letterboxView, MipChain, sampleView, toImageBox, type View } from './sampling.ts';
/** The statistics report of GET /v1/stats. */
export { type HistogramBucket, ROUTE_KINDS, type RouteKind, type StatsReport } from './stats-report.ts';
/** Calls that stop between two steps when their signal aborts (server requests, the web worker). */
export { CallSteps, guardSteps, type PipelineParts } from './steps.ts';
/** Tiling / multi-scale planning. */
export { planViews, type TilingOptions } from './tiling.ts';
/** Tracking objects across video frames. */
export {
  type FrameDetection,
  type FrameDetections,
  flickerFrames,
  type TrackedDetection,
  Tracker,
  type TrackerOptions,
  type TrackSummary,
  trackerOptions,
} from './tracking.ts';
/** Reading photos at quarter turns (sideways faces). */
export { QUARTER_TURNS, type QuarterTurn, turnBox, turnImage, unturnBox } from './turns.ts';
