import {
  type DetectionResult,
  type FrameDetections,
  type Label,
  NestorError,
  type OptionFacts,
  type TrackSummary,
} from '@nestor/core';
import { checkMs } from './retry.ts';
import { fromServer, nestorError } from './transport.ts';

/** `GET /v1/jobs/:id`: where a job stands. */
export interface JobStatus {
  readonly id: string;
  readonly kind: 'video' | 'images';
  readonly state: 'queued' | 'active' | 'completed' | 'failed';
  /** 0–1. */
  readonly progress: number;
  readonly etaSeconds?: number;
  /** Runs so far (a retried job counts each). */
  readonly attempts: number;
  /** Why a failed job failed (`code` is the server's, as in error answers; `details` for a refused option). */
  readonly error?: { readonly code: string; readonly message: string; readonly details?: OptionFacts };
  /** The result file, once completed (`detections.json` for a `detect` job). */
  readonly output?: { readonly fileName: string; readonly mimeType: string; readonly bytes: number };
}

/** The detections JSON of a video job (product.md §4); an animated image's result has the same `frames` and `tracks`. */
export interface VideoDetections {
  readonly video: {
    readonly width: number;
    readonly height: number;
    readonly container: 'mp4' | 'mov' | 'mkv' | 'webm';
    readonly frameRate: string;
    readonly variableFrameRate: boolean;
    /** `exact`: each frame keeps its input time; `average-rate`: a variable rate was evened out. */
    readonly timestamps: 'constant-rate' | 'exact' | 'average-rate';
    readonly rotation: number;
    readonly frames: number;
    readonly durationMs: number;
    readonly audioStreams: number;
  };
  /** Frames with at least one region. */
  readonly frames: readonly FrameDetections[];
  readonly tracks: readonly TrackSummary[];
  /** Tracks per class. */
  readonly counts: Readonly<Record<Label, number>>;
  readonly stats: {
    readonly detectEvery: number;
    readonly detectorRuns: number;
    /** Frames covered only because the tracker carried a region. */
    readonly trackedFrames: number;
    /** Detector runs inside tracks that missed them. */
    readonly detectorMisses: number;
    /** Frames inside a track's span left without its region (0 by construction). */
    readonly flickerFrames: number;
  };
  readonly timings: { readonly totalMs: number; readonly fps: number };
  readonly models: Readonly<Partial<Record<Label, string>>>;
}

/** The detections JSON of a batch of images: one entry per file, a result or its error. */
export interface BatchDetections {
  readonly results: readonly ({ readonly file: string } & (
    | DetectionResult
    | {
        /** As a failed job's (`details` for a refused option). */
        readonly error: { readonly code: string; readonly message: string; readonly details?: OptionFacts };
      }
  ))[];
}

/** `GET /v1/jobs/:id/result`: the anonymized video, or a ZIP of the images. */
export interface JobResult {
  readonly blob: Blob;
  readonly mimeType: string;
  readonly fileName: string;
}

/** `downloadJob`: all a finished job has; the server has deleted the job by then. */
export interface JobOutput {
  readonly status: JobStatus;
  readonly detections: VideoDetections | BatchDetections;
  /** The anonymized video or ZIP; absent for a `detect` job, whose result is the detections. */
  readonly file?: JobResult;
}

/** Options of `waitForJob` and `downloadJob`. */
export interface WaitForJobOptions {
  /** Stops waiting (and each poll); the call then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** The first wait between two polls in ms, growing ×1.5 per poll up to `maxPollIntervalMs`. Default 1000. */
  readonly pollIntervalMs?: number;
  /** The longest wait between two polls in ms. Default 10 000. */
  readonly maxPollIntervalMs?: number;
  /** Called with each status read, the final one included; a throw ends the wait with that error. */
  readonly onProgress?: (status: JobStatus) => void;
  /** On abort, cancel the job first (`DELETE /v1/jobs/:id`: it stops and its files go). Default false. */
  readonly cancelOnAbort?: boolean;
}

/** What `waitForJob` needs of the client. */
export interface JobPoller {
  /** `GET /v1/jobs/:id`, aborted by `signal`. */
  readonly status: (id: string, signal: AbortSignal) => Promise<JobStatus>;
  /** `DELETE /v1/jobs/:id`, whatever aborted the wait. */
  readonly cancel: (id: string) => Promise<void>;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

const GROWTH = 1.5;

/** The error a failed job reports, as a NestorError (its server code in `details.code`). */
export function jobFailure(status: JobStatus): NestorError {
  const error = nestorError(status.error);
  return error
    ? fromServer(error, { jobId: status.id })
    : new NestorError('E_INTERNAL', `Job ${status.id} failed without an error`, {
        details: { jobId: status.id },
      });
}

/**
 * Polls a job until it completes (resolving with that status) or fails (rejecting with its error).
 * `signal` is the caller's, already joined with the client's.
 */
export async function waitForJob(
  poller: JobPoller,
  id: string,
  signal: AbortSignal,
  options: WaitForJobOptions,
): Promise<JobStatus> {
  const first = checkMs('pollIntervalMs', options.pollIntervalMs ?? 1000);
  const longest = checkMs('maxPollIntervalMs', options.maxPollIntervalMs ?? 10_000);
  try {
    for (let interval = Math.min(first, longest); ; interval = Math.min(longest, interval * GROWTH)) {
      const status = await poller.status(id, signal);
      options.onProgress?.(status);
      if (status.state === 'completed') return status;
      if (status.state === 'failed') throw jobFailure(status);
      await poller.sleep(interval, signal);
    }
  } catch (error) {
    if (signal.aborted && options.cancelOnAbort) await cancel(poller, id);
    throw error;
  }
}

async function cancel(poller: JobPoller, id: string): Promise<void> {
  try {
    await poller.cancel(id);
  } catch (error) {
    // Already gone (finished and delivered, or expired) is as good as cancelled.
    if (error instanceof NestorError && error.code === 'E_NOT_FOUND') return;
    const code = error instanceof NestorError ? error.code : 'E_INTERNAL';
    const reason = error instanceof Error ? error.message : String(error);
    throw new NestorError(
      code,
      `The wait for job ${id} was aborted, but the job was not cancelled: ${reason}`,
      {
        cause: error,
        details: { jobId: id },
      },
    );
  }
}
