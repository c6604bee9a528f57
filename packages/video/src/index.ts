/** Video anonymization: ffprobe/ffmpeg through pipes, detection every Nth frame, tracking. */
export type { FrameDetection } from '@nestor/core';
export {
  anonymizeVideo,
  type FramePipeline,
  type VideoJob,
  type VideoProgress,
  type VideoResult,
  type VideoSettings,
  type VideoTimestamps,
} from './anonymize-video.ts';
export {
  createEncoder,
  createTimestampedEncoder,
  decodeFrames,
  type EncoderSettings,
  encoderArgs,
  type FrameEncoder,
  mkvmergeAvailable,
  timestampsV2,
} from './ffmpeg.ts';
export {
  type ProbeJson,
  parseProbe,
  probeVideo,
  type Rational,
  VIDEO_CONTAINERS,
  VIDEO_EXTENSIONS,
  VIDEO_MIME_TYPES,
  type VideoContainer,
  type VideoInfo,
  variableSpacing,
} from './probe.ts';
export { evenRect, type PixelRect, writeRgbChanges, type YuvLayout, yuvLayout, yuvToRgb } from './yuv.ts';
