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
  format?: { format_name?: string; duration?: string; tags?: Record<string, string> };
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

/**
 * Reads ffprobe's JSON (`-show_format -show_streams -count_packets`) into a VideoInfo, refusing
 * anything that is not a single-video-stream file in a supported container.
 */
export function parseProbe(json: ProbeJson): VideoInfo {
  const streams = json.streams ?? [];
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
  const frames = Number(video.nb_read_packets ?? video.nb_frames ?? Number.NaN);
  if (!(coded.width > 0 && coded.height > 0) || !(durationS > 0) || !(frames > 0)) {
    throw new NestorError('E_DECODE', 'The video has no readable frames, size or duration');
  }
  const declared = parseRate(video.r_frame_rate);
  const average = parseRate(video.avg_frame_rate) ?? toRational(frames / durationS);
  // Declared and average rates that disagree mean timestamps are not evenly spaced.
  const variableFrameRate =
    !declared || Math.abs(rateValue(declared) - rateValue(average)) / rateValue(average) > 0.01;
  const frameRate = variableFrameRate ? toRational(frames / durationS) : declared;
  return {
    container,
    width: quarter ? coded.height : coded.width,
    height: quarter ? coded.width : coded.height,
    rotation,
    frameRate,
    variableFrameRate,
    durationMs: Math.round(durationS * 1000),
    frames,
    videoCodec: video.codec_name ?? 'unknown',
    audioStreams: audio.length,
  };
}

/** Runs ffprobe on a file. */
export async function probeVideo(file: string): Promise<VideoInfo> {
  const args = [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    '-count_packets',
    file,
  ];
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('ffprobe', args, { maxBuffer: 8 * 1024 * 1024 }, (error, out) => {
      if (!error) resolve(out);
      else if ((error as NodeJS.ErrnoException).code === 'ENOENT') reject(toolMissing(error));
      else
        reject(new NestorError('E_UNSUPPORTED_MEDIA', 'The input is not a readable video', { cause: error }));
    });
  });
  return parseProbe(JSON.parse(stdout) as ProbeJson);
}

export function toolMissing(cause: unknown): NestorError {
  return new NestorError('E_VIDEO_UNAVAILABLE', undefined, { cause });
}
