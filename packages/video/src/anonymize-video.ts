import {
  type Config,
  type Detection,
  type FrameDetection,
  type FrameDetections,
  holdsAt,
  LABELS,
  type Label,
  type Nestor,
  NestorError,
  type ProcessOptions,
  type TimeSpan,
  type TrackedDetection,
  Tracker,
  type TrackSummary,
  trackerOptions,
} from '@nestor/core';
import {
  createEncoder,
  createTimestampedEncoder,
  decodeFrames,
  type EncoderSettings,
  type FrameEncoder,
  mkvmergeAvailable,
} from './ffmpeg.ts';
import { probeVideo, type VideoContainer, type VideoInfo } from './probe.ts';
import { evenRect, writeRgbChanges, yuvLayout, yuvToRgb } from './yuv.ts';

/** What video anonymization needs of a pipeline. */
export type FramePipeline = Pick<Nestor, 'detectPixels' | 'redactPixels' | 'modelIds' | 'config'>;

/** Per-video settings: the config's `video` section, overridable per request. */
export type VideoSettings = Config['video'];

export interface VideoProgress {
  /** Frames done so far, of `frames` (ffprobe's count). */
  readonly frame: number;
  readonly frames: number;
  /** Frames per second so far. */
  readonly fps: number;
  readonly etaSeconds: number;
}

export interface VideoJob {
  readonly input: string;
  /** Where the anonymized video goes; absent = detect only. */
  readonly output?: string;
  readonly options?: ProcessOptions;
  readonly video?: Partial<Pick<VideoSettings, 'detectEvery' | 'preset'>>;
  readonly onProgress?: (progress: VideoProgress) => void;
  readonly signal?: AbortSignal;
}

/** The video detections JSON (product.md §4): video, frames (those with detections), tracks. */
export interface VideoResult {
  video: {
    width: number;
    height: number;
    container: VideoContainer;
    frameRate: string;
    variableFrameRate: boolean;
    /**
     * How the output's frames are timed: `constant-rate` at the declared rate, `exact` each
     * frame at its input time (variable rate, through mkvmerge), `average-rate` evenly at
     * frames / duration (variable rate without mkvmerge, or without stored timestamps).
     */
    timestamps: VideoTimestamps;
    rotation: number;
    frames: number;
    durationMs: number;
    audioStreams: number;
  };
  frames: FrameDetections[];
  tracks: TrackSummary[];
  /** Tracks per class. */
  counts: Record<Label, number>;
  stats: {
    detectEvery: number;
    detectorRuns: number;
    /** Frames covered only because the tracker carried a region (detector did not run or missed). */
    trackedFrames: number;
    /** Detector runs inside tracks that missed them (each would have flickered without tracking). */
    detectorMisses: number;
    /** Frames inside a track's span left without its region: flicker. 0 by construction, checked. */
    flickerFrames: number;
  };
  timings: { totalMs: number; fps: number };
  models: Partial<Record<Label, string>>;
}

export type VideoTimestamps = 'constant-rate' | 'exact' | 'average-rate';

interface Frame {
  readonly index: number;
  readonly data: Buffer;
}

interface Run {
  readonly index: number;
  done: boolean;
  readonly detections: Promise<Detection[]>;
}

/**
 * Anonymizes (or with no output, only analyses) a video: frames are decoded by ffmpeg, the
 * detector runs on every Nth frame, the tracker carries regions to the frames between and holds
 * them around first and last sight, each frame is redacted and piped to the encoder with the
 * original audio. Memory is bounded by a lookahead of a few frames, whatever the video's length.
 */
export async function anonymizeVideo(nestor: FramePipeline, job: VideoJob): Promise<VideoResult> {
  const started = performance.now();
  const config = nestor.config;
  const settings = { ...config.video, ...job.video };
  const options: ProcessOptions = { preset: settings.preset, ...job.options };
  const detectOnly = !job.output || options.task === 'detect';
  const info = await probeVideo(job.input);
  checkLimits(info, config);

  const every = settings.detectEvery;
  const tracking = trackerOptions(settings.tracking, every, info.width, info.height);
  const { holdBefore } = tracking;
  const tracker = new Tracker(tracking);
  const manual = manualRegions(options, info, config);
  const detectOptions: ProcessOptions = { ...options, addRegions: [] };
  const suppress = options.suppress ?? [];
  const encoderSettings: EncoderSettings = {
    container: info.container,
    x264Preset: settings.x264Preset,
    crf: settings.crf,
    keepMetadata: options.keepMetadata ?? config.output.keepMetadata,
  };
  const timestamps: VideoTimestamps = !info.variableFrameRate
    ? 'constant-rate'
    : info.frameTimes && (detectOnly || (await mkvmergeAvailable()))
      ? 'exact'
      : 'average-rate';
  const encoder: FrameEncoder | undefined = detectOnly
    ? undefined
    : timestamps === 'exact'
      ? createTimestampedEncoder(job.input, job.output!, info, encoderSettings, info.frameTimes!)
      : createEncoder(job.input, job.output!, info, encoderSettings);

  const frameMs = (1000 * info.frameRate.den) / info.frameRate.num;
  const times = info.frameTimes;
  // A frame's time from the first frame: its own where the input stores them, else by the rate.
  const timeMs = (index: number) =>
    times?.[index] !== undefined
      ? Math.round((times[index]! - times[0]!) * 1000)
      : Math.round(index * frameMs);
  const frames: VideoResult['frames'] = [];
  const trackFrames = new Map<number, number>();
  let trackedFrames = 0;
  let detectorRuns = 0;
  const buffer: Frame[] = [];
  const runs: Run[] = [];
  // Enough frames for the holds plus one detector run in flight while the next frames decode.
  const maxBuffer = holdBefore + every + 2;
  let read = 0;
  let done = 0;

  const layout = yuvLayout(info.width, info.height);
  const startRun = (frame: Frame) => {
    detectorRuns++;
    const run: Run = {
      index: frame.index,
      done: false,
      detections: nestor
        .detectPixels(yuvToRgb(frame.data, layout), {
          ...detectOptions,
          // A false find a person named is dropped where they said it shows.
          suppress: suppress.filter((s) => holdsAt(s, timeMs(frame.index))),
        })
        .finally(() => {
          run.done = true;
        }),
    };
    // Awaited in order later; a failure is raised there, not as an unhandled rejection.
    run.detections.catch(() => {});
    runs.push(run);
  };

  const emit = async (frame: Frame) => {
    const tracked: TrackedDetection[] = tracker.at(frame.index);
    const time = timeMs(frame.index);
    const regions: FrameDetection[] = [
      ...tracked,
      ...manual.filter((m) => holdsAt(m.span, time)).map((m) => m.detection),
    ];
    for (const d of tracked) {
      trackFrames.set(d.track, (trackFrames.get(d.track) ?? 0) + 1);
      if (d.source === 'tracker') trackedFrames++;
    }
    if (regions.length > 0) {
      frames.push({ index: frame.index, timeMs: time, detections: regions });
      if (encoder) for (const region of regions) redact(frame.data, region);
    }
    if (encoder) await encoder.write(frame.data);
    tracker.forget(frame.index);
    done++;
    const elapsed = (performance.now() - started) / 1000;
    const fps = done / Math.max(elapsed, 1e-3);
    job.onProgress?.({
      frame: done,
      frames: Math.max(info.frames, done),
      fps,
      etaSeconds: Math.max(0, info.frames - done) / Math.max(fps, 1e-3),
    });
  };

  /** Redacts one region: only the pixels around it go to RGB and back (with context for the blur). */
  const redact = (data: Buffer, d: FrameDetection) => {
    const rect = evenRect(d.region, Math.max(d.region.width, d.region.height) / 2 + 2, layout);
    const rgb = yuvToRgb(data, layout, rect);
    const before = rgb.data.slice();
    const shift = <T extends { x: number; y: number }>(b: T): T => ({
      ...b,
      x: b.x - rect.x0,
      y: b.y - rect.y0,
    });
    const local: Detection = {
      ...d,
      box: shift(d.box),
      region: shift(d.region),
      source: d.source === 'manual' ? 'manual' : 'model',
    };
    nestor.redactPixels(rgb, [local], options);
    writeRgbChanges(data, layout, rect, before, rgb.data);
  };

  /** Observes finished runs in order and emits every frame whose regions are final. */
  const settle = async (final: boolean) => {
    for (;;) {
      const head = buffer[0];
      if (!head) return;
      const needed = final ? Number.POSITIVE_INFINITY : head.index + holdBefore;
      const run = runs[0];
      if (run && run.index <= needed) {
        // Let the detector work while more frames decode, unless the lookahead is full.
        if (!final && !run.done && buffer.length < maxBuffer) return;
        runs.shift();
        tracker.observe(
          run.index,
          (await run.detections).filter((d) => d.source === 'model'),
        );
        continue;
      }
      // A frame after `needed` must be read: were `needed` the last frame, its run starts only at the end.
      if (!final && read - 1 <= needed) return;
      buffer.shift();
      await emit(head);
    }
  };

  // The decoder stops on abort itself; the encoder must too, or a job cancelled after decoding finishes.
  const stopEncoder = () => encoder?.abort();
  job.signal?.addEventListener('abort', stopEncoder);
  try {
    for await (const data of decodeFrames(job.input, info, job.signal)) {
      const frame = { index: read++, data };
      buffer.push(frame);
      if (frame.index % every === 0) startRun(frame);
      await settle(false);
    }
    if (read === 0) throw new NestorError('E_DECODE', 'The video has no frames');
    // The last frame always gets a detector run, so objects appearing at the very end are seen.
    const last = buffer[buffer.length - 1];
    if (last && last.index % every !== 0) startRun(last);
    await settle(true);
    job.signal?.throwIfAborted();
    await encoder?.finish();
    job.signal?.throwIfAborted();
  } catch (error) {
    encoder?.abort();
    // A cancelled job fails as cancelled, not with the encoder error its killing caused.
    job.signal?.throwIfAborted();
    throw error;
  } finally {
    job.signal?.removeEventListener('abort', stopEncoder);
  }

  const summaries = tracker.summaries();
  const counts = Object.fromEntries(
    LABELS.map((l) => [l, summaries.filter((s) => s.label === l).length]),
  ) as Record<Label, number>;
  const totalMs = Math.round(performance.now() - started);
  return {
    video: {
      width: info.width,
      height: info.height,
      container: info.container,
      frameRate: `${info.frameRate.num}/${info.frameRate.den}`,
      variableFrameRate: info.variableFrameRate,
      timestamps,
      rotation: info.rotation,
      frames: read,
      durationMs: info.durationMs,
      audioStreams: info.audioStreams,
    },
    frames,
    tracks: summaries,
    counts,
    stats: {
      detectEvery: every,
      detectorRuns,
      trackedFrames,
      detectorMisses: summaries.reduce((n, s) => n + s.misses, 0),
      flickerFrames: summaries.reduce(
        (n, s) => n + Math.max(0, s.lastFrame - s.firstFrame + 1 - (trackFrames.get(s.id) ?? 0)),
        0,
      ),
    },
    timings: { totalMs, fps: Math.round((read / Math.max(totalMs / 1000, 1e-3)) * 10) / 10 },
    models: nestor.modelIds(options),
  };
}

function checkLimits(info: VideoInfo, config: Config): void {
  if (info.durationMs > config.video.maxDurationSeconds * 1000) {
    throw new NestorError(
      'E_INPUT_TOO_LARGE',
      `The video lasts ${Math.round(info.durationMs / 1000)} s, more than the limit of ${config.video.maxDurationSeconds} s`,
    );
  }
  if (info.width * info.height > config.limits.maxPixels) {
    throw new NestorError(
      'E_TOO_MANY_PIXELS',
      `Frames of ${info.width}x${info.height} exceed the pixel limit`,
    );
  }
}

/** A region a person drew, and when it holds. */
interface ManualRegion {
  readonly detection: FrameDetection;
  readonly span: TimeSpan;
}

/** Regions a person drew: covered on every frame of their span, whatever the detector says. */
function manualRegions(options: ProcessOptions, info: VideoInfo, config: Config): ManualRegion[] {
  return (options.addRegions ?? []).flatMap((r) => {
    const x0 = Math.max(0, Math.floor(r.x));
    const y0 = Math.max(0, Math.floor(r.y));
    const x1 = Math.min(info.width, Math.ceil(r.x + r.width));
    const y1 = Math.min(info.height, Math.ceil(r.y + r.height));
    if (x1 <= x0 || y1 <= y0) return [];
    const box = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
    const detection: FrameDetection = {
      label: r.label,
      score: 1,
      box,
      region: box,
      shape: r.shape ?? config.classes[r.label].shape,
      source: 'manual',
    };
    return [{ detection, span: { fromMs: r.fromMs, toMs: r.toMs } }];
  });
}
