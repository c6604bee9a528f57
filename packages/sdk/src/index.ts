/** The contract shared with the server, re-exported so callers need one import. */
export {
  type Detection,
  type DetectionResult,
  type ErrorCode,
  type FrameDetection,
  type FrameDetections,
  isNestorError,
  NestorError,
  type ProcessOptions,
  type Progress,
  type Timings,
  type TrackSummary,
} from '@nestor/core';
/** The client of the Nestor REST API. */
export {
  type AnonymizedImage,
  type AnonymizeJsonResult,
  type AppConfig,
  type ClientOptions,
  createClient,
  type ImageInput,
  type JobOptions,
  type ModelInfo,
  type NestorClient,
  type ProcessCallOptions,
  type ReadyStatus,
  type RequestOptions,
} from './client.ts';
/** Jobs: their status, results and the wait for them. */
export type {
  BatchDetections,
  JobOutput,
  JobResult,
  JobStatus,
  VideoDetections,
  WaitForJobOptions,
} from './jobs.ts';
/** Retries and their backoff. */
export type { RetryOptions } from './retry.ts';
/** Aborts, timeouts and the clock. */
export { isAbortError, type Timing } from './timing.ts';
/** Options of a single call. */
export type { CallOptions, HttpMethod } from './transport.ts';
