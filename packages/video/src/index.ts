/** Video anonymization: ffprobe/ffmpeg through pipes, detection every Nth frame, tracking. */
export {
  anonymizeVideo,
  type FrameDetection,
  type FramePipeline,
  type VideoJob,
  type VideoProgress,
  type VideoResult,
  type VideoSettings,
} from './anonymize-video.ts';
export {
  createEncoder,
  decodeFrames,
  type EncoderSettings,
  encoderArgs,
  type FrameEncoder,
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
} from './probe.ts';
export { evenRect, type PixelRect, writeRgbChanges, type YuvLayout, yuvLayout, yuvToRgb } from './yuv.ts';
