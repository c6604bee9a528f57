import { execFile } from 'node:child_process';
import { NestorError } from '@nestor/core';

/** Containers Nestor reads and writes (the output keeps the input's by default). */
export const VIDEO_CONTAINERS = ['mp4', 'mov', 'mkv', 'webm'] as const;
export type VideoContainer = (typeof VIDEO_CONTAINERS)[number];

export const VIDEO_MIME_TYPES: Readonly<Record<VideoContainer, string>> = {
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  mkv: 'video/x-matroska',
  webm: 'video/webm',
};

export const VIDEO_EXTENSIONS: Readonly<Record<VideoContainer, string>> = {
  mp4: '.mp4',
  mov: '.mov',
  mkv: '.mkv',
  webm: '.webm',
};

/** A frame rate as a fraction (30000/1001 stays exact). */
export interface Rational {
  readonly num: number;
  readonly den: number;
}

/** What Nestor needs to know of a video before decoding it. */
export interface VideoInfo {
  readonly container: VideoContainer;
  /** Frame size as displayed (rotation applied): the size of decoded frames. */
  readonly width: number;
  readonly height: number;
  /** Rotation stored in the file, degrees (ffmpeg applies it when decoding). */
  readonly rotation: number;
  /** The rate frames are written at: the declared rate, or frames / duration when it varies. */
  readonly frameRate: Rational;
  /** The stored timestamps are not evenly spaced. */
  readonly variableFrameRate: boolean;
  /**
   * Variable-rate videos only: each frame's presentation time in seconds from the file's start,
   * in presentation order (absent when the file stores none).
   */
  readonly frameTimes?: readonly number[];
  readonly durationMs: number;
  /** Frames in the video stream (packets counted by ffprobe). */
  readonly frames: number;
  readonly videoCodec: string;
  /** Audio streams (copied unchanged). */
  readonly audioStreams: number;
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  duration?: string;
  nb_frames?: string;
  nb_read_packets?: string;
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number }[];
  disposition?: { attached_pic?: number };
}

export interface ProbeJson {
  streams?: ProbeStream[];
  format?: {
    format_name?: string;
    duration?: string;
    start_time?: string;
    tags?: Record<string, string>;
  };
}

const parseRate = (text: string | undefined): Rational | undefined => {
  const m = /^(\d+)\/(\d+)$/.exec(text ?? '');
  if (!m) return undefined;
  const num = Number(m[1]);
  const den = Number(m[2]);
  return num > 0 && den > 0 ? { num, den } : undefined;
};

const rateValue = (r: Rational) => r.num / r.den;

/** A fraction close to `value` with a small denominator (frames / duration of a VFR video). */
function toRational(value: number): Rational {
  const den = 1000;
  return { num: Math.max(1, Math.round(value * den)), den };
}

function containerOf(format: string, videoCodec: string, audioCodecs: readonly string[], brand: string) {
  const names = format.split(',');
  if (names.includes('mov') || names.includes('mp4')) return brand.trim() === 'qt' ? 'mov' : 'mp4';
  if (names.includes('matroska') || names.includes('webm')) {
    const webmVideo = ['vp8', 'vp9', 'av1'].includes(videoCodec);
    const webmAudio = audioCodecs.every((c) => c === 'opus' || c === 'vorbis');
    return webmVideo && webmAudio ? 'webm' : 'mkv';
  }
  return undefined;
}

/** Deltas further than this from the mean spacing are real rate changes, not timestamp rounding. */
const spacingTolerance = (meanDelta: number) => Math.max(0.0015, meanDelta * 0.01);

/** Whether sorted presentation times are spaced unevenly beyond rounding (1 ms in Matroska). */
export function variableSpacing(sortedTimes: readonly number[]): boolean {
  const n = sortedTimes.length;
  if (n < 3) return false;
  const mean = (sortedTimes[n - 1]! - sortedTimes[0]!) / (n - 1);
  for (let i = 1; i < n; i++) {
    if (Math.abs(sortedTimes[i]! - sortedTimes[i - 1]! - mean) > spacingTolerance(mean)) return true;
  }
  return false;
}

/**
 * Reads ffprobe's JSON (`-show_format -show_streams`) and the video stream's packet presentation
 * times in seconds (any order; absent: `nb_read_packets` counts frames and the declared and
 * average rates decide whether the rate varies) into a VideoInfo, refusing anything that is not
 * a single-video-stream file in a supported container.
 */
export function parseProbe(json: ProbeJson, packetTimes?: readonly number[]): VideoInfo {
  const streams = json.streams ?? [];
  // Cover art is not video.
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const audio = streams.filter((s) => s.codec_type === 'audio');
  const container = containerOf(
    json.format?.format_name ?? '',
    video?.codec_name ?? '',
    audio.map((a) => a.codec_name ?? ''),
    json.format?.tags?.major_brand ?? '',
  );
  if (!video || !container) {
    throw new NestorError(
      'E_UNSUPPORTED_MEDIA',
      'The input is not a video in a supported container (MP4, MOV, MKV, WebM)',
    );
  }
  const rotationRaw =
    video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? Number(video.tags?.rotate ?? 0);
  const rotation = (((Math.round(rotationRaw / 90) * 90) % 360) + 360) % 360;
  const coded = { width: video.width ?? 0, height: video.height ?? 0 };
  const quarter = rotation === 90 || rotation === 270;
  const durationS = Number(video.duration ?? json.format?.duration ?? Number.NaN);
  const frames = packetTimes?.length ?? Number(video.nb_read_packets ?? video.nb_frames ?? Number.NaN);
  if (!(coded.width > 0 && coded.height > 0) || !(durationS > 0) || !(frames > 0)) {
    throw new NestorError('E_DECODE', 'The video has no readable frames, size or duration');
  }
  const declared = parseRate(video.r_frame_rate);
  const times = packetTimes?.every(Number.isFinite) ? [...packetTimes].sort((a, b) => a - b) : undefined;
  const measured =
    times && times.length >= 2
      ? (times.length - 1) / (times[times.length - 1]! - times[0]!)
      : rateValue(parseRate(video.avg_frame_rate) ?? toRational(frames / durationS));
  const agrees =
    declared !== undefined &&
    Number.isFinite(measured) &&
    Math.abs(rateValue(declared) - measured) / measured <= 0.01;
  // Without timestamps, declared and average rates that disagree mean uneven spacing.
  const variableFrameRate = times ? variableSpacing(times) : !agrees;
  const frameRate = variableFrameRate
    ? toRational(frames / durationS)
    : agrees
      ? declared
      : toRational(Number.isFinite(measured) ? measured : frames / durationS);
  const start = Number(json.format?.start_time ?? 0);
  const origin = Number.isFinite(start) ? start : 0;
  return {
    container,
    width: quarter ? coded.height : coded.width,
    height: quarter ? coded.width : coded.height,
    rotation,
    frameRate,
    variableFrameRate,
    ...(variableFrameRate && times ? { frameTimes: times.map((t) => t - origin) } : {}),
    durationMs: Math.round(durationS * 1000),
    frames,
    videoCodec: video.codec_name ?? 'unknown',
    audioStreams: audio.length,
  };
}

function ffprobe(args: readonly string[]): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    execFile('ffprobe', ['-v', 'error', ...args], { maxBuffer: 64 * 1024 * 1024 }, (error, out) => {
      if (!error) resolve(out);
      else if ((error as NodeJS.ErrnoException).code === 'ENOENT') reject(toolMissing(error));
      else
        reject(new NestorError('E_UNSUPPORTED_MEDIA', 'The input is not a readable video', { cause: error }));
    });
  });
}

/**
 * Runs ffprobe on a file, twice at once: the headers, and one pass over the video stream's
 * packets (their count and presentation times: the read of the file that counting them took).
 */
export async function probeVideo(file: string): Promise<VideoInfo> {
  const [headers, csv] = await Promise.all([
    ffprobe(['-print_format', 'json', '-show_format', '-show_streams', file]),
    // `V`: video that is not cover art, the stream parseProbe picks.
    ffprobe(['-select_streams', 'V:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', file]),
  ]);
  const json = JSON.parse(headers) as ProbeJson;
  const times = shownPacketTimes(csv);
  return parseProbe(json, times.length > 0 ? times : undefined);
}

/**
 * Presentation times of the packets a decoder outputs, from ffprobe's `pts_time,flags` CSV lines:
 * packets flagged `D` (before an edit list's start, e.g. a clip cut without re-encoding) are
 * decoded but never shown, so they are neither frames nor frame times. "N/A" (no timestamp) is NaN.
 */
export function shownPacketTimes(csv: string): number[] {
  return csv
    .split('\n')
    .map((line) => line.trim().split(','))
    .filter(([time, flags]) => time !== '' && !flags?.includes('D'))
    .map(([time]) => Number.parseFloat(time!));
}

export function toolMissing(cause: unknown): NestorError {
  return new NestorError('E_VIDEO_UNAVAILABLE', undefined, { cause });
}
