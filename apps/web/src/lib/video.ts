import { ERROR_CODES, type ErrorCode, LABELS, type Label, NestorError, optionFacts } from '@nestor/core';
import type { JobStatus, VideoDetections } from '@nestor/sdk';

/** The containers the server reads (packages/video); the picker offers these. */
export const VIDEO_EXTENSIONS = ['.mp4', '.m4v', '.mov', '.mkv', '.webm'] as const;
export const VIDEO_ACCEPT = [
  ...VIDEO_EXTENSIONS,
  'video/mp4',
  'video/quicktime',
  'video/x-matroska',
  'video/webm',
].join(',');

/** A file the page sends: a known extension, or a video type (the server checks the bytes anyway). */
export function isVideoFile(name: string, type: string): boolean {
  const lower = name.toLowerCase();
  return VIDEO_EXTENSIONS.some((ext) => lower.endsWith(ext)) || type.startsWith('video/');
}

/** A file's name without its extension (`video` when nothing is left). */
const stemOf = (name: string): string => name.replace(/\.[^./\\]*$/, '') || 'video';

/** `clip.mov` with a result named `anonymized.mov` → `clip.anonymized.mov`. */
export function anonymizedVideoName(original: string, resultFileName: string): string {
  const ext = /\.[a-z0-9]+$/i.exec(resultFileName)?.[0] ?? '';
  return `${stemOf(original)}.anonymized${ext}`;
}

/** `clip.mp4` → `clip.detections.json`. */
export const videoDetectionsName = (original: string): string => `${stemOf(original)}.detections.json`;

/** `clip.mp4` → `clip.corrections.json`: the file `nestor --regions` reads. */
export const correctionsName = (original: string): string => `${stemOf(original)}.corrections.json`;

export interface VideoSummary {
  readonly frames: number;
  readonly durationSeconds: number;
  /** Frames with at least one region. */
  readonly framesWithRegions: number;
  readonly tracks: number;
  /** Tracks per class. */
  readonly counts: Readonly<Record<Label, number>>;
  readonly fps: number;
}

/** What the page shows of a video's detections JSON. */
export function summarizeVideo(detections: VideoDetections): VideoSummary {
  const counts = Object.fromEntries(LABELS.map((l) => [l, detections.counts[l] ?? 0])) as Record<
    Label,
    number
  >;
  return {
    frames: detections.video.frames,
    durationSeconds: Math.round(detections.video.durationMs / 100) / 10,
    framesWithRegions: detections.frames.length,
    tracks: detections.tracks.length,
    counts,
    fps: Math.round(detections.timings.fps * 10) / 10,
  };
}

/** Seconds left as minutes and seconds (`{ minutes: 1, seconds: 5 }`), rounded up to whole seconds. */
export function splitEta(seconds: number): { minutes: number; seconds: number } {
  const whole = Math.max(0, Math.ceil(seconds));
  return { minutes: Math.floor(whole / 60), seconds: whole % 60 };
}

const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);

/**
 * An error answer (`{"error":{"code","message","details"?}}`) as the SDK reports it: unknown codes
 * kept in details, with a refused option's facts.
 */
export function errorFromAnswer(status: number, body: string): NestorError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)
    ?.error;
  if (typeof error?.code === 'string' && typeof error.message === 'string') {
    const code = isErrorCode(error.code) ? error.code : 'E_INTERNAL';
    const facts = optionFacts(error.details);
    return new NestorError(code, error.message, { details: { ...facts, status, code: error.code } });
  }
  return new NestorError('E_INTERNAL', `The server answered ${status} without a Nestor error body`, {
    details: { status },
  });
}

/** A failed job's error as a NestorError, so it becomes a sentence like any other. */
export function jobFailure(status: JobStatus): NestorError {
  const code = status.error?.code ?? 'E_INTERNAL';
  return new NestorError(isErrorCode(code) ? code : 'E_INTERNAL', status.error?.message ?? 'The job failed', {
    details: { code },
  });
}
