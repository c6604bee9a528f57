/** The contract shared with the server, re-exported so callers need one import. */
export {
  type Detection,
  type DetectionResult,
  type ErrorCode,
  isNestorError,
  NestorError,
  type ProcessOptions,
  type Timings,
} from '@nestor/core';
/** The client of the Nestor REST API. */
export {
  type AnonymizedImage,
  type AnonymizeJsonResult,
  type AppConfig,
  type BatchDetections,
  type ClientOptions,
  createClient,
  type FrameDetection,
  type HttpMethod,
  type ImageInput,
  type JobOptions,
  type JobResult,
  type JobStatus,
  type ModelInfo,
  type NestorClient,
  type ReadyStatus,
  type RequestOptions,
  type VideoDetections,
} from './client.ts';
