import type { Config, Label } from './config.ts';
import { modelsOfClass } from './config.ts';
import { CROWD_RULES, crowdAreas } from './crowd.ts';
import {
  type Candidate,
  type ContextObject,
  type DetectorSettings,
  findContext,
  runDetector,
  runDetectorInAreas,
  runDetectorOnVehicles,
} from './detect.ts';
import type {
  AnimatedImage,
  DecodedImage,
  Engine,
  ImageCodec,
  InferenceSession,
  ModelSpec,
  PagedImage,
} from './engine.ts';
import { invalidOption, NestorError } from './errors.ts';
import {
  area,
  boundingBox,
  clipToImage,
  containment,
  type ImageBox,
  imageBox,
  intersectionArea,
  roundOut,
  scaleAboutCentre,
} from './geometry.ts';
import { frameStarts, type ImageFormat, type InputFormat, MIME_TYPES, type RawImage } from './image.ts';
import { fuseEnsemble } from './nms.ts';
import {
  type ClassSettings,
  holdsAt,
  type ProcessOptions,
  resolveSettings,
  type Settings,
  type TimeSpan,
} from './options.ts';
import { verifyPlates } from './plate-verify.ts';
import { isVehicleFace, isWornText, SCENE_MIN_SCORE, VEHICLE_CONTEXT } from './plates.ts';
import { type CallHooks, RunTally } from './progress.ts';
import { applyRedactions, planOp, type RedactionRegion, type RegionShape, regionLuma } from './redact.ts';
import { MipChain } from './sampling.ts';
import { lowLightCurve } from './tone.ts';
import {
  type FrameDetection,
  type FrameDetections,
  Tracker,
  type TrackSummary,
  trackerOptions,
} from './tracking.ts';
import { turnImage, unturnBox } from './turns.ts';

/** Integer pixel rectangle as it appears in the detections schema. */
export interface BoxJson {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One detection of the shared schema (product.md §4). */
export interface Detection {
  label: Label;
  score: number;
  /** What the model found, in original-image pixels. */
  box: BoxJson;
  /** Exactly what anonymize covers. */
  region: BoxJson;
  shape: RegionShape;
  /** `manual` for regions a person added. */
  source: 'model' | 'manual';
}

export interface Timings {
  decodeMs: number;
  detectMs: number;
  redactMs: number;
  encodeMs: number;
  totalMs: number;
}

/** The detections schema shared by the API, CLI, web app and SDK. */
export interface DetectionResult {
  image: {
    width: number;
    height: number;
    /** The input's format (an HEIC photo is written as JPEG: see `outputFormat`). */
    format: InputFormat;
    /** Animated images only: frame count, each frame's delay (ms) and loop count (0 = forever). */
    frames?: number;
    delaysMs?: number[];
    loop?: number;
  };
  /** A still image's detections; empty for an animated image, whose regions are in `frames`. */
  detections: Detection[];
  /** Animated images only, as in the video JSON: frames with regions, and the tracks they belong to. */
  frames?: FrameDetections[];
  tracks?: TrackSummary[];
  /** Per class: detections, or for an animated image tracks plus manual regions. */
  counts: Record<Label, number>;
  timings: Timings;
  engine: string;
  models: Partial<Record<Label, string>>;
}

export interface AnonymizeResult {
  readonly bytes: Uint8Array;
  readonly format: ImageFormat;
  readonly mimeType: string;
  readonly result: DetectionResult;
}

/** What a front end (server, CLI) needs of a pipeline: a `Nestor`, or a pool of them in worker threads. */
export type Pipeline = Pick<Nestor, 'detect' | 'anonymize' | 'warmUp' | 'dispose'>;

export interface NestorDeps {
  readonly engine: Engine;
  readonly codec: ImageCodec;
  readonly models: readonly ModelSpec[];
  readonly config: Config;
  /** How many inferences may run at once per image. */
  readonly concurrency?: number;
}

/** Measured on the dev set: a 10% margin reads best; one crop per run is fastest on CPU. */
const PLATE_VERIFY = { margin: 0.1, batchSize: 1, minScore: 0.3, keepUnreadable: false } as const;

const now = (): number => performance.now();
const ms = (start: number): number => Math.round((now() - start) * 10) / 10;

/**
 * The pipeline: decode (orientation applied) → detect per class → regions → redact → encode.
 * Sessions load lazily on first use and stay until `dispose()`.
 */
export class Nestor {
  private readonly sessions = new Map<string, Promise<InferenceSession>>();

  constructor(private readonly deps: NestorDeps) {}

  get config(): Config {
    return this.deps.config;
  }

  /** `model-id@sha256:…` of each class's models that a run with these options uses, as reported in results. */
  modelIds(options: ProcessOptions = {}): Partial<Record<Label, string>> {
    return this.modelsRun(resolveSettings(this.deps.config, options));
  }

  private modelsRun(settings: Settings): Partial<Record<Label, string>> {
    const out: Partial<Record<Label, string>> = {};
    for (const label of settings.targets) {
      const c = settings.classes[label];
      const context = (settings.vehicleContext || settings.sceneChecks) && c.context ? [c.context] : [];
      out[label] = [...c.models, ...(c.verifier ? [c.verifier] : []), ...context]
        .map((id) => `${id}@sha256:${this.spec(id).sha256}`)
        .join('+');
    }
    return out;
  }

  /** Loads every model the config targets (readiness). */
  async warmUp(): Promise<void> {
    const ids = this.deps.config.targets.flatMap((l) => modelsOfClass(this.deps.config.classes[l]));
    await Promise.all(ids.map((id) => this.session(id)));
  }

  async detect(
    bytes: Uint8Array,
    options: ProcessOptions = {},
    hooks: CallHooks = {},
  ): Promise<DetectionResult> {
    const settings = resolveSettings(this.deps.config, { ...options, task: 'detect' });
    const start = now();
    const tally = new RunTally(hooks.onProgress);
    tally.stage('decode');
    const decoded = await this.decode(bytes, settings);
    return (await this.process(decoded, settings, start, tally)).result;
  }

  async anonymize(
    bytes: Uint8Array,
    options: ProcessOptions = {},
    hooks: CallHooks = {},
  ): Promise<AnonymizeResult> {
    const settings = resolveSettings(this.deps.config, { ...options, task: 'anonymize' });
    const start = now();
    const tally = new RunTally(hooks.onProgress);
    tally.stage('decode');
    const decoded = await this.decode(bytes, settings);
    const out = await this.process(decoded, settings, start, tally);
    if (!out.encoded) throw new NestorError('E_INTERNAL');
    return out.encoded;
  }

  /**
   * Detects on pixels already decoded (video frames): the same detectors and regions as `detect`,
   * without decoding or encoding. `image` is only read.
   */
  async detectPixels(image: RawImage, options: ProcessOptions = {}): Promise<Detection[]> {
    const settings = resolveSettings(this.deps.config, { ...options, task: 'detect' });
    const candidates = await this.detectAll(new MipChain(image, [], lowLightCurve(image)), settings);
    return this.toDetections(candidates, settings, image.width, image.height);
  }

  /** Redacts the regions of `detections` in `image`, in place, with the request's methods (video frames). */
  redactPixels(image: RawImage, detections: readonly Detection[], options: ProcessOptions = {}): void {
    const settings = resolveSettings(this.deps.config, { ...options, task: 'anonymize' });
    applyRedactions(image, this.plan(detections, settings, image));
  }

  async dispose(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map(async (s) => (await s).release()));
  }

  private async decode(
    bytes: Uint8Array,
    settings: Settings,
  ): Promise<{ decoded: DecodedImage; decodeMs: number }> {
    const t = now();
    if (bytes.length > settings.limits.maxBytes) {
      throw new NestorError(
        'E_INPUT_TOO_LARGE',
        `The input has ${bytes.length} bytes, more than the limit of ${settings.limits.maxBytes}`,
      );
    }
    const decoded = await this.deps.codec.decode(bytes, settings.limits);
    return { decoded, decodeMs: ms(t) };
  }

  private async process(
    input: { decoded: DecodedImage; decodeMs: number },
    settings: Settings,
    start: number,
    tally: RunTally,
  ): Promise<{ result: DetectionResult; encoded?: AnonymizeResult }> {
    const { decoded, decodeMs } = input;
    const sequence = decoded.animation ?? decoded.paged;
    if (sequence) return this.processFrames(input, sequence, settings, start, tally);
    const { image } = decoded;
    let t = now();
    tally.stage('detect');
    const candidates = await this.detectAll(
      new MipChain(image, decoded.reductions, lowLightCurve(image)),
      settings,
      tally,
    );
    const detectMs = ms(t);
    const detections = this.toDetections(candidates, settings, image.width, image.height);
    const counts = { face: 0, plate: 0 } as Record<Label, number>;
    for (const d of detections) counts[d.label]++;
    const result: DetectionResult = {
      image: { width: image.width, height: image.height, format: decoded.format },
      detections,
      counts,
      timings: { decodeMs, detectMs, redactMs: 0, encodeMs: 0, totalMs: 0 },
      engine: this.deps.engine.name,
      models: this.modelsRun(settings),
    };
    if (settings.task === 'detect') {
      result.timings.totalMs = ms(start);
      return { result };
    }
    t = now();
    tally.stage('redact');
    applyRedactions(image, this.plan(detections, settings, image));
    result.timings.redactMs = ms(t);
    return this.encode(
      image,
      outputFormat(settings.format, decoded.format),
      settings,
      decoded,
      result,
      start,
      tally,
    );
  }

  /** Encodes the redacted pixels (a still image or every frame) and completes the result's timings. */
  private async encode(
    pixels: RawImage | AnimatedImage | PagedImage,
    format: ImageFormat,
    settings: Settings,
    decoded: DecodedImage,
    result: DetectionResult,
    start: number,
    tally: RunTally,
  ): Promise<{ result: DetectionResult; encoded: AnonymizeResult }> {
    const t = now();
    tally.stage('encode');
    const bytes = await this.deps.codec.encode(
      pixels,
      { format, quality: settings.quality, keepMetadata: settings.keepMetadata },
      decoded,
    );
    result.timings.encodeMs = ms(t);
    result.timings.totalMs = ms(start);
    return { result, encoded: { bytes, format, mimeType: MIME_TYPES[format], result } };
  }

  /**
   * An animated image or a multi-page TIFF: every frame (page) is redacted and all are encoded
   * together; manual regions cover each one (an animation's only within their `fromMs`/`toMs`,
   * as suppressed areas drop finds). An animation is tracked: the detector runs on every
   * frame of a short one, and on every `video.detectEvery`-th frame (and the last) of a longer one;
   * the video tracker joins the runs and carries regions to every frame, so a face one run misses
   * stays covered. Pages are separate images: the detector runs on each page alone, no tracker joins
   * them, and the result has no timing: every `timeMs` 0, no track.
   */
  private async processFrames(
    input: { decoded: DecodedImage; decodeMs: number },
    sequence: AnimatedImage | PagedImage,
    settings: Settings,
    start: number,
    tally: RunTally,
  ): Promise<{ result: DetectionResult; encoded?: AnonymizeResult }> {
    const { decoded, decodeMs } = input;
    const animation = 'frames' in sequence ? sequence : undefined;
    const frames = 'frames' in sequence ? sequence.frames : sequence.pages;
    // Refused before any detection runs: a format that cannot hold every frame (page).
    const format =
      settings.task !== 'anonymize'
        ? undefined
        : animation
          ? outputFormat(settings.format, decoded.format, true)
          : pagesFormat(settings.format);
    const { width, height } = decoded.image;
    const { video } = this.deps.config;
    // The switch: an animation's runs are joined by the tracker; pages are each detected alone.
    const every = animation && frames.length > SHORT_ANIMATION_FRAMES ? video.detectEvery : 1;
    const tracker = animation && new Tracker(trackerOptions(video.tracking, every, width, height));
    let t = now();
    const delays = animation?.delays ?? [];
    const times = frameStarts(delays, frames.length);
    // An animation's frames have times, so a region may hold for a span of them; pages have none.
    const at = <T extends TimeSpan>(items: readonly T[], index: number): T[] =>
      animation ? items.filter((item) => holdsAt(item, times[index]!)) : [...items];
    const perPage: Detection[][] = [];
    const detected = frames.flatMap((frame, index) =>
      index % every === 0 || index === frames.length - 1 ? [{ frame, index }] : [],
    );
    tally.stage('detect');
    for (const [position, { frame, index }] of detected.entries()) {
      tally.frame(position, detected.length);
      const candidates = await this.detectAll(new MipChain(frame, [], lowLightCurve(frame)), settings, tally);
      const modelOnly = { ...settings, addRegions: [], suppress: at(settings.suppress, index) };
      const detections = this.toDetections(candidates, modelOnly, width, height);
      if (tracker) tracker.observe(index, detections);
      else perPage.push(detections);
    }
    const detectMs = ms(t);
    const found: FrameDetection[][] = tracker ? frames.map((_, index) => tracker.at(index)) : perPage;
    const tracks = tracker?.summaries() ?? [];
    const drawn = this.toDetections([], settings, width, height);
    // Pages take every drawn region; an animation's frames, those whose span holds there.
    const manualAt = (index: number) =>
      animation
        ? this.toDetections([], { ...settings, addRegions: at(settings.addRegions, index) }, width, height)
        : drawn;
    const counts = { face: 0, plate: 0 } as Record<Label, number>;
    // A tracked object counts once, however many frames show it; a page's finds each count; so does each drawn region.
    for (const d of [...(tracker ? tracks : perPage.flat()), ...drawn]) counts[d.label]++;
    const perFrame: FrameDetections[] = [];
    for (const [index, detections] of found.entries()) {
      const all = [...detections, ...manualAt(index)];
      if (all.length > 0) perFrame.push({ index, timeMs: animation ? times[index]! : 0, detections: all });
    }
    const result: DetectionResult = {
      image: {
        width,
        height,
        format: decoded.format,
        frames: frames.length,
        ...(animation && { delaysMs: [...animation.delays], loop: animation.loop }),
      },
      detections: [],
      frames: perFrame,
      tracks,
      counts,
      timings: { decodeMs, detectMs, redactMs: 0, encodeMs: 0, totalMs: 0 },
      engine: this.deps.engine.name,
      models: this.modelsRun(settings),
    };
    if (!format) {
      result.timings.totalMs = ms(start);
      return { result };
    }
    t = now();
    tally.stage('redact');
    for (const { index, detections } of perFrame) {
      const frame = frames[index]!;
      applyRedactions(frame, this.plan(detections, settings, frame));
    }
    result.timings.redactMs = ms(t);
    return this.encode(sequence, format, settings, decoded, result, start, tally);
  }

  /** Classes, and the models of an ensemble, run side by side (engines may run them in parallel). */
  private async detectAll(mips: MipChain, settings: Settings, tally?: RunTally): Promise<Candidate[]> {
    // The class with the largest model starts first, so its engine is busy while the others sample views.
    const cost = (label: Label) =>
      Math.max(
        ...settings.classes[label].models.map((id) => this.spec(id).input.width * this.spec(id).input.height),
      );
    const order = [...settings.targets].sort((a, b) => cost(b) - cost(a));
    const scene = this.lazyScene(mips, settings, tally);
    const perClass = await Promise.all(
      order.map((label) => this.detectClass(label, mips, settings, scene, tally)),
    );
    return this.checkScene(
      settings.targets.flatMap((label) => perClass[order.indexOf(label)]!),
      scene,
      settings,
    );
  }

  /** The plates' context model over the whole image: run at most once per image, and only when asked. */
  private lazyScene(
    mips: MipChain,
    settings: Settings,
    tally: RunTally | undefined,
  ): () => Promise<ContextObject[]> {
    const { context } = settings.classes.plate;
    let run: Promise<ContextObject[]> | undefined;
    return () => {
      if (!context) return Promise.resolve([]);
      run ??= this.session(context).then((session) =>
        findContext(session, this.spec(context), mips, SCENE_MIN_SCORE, tally),
      );
      return run;
    };
  }

  /** Where plates were found: lettering on people is not a plate, a vehicle read as a face not a face. */
  private async checkScene(
    found: Candidate[],
    scene: () => Promise<ContextObject[]>,
    settings: Settings,
  ): Promise<Candidate[]> {
    if (!settings.sceneChecks || !found.some((c) => c.label === 'plate')) return found;
    const objects = await scene();
    const kept = found.filter((c) => c.label !== 'plate' || !isWornText(c.box, objects));
    const plates = kept.filter((c) => c.label === 'plate').map((c) => c.box);
    return kept.filter((c) => c.label !== 'face' || !isVehicleFace(c.box, plates, objects));
  }

  private async detectClass(
    label: Label,
    mips: MipChain,
    settings: Settings,
    scene: () => Promise<ContextObject[]>,
    tally: RunTally | undefined,
  ): Promise<Candidate[]> {
    const c = settings.classes[label];
    const longSide = Math.max(mips.base.width, mips.base.height);
    const detector = {
      minScore: c.proposalScore,
      iouThreshold: c.iouThreshold,
      minSize: Math.max(c.minSize.px, c.minSize.relative * longSide),
      maxViews: settings.maxViews,
      maxInputPixels: c.maxInputPixels,
      mirror: settings.mirror,
      modelViewCaps: settings.modelViewCaps,
      concurrency: this.deps.concurrency ?? 1,
    };
    // Each model reads every turn too; its finds there count as its own, one face fused across turns.
    const turnedChains = c.turns.map((turn) => ({
      turn,
      chain: new MipChain(turnImage(mips.base, turn), [], mips.tone),
    }));
    // Vehicles are looked for while the whole-image pass runs.
    const [perModel, vehicles] = await Promise.all([
      Promise.all(
        c.models.map(async (id) => {
          const spec = this.spec(id);
          if (spec.label !== label) {
            throw new NestorError('E_INVALID_CONFIG', `Model ${spec.id} detects ${spec.label}, not ${label}`);
          }
          const session = await this.session(id);
          const upright = await runDetector(session, spec, mips, detector, tally);
          const turned = await Promise.all(
            turnedChains.map(async ({ turn, chain }) =>
              (await runDetector(session, spec, chain, detector, tally)).map((found) => ({
                ...found,
                box: unturnBox(found.box, turn, mips.base.width, mips.base.height),
              })),
            ),
          );
          return [...upright, ...turned.flat()];
        }),
      ),
      this.vehicles(c, mips, settings, scene),
    ]);
    const whole = await this.decide(c, mips, perModel, tally);
    whole.push(...(await this.searchCrowds(c, mips, detector, whole, tally)));
    if (!vehicles.some((v) => v.kind === 'vehicle' && v.score >= VEHICLE_CONTEXT.minVehicleScore))
      return whole;
    // Each model searches every vehicle again, finer; its finds are decided on their own.
    const perModelInside = await Promise.all(
      c.models.map(async (id) =>
        runDetectorOnVehicles(
          await this.session(id),
          this.spec(id),
          mips,
          vehicles,
          detector,
          VEHICLE_CONTEXT,
          tally,
        ),
      ),
    );
    const inside = await this.decide(c, mips, perModelInside, tally);
    // The whole-image finds stand: a vehicle's finer view adds only plates they do not touch.
    return [
      ...whole,
      ...inside.filter((i) => !whole.some((w) => intersectionArea(w.box, i.box) > 0.3 * area(i.box))),
    ];
  }

  /**
   * Where a large photo's first pass found faces at its resolution limit, the class's fully
   * convolutional models (the ones the input budget held back) search those areas again at the
   * crowd budget, shared by area. Only finds the first pass does not already have are returned.
   */
  private async searchCrowds(
    c: ClassSettings,
    mips: MipChain,
    detector: DetectorSettings,
    found: readonly Candidate[],
    tally: RunTally | undefined,
  ): Promise<Candidate[]> {
    const { width, height } = mips.base;
    const pixels = width * height;
    if (c.crowdInputPixels <= c.maxInputPixels || pixels <= c.maxInputPixels) return [];
    const scale = Math.sqrt(c.maxInputPixels / pixels);
    const areas = crowdAreas(
      found.map((f) => f.box),
      width,
      height,
      scale,
      CROWD_RULES,
    );
    const readFiner = c.models.filter((id) => this.spec(id).input.sizeMultiple);
    if (areas.length === 0 || readFiner.length === 0) return [];
    const total = areas.reduce((sum, a) => sum + area(a), 0);
    const budgeted = areas.map((box) => ({
      box,
      maxInputPixels: Math.max(1, Math.floor((c.crowdInputPixels * area(box)) / total)),
    }));
    const perModel = await Promise.all(
      readFiner.map(async (id) =>
        (
          await runDetectorInAreas(await this.session(id), this.spec(id), mips, budgeted, detector, tally)
        ).flat(),
      ),
    );
    const inCrowds = await this.decide(
      { ...c, models: readFiner, weights: readFiner.map(() => CROWD_RULES.modelWeight) },
      mips,
      perModel,
      tally,
    );
    return inCrowds.filter((i) => !found.some((f) => intersectionArea(f.box, i.box) > 0.3 * area(i.box)));
  }

  /** Ensemble fusion, the class threshold, then the verifier (plates' reading check). */
  private async decide(
    c: ClassSettings,
    mips: MipChain,
    perModel: Candidate[][],
    tally: RunTally | undefined,
  ): Promise<Candidate[]> {
    const fused = fuseEnsemble(perModel, {
      iouThreshold: c.iouThreshold,
      containmentThreshold: 0.75,
      weights: c.weights,
    });
    const kept = fused.filter((f) => f.score >= c.minScore);
    if (!c.verifier || kept.length === 0) return kept;
    return verifyPlates(
      await this.session(c.verifier),
      this.spec(c.verifier),
      mips,
      kept,
      PLATE_VERIFY,
      tally,
    );
  }

  /**
   * Vehicles found by the class's context model, when the preset searches them at this image size
   * and the input budget shrank the image (below it, the whole-image pass already sees every pixel).
   */
  private async vehicles(
    c: ClassSettings,
    mips: MipChain,
    settings: Settings,
    scene: () => Promise<ContextObject[]>,
  ): Promise<ContextObject[]> {
    const pixels = mips.base.width * mips.base.height;
    const limit = settings.vehicleContext?.maxImagePixels ?? 0;
    if (!c.context || pixels <= c.maxInputPixels || pixels > limit) return [];
    return scene();
  }

  private toDetections(
    candidates: Candidate[],
    settings: Settings,
    width: number,
    height: number,
  ): Detection[] {
    const kept = candidates.filter((c) => !settings.suppress.some((s) => containment(c.box, s) >= 0.5));
    const detections: Detection[] = kept
      .sort((a, b) => b.score - a.score)
      .map((c) => {
        const cls = settings.classes[c.label];
        // Where the models of an ensemble disagree on the extent, the region covers every view of it.
        const grown = (c.sightings ?? []).map((b) => scaleAboutCentre(b, cls.scaleX, cls.scaleY));
        const region = clipToImage(
          boundingBox([scaleAboutCentre(c.box, cls.scaleX, cls.scaleY), ...grown]),
          width,
          height,
        );
        return {
          label: c.label,
          score: Math.round(c.score * 1e4) / 1e4,
          box: toJson(clipToImage(c.box, width, height)),
          region: toJson(region),
          shape: cls.shape,
          source: 'model' as const,
        };
      });
    for (const r of settings.addRegions) {
      const box = clipToImage(imageBox(r.x, r.y, r.width, r.height), width, height);
      detections.push({
        label: r.label,
        score: 1,
        box: toJson(box),
        region: toJson(box),
        shape: r.shape ?? settings.classes[r.label].shape,
        source: 'manual',
      });
    }
    return detections.filter((d) => d.region.width > 0 && d.region.height > 0);
  }

  private plan(
    detections: readonly Pick<Detection, 'label' | 'region' | 'shape'>[],
    settings: Settings,
    image: RawImage,
  ): RedactionRegion[] {
    return detections.map((d) => {
      const cls = settings.classes[d.label];
      const region = d.region;
      const op = planOp(
        cls.method,
        cls.strength,
        region,
        () => regionLuma(image, region, d.shape),
        settings.color,
      );
      return {
        region,
        shape: d.shape,
        op,
        feather: settings.feather * Math.min(region.width, region.height),
      };
    });
  }

  private spec(id: string): ModelSpec {
    const spec = this.deps.models.find((m) => m.id === id);
    if (!spec) throw new NestorError('E_INVALID_CONFIG', `Unknown model id ${id}`);
    return spec;
  }

  private session(id: string): Promise<InferenceSession> {
    let s = this.sessions.get(id);
    if (!s) {
      s = this.deps.engine.loadModel(this.spec(id));
      this.sessions.set(id, s);
      // A failed load is retried on the next request rather than cached.
      s.catch(() => this.sessions.delete(id));
    }
    return s;
  }
}

/** Formats that hold an animation (sharp writes both; the others would keep one frame). */
const ANIMATED_FORMATS: readonly ImageFormat[] = ['gif', 'webp'];

/** Up to this many frames the detector runs on each (measured in packages/core/README.md). */
const SHORT_ANIMATION_FRAMES = 30;

/**
 * The format a result is written in. A still GIF becomes PNG (a new palette would be lossy); an
 * HEIC photo becomes JPEG (no HEVC encoder, and JPEG is what a phone exports); an animated image
 * stays animated, so only GIF and WebP are accepted for it.
 * @throws NestorError `E_INVALID_OPTION` for an animated input and a format that cannot animate
 * @example outputFormat('same', 'gif', true) // 'gif'
 */
export function outputFormat(
  requested: Settings['format'],
  input: InputFormat,
  animated = false,
): ImageFormat {
  const format = requested === 'same' ? sameFormat(input, animated) : requested;
  if (animated && !ANIMATED_FORMATS.includes(format)) {
    // Writing one frame would drop the rest of the animation without saying so.
    throw invalidOption('format', 'one of "same", "gif", "webp" for an animated image', requested, {
      reason: 'choice',
      allowed: ['same', ...ANIMATED_FORMATS],
    });
  }
  return format;
}

function sameFormat(input: InputFormat, animated: boolean): ImageFormat {
  if (input === 'heic') return 'jpeg';
  return input === 'gif' && !animated ? 'png' : input;
}

/**
 * The format a multi-page TIFF is written in: only TIFF holds pages.
 * @throws NestorError `E_INVALID_OPTION` for any other format
 * @example pagesFormat('same') // 'tiff'
 */
export function pagesFormat(requested: Settings['format']): ImageFormat {
  // Writing one page would drop the others without saying so.
  if (requested !== 'same' && requested !== 'tiff') {
    throw invalidOption('format', 'one of "same", "tiff" for a multi-page TIFF', requested, {
      reason: 'choice',
      allowed: ['same', 'tiff'],
    });
  }
  return 'tiff';
}

function toJson(box: ImageBox): BoxJson {
  const r = roundOut(box);
  return { x: r.x, y: r.y, width: r.width, height: r.height };
}
